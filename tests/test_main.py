"""The ``sketch-to-photo`` command: ``photo`` for one sketch, anything else is ``kedro run``."""

from __future__ import annotations

import pytest

from sketch_to_photo.__main__ import main


def test_photo_goes_to_the_photo_command(tmp_path, capsys):
    assert main(["photo", str(tmp_path / "missing.png")]) == 1
    assert "sketch-to-photo photo: error: " in capsys.readouterr().err


def test_help_lists_both_commands(capsys):
    assert main(["--help"]) == 0
    printed = capsys.readouterr().out
    assert "sketch-to-photo photo SKETCH" in printed and "sketch-to-photo [run]" in printed


@pytest.mark.parametrize("words", [["run", "--pipelines", "nope"], ["--pipelines", "nope"]])
def test_run_and_the_bare_options_are_kedro_run(project, words):
    # Kedro's own answer for an unknown pipeline: the words reached `kedro run`
    with pytest.raises(ImportError, match=r"importing the 'sketch_to_photo\.pipelines\.nope'"):
        main(words, standalone_mode=False)
