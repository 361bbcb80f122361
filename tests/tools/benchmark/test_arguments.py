"""Every section's ``--help``: a default the help text states is the argument's real default."""

from __future__ import annotations

import argparse
import importlib
import re

import pytest

from sketch_to_photo.tools.benchmark.__main__ import SECTIONS

# "(default 4096)", "(default auto: bf16 on ...)", "(default: ../shared/sketchy_sample)"
STATED_DEFAULT = re.compile(r"\(default:? ([^):]+)[):]")
# the serving section's "(8)", "(60 s)"
STATED_NUMBER = re.compile(r"\((\d+(?:\.\d+)?)(?: s)?\)$")


def stated_defaults(section: str) -> list[tuple[str, str, object]]:
    """(option, the default its help states, its real default) for each option stating one."""
    parser = argparse.ArgumentParser()
    importlib.import_module(f"sketch_to_photo.tools.benchmark.{section}").add_arguments(parser)
    stated = []
    for action in parser._actions:  # noqa: SLF001  (argparse has no public list of them)
        match = STATED_DEFAULT.search(action.help or "") or STATED_NUMBER.search(action.help or "")
        # a default of None is described in words ("default: drawn"), not stated
        if match and action.option_strings and action.default is not None:
            stated.append((action.option_strings[0], match.group(1), action.default))
    return stated


@pytest.mark.parametrize("section", SECTIONS)
def test_the_default_a_help_text_states_is_the_real_one(section: str) -> None:
    stated = stated_defaults(section)
    wrong = []
    for option, text, default in stated:
        if isinstance(default, int | float) and not isinstance(default, bool):
            same = float(text) == float(default)
        else:
            same = text == str(default)
        if not same:
            wrong.append(f"{option}: help says {text!r}, default is {default!r}")
    assert not wrong, wrong


def test_the_help_texts_state_the_measured_defaults() -> None:
    """The check above compares something: the sizes and counts of the measurement."""
    options = {option for section in SECTIONS for option, _, _ in stated_defaults(section)}
    assert {
        "--ceiling-size", "--ceiling-repeats", "--training-size", "--training-filters",
        "--training-steps", "--training-batches", "--inference-sizes", "--inference-filters",
        "--inference-batches", "--inference-repeats", "--profile-size", "--serving-clients",
        "--serving-seconds", "--data-photos",
    } <= options  # fmt: skip
