"""Every documented command runs: the README's and docs/*.md's shell commands and links checked
against the project (tests/docs_check.py), and the checker shown to catch planted breaks.

Point it at another copy of the docs with ``SKETCH_TO_PHOTO_DOCS_ROOT=/path/to/copy``: the
pipelines come from the installed package, everything else (Markdown, conf/, files) from there.
"""

from __future__ import annotations

import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.docs_check import (
    Command,
    check_commands,
    check_docs,
    check_links,
    commands_of,
    doc_files,
    fenced_blocks,
    fresh_copy,
    help_argv,
    help_problems,
    run_help,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DOCS_ROOT = Path(os.environ.get("SKETCH_TO_PHOTO_DOCS_ROOT", PROJECT_ROOT)).resolve()
DOCS = doc_files(DOCS_ROOT)


def _listed(problems: list) -> str:
    return "\n".join(str(p) for p in problems)


@pytest.mark.parametrize("doc", DOCS)
def test_documented_commands_fit_the_project(doc: str) -> None:
    problems = check_commands(DOCS_ROOT, [doc])
    assert not problems, _listed(problems)


@pytest.mark.parametrize("doc", DOCS)
def test_links_and_images_resolve(doc: str) -> None:
    problems = check_links(DOCS_ROOT, doc)
    assert not problems, _listed(problems)


def test_front_page_starts_with_the_two_commands() -> None:
    # CI runs the README's test command and users copy the first one: they stay these two.
    text = (DOCS_ROOT / "README.md").read_text()
    _, language, lines = next(fenced_blocks(text))
    commands = [line for line in lines if line and not line.startswith("#")]
    assert language == "bash"
    assert commands == [
        'python3 -m venv .venv && .venv/bin/pip install -e ".[dev]" && .venv/bin/kedro run',
        ".venv/bin/python -m pytest",
    ]


@pytest.fixture(scope="session")
def all_commands() -> list[Command]:
    return [c for doc in DOCS for c in commands_of(DOCS_ROOT, doc)]


@pytest.fixture(scope="session")
def helps(
    all_commands: list[Command], tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, ...], tuple[int, str]]:
    """``--help`` of every documented project CLI, run in a fresh copy of the project (a CLI
    started from the project folder may write there)."""
    copy = fresh_copy(DOCS_ROOT, tmp_path_factory.mktemp("fresh_project"))
    wanted = sorted({tuple(argv) for c in all_commands if (argv := help_argv(c))})
    with ThreadPoolExecutor(max_workers=2) as pool:  # two cores; most of it is imports
        answers = list(pool.map(lambda argv: run_help(list(argv), copy), wanted))
    return dict(zip(wanted, answers, strict=True))


def test_documented_clis_answer_help_with_their_options(
    all_commands: list[Command], helps: dict[tuple[str, ...], tuple[int, str]]
) -> None:
    ran = {
        " ".join(["python" if a[0] == sys.executable else Path(a[0]).name, *a[1:]]) for a in helps
    }
    # the project's own CLIs are among them (a parser that found no command would pass vacuously)
    own = {"kedro run --help", "python -m sketch_to_photo.tools.benchmark --help"}
    assert own <= ran, sorted(ran)
    problems = help_problems(all_commands, helps)
    assert not problems, _listed(problems)


# ---- the checker catches what it is for --------------------------------------------------------

# (document, text in it, what to plant instead, what the checker must say)
PLANTS = {
    "pipelines in the wrong order": (
        "docs/pipelines.md",
        "kedro run --pipelines data_acquisition     # put a Sketchy tree on disk\n"
        "kedro run --pipelines data_processing      # from that tree to npz shards (needs the above once)",
        "kedro run --pipelines data_processing      # from that tree to npz shards (needs the above once)\n"
        "kedro run --pipelines data_acquisition     # put a Sketchy tree on disk",
        "`kedro run --pipelines data_processing` reads sketchy_raw, which no `kedro run` before",
    ),
    "a misspelled pipeline": (
        "docs/using_the_model.md",
        "kedro run --pipelines inference\n",
        "kedro run --pipelines inferense\n",
        "no pipeline `inferense`",
    ),
    "evaluation before training": (
        "docs/training.md",
        "kedro run --pipelines training ",
        "kedro run --pipelines evaluation ",
        "`kedro run --pipelines evaluation` reads generator, sketch_classifier, training_history,",
    ),
    "an environment that does not exist": (
        "docs/real_data.md",
        "kedro run --env cpu_real  ",
        "kedro run --env cpu-real  ",
        "`--env cpu-real`: there is no conf/cpu-real",
    ),
    "a parameter that does not exist": (
        "docs/real_data.md",
        "acquisition.source=local,acquisition.local.path=/data/sketchy",
        "acquisition.source=local,acquisition.local.paht=/data/sketchy",
        "`acquisition.local.paht` is not a parameter of local",
    ),
    "a parameter value the project refuses": (
        "docs/training.md",
        '`--params="training.batch_size=8"`',
        '`kedro run --params="training.batch_size=0"`',
        "training.batch_size = 0: must be greater than 0",
    ),
    "a module that does not exist": (
        "docs/training.md",
        "python -m sketch_to_photo.tools.benchmark training inference",
        "python -m sketch_to_photo.tools.benchmarks training inference",
        "no module `sketch_to_photo.tools.benchmarks`",
    ),
    "a tool not in the virtualenv": (
        "docs/demo.md",
        ".venv/bin/streamlit run",
        ".venv/bin/streamlit-app run",
        "`.venv/bin/streamlit-app` is not a program any installed package puts there",
    ),
    "a file that does not exist": (
        "docs/demo.md",
        "streamlit run streamlit_app.py",
        "streamlit run streamlit_demo.py",
        "names `streamlit_demo.py`, which does not exist",
    ),
    "a broken image": (
        "README.md",
        "docs/images/result_grid.png",
        "docs/images/result-grid.png",
        "link `docs/images/result-grid.png`: no such file",
    ),
    "a link to a heading that does not exist": (
        "README.md",
        "(docs/training.md#results-of-the-default-run-2-cpu-cores-2026-12-04)",
        "(docs/training.md#results-of-the-default-run)",
        "no heading `#results-of-the-default-run` there",
    ),
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fresh_copy(DOCS_ROOT, tmp_path_factory.mktemp("pristine"))


@pytest.mark.parametrize("plant", PLANTS)
def test_checker_reports_a_planted_break(plant: str, pristine: Path, tmp_path: Path) -> None:
    doc, old, new, expected = PLANTS[plant]
    copy = tmp_path / "project"
    shutil.copytree(pristine, copy)
    text = (copy / doc).read_text()
    assert old in text, f"the text to break is no longer in {doc}: update PLANTS"
    (copy / doc).write_text(text.replace(old, new, 1))

    reported = [str(p) for p in check_docs(copy, [doc])]

    assert any(expected in line for line in reported), "\n".join(reported)
    assert not check_docs(pristine, [doc])  # the break, not the copy, is what is reported


def test_help_check_reports_an_option_the_cli_does_not_have(
    helps: dict[tuple[str, ...], tuple[int, str]], pristine: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "project"
    shutil.copytree(pristine, copy)
    doc = copy / "docs" / "training.md"
    text = doc.read_text()
    assert "training inference --json benchmark.json" in text
    doc.write_text(text.replace("--json benchmark.json", "--jsn benchmark.json", 1))

    reported = [str(p) for p in help_problems(commands_of(copy, "docs/training.md"), helps)]

    assert any("no option `--jsn` in its --help" in line for line in reported), reported
