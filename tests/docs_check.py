"""Check what the README and ``docs/*.md`` tell a user to run, and where they link, against the
project: used by ``tests/test_docs_commands.py``, pointed at the project or at a planted copy.

Read from the Markdown: the commands of every fenced ``bash`` / ``sh`` / ``shell`` / ``console``
block (a block whose lines start with ``$ `` is a session: only those lines are commands) and
of inline code spans that start with a command (``kedro run ...``, ``python -m ...``,
``.venv/bin/...``); every relative link and image.

Checked without running anything (:func:`check_docs`):

- in each block, every ``kedro run`` in order: each free input of the pipelines it runs is
  made by a run earlier in the same block, is raw data no pipeline makes, or is in
  :data:`READ_WITHOUT_MAKING` with its reason;
- every ``--pipelines`` / ``--pipeline`` name and ``--nodes`` name exists, every ``--env X`` has
  ``conf/X``, every ``--params`` key is a parameter of that environment (or a runtime parameter
  the catalog reads) and the merged values pass the project's own parameter check;
- every ``python -m module`` can be found, every ``.venv/bin/<tool>`` is installed in the
  virtualenv by a package, every project path a command names exists (``data/...``: or is a
  catalog dataset's path, made by a run);
- every relative link and image resolves, with its ``#anchor`` among the target's headings.

Running (:func:`help_problems`): ``--help`` of every documented project CLI, in a fresh copy of
the project, and every option the docs give it is in that help.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import distributions, entry_points
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import yaml

SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
# Programs an inline code span may start with to count as a command.
COMMAND_STARTS = (
    "kedro ",
    "python -m ",
    "python3 -m ",
    "mlflow ",
    "streamlit ",
    "sketch-to-photo ",
    ".venv/bin/",
)
PYTHONS = {"python", "python3", ".venv/bin/python", ".venv/bin/python3"}
# Programs with sub-commands: the leading plain words after them name the sub-command.
# (sketch-to-photo: the project's own console script, whose commands are named the same way)
SUBCOMMAND_PROGRAMS = {"kedro", "mlflow", "streamlit", "jupyter", "pip", "sketch-to-photo"}
SEPARATORS = {"&&", "||", ";", "|", "&"}

# Datasets a block may read without making them, per document, and why. Keep it short: each
# entry is a place where the docs rely on something the block itself does not do.
READ_WITHOUT_MAKING: dict[tuple[str, str], str] = {
    **{
        ("docs/scaling.md", name): "the two-machine walk-through has a block per machine and "
        "step: step 1 makes data/05_model_input on gpu-a and copies it to gpu-b"
        for name in ("pair_shards", "pairs_manifest", "edge_map_shards")
    },
    **{
        ("docs/scaling.md", name): "the two-machine walk-through: its last block evaluates "
        "the generator that the blocks of step 2 trained on both machines"
        for name in ("generator", "training_history")
    },
    **{
        ("docs/command_line.md", name): "shows the message a run on a fresh project stops with "
        "when an earlier pipeline's output is missing: the run is meant to fail"
        for name in (
            "generator",
            "pair_shards",
            "pairs_manifest",
            "sketch_classifier",
            "training_history",
        )
    },
}
# Datasets no pipeline saves, which are there only once another dataset was saved: the served
# model is loaded from the MLflow registry, where the run that saved its registration put it.
MADE_WITH: dict[str, str] = {"service_model": "service_registration"}
# Paths a user creates (not in git): the docs name them as places to put things.
USER_PATHS = ("conf/local/",)


@dataclass(frozen=True)
class Problem:
    doc: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Command:
    doc: str
    line: int
    argv: tuple[str, ...]
    block: int | None  # which fenced block of the document; None for an inline span


@dataclass
class Project:
    """What the commands are checked against: the registered pipelines (from the installed
    package) and the configuration, catalog and files of ``root``."""

    root: Path
    pipelines: dict[str, Any] = field(init=False)
    catalog: dict[str, dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.pipelines = registered_pipelines()
        self.catalog = {}
        for path in sorted((self.root / "conf" / "base").glob("catalog*.yml")):
            self.catalog.update(yaml.safe_load(path.read_text()) or {})

    @property
    def node_names(self) -> set[str]:
        return {node.name for pipeline in self.pipelines.values() for node in pipeline.nodes}

    def persisted(self, names: Iterable[str]) -> set[str]:
        """The datasets among ``names`` that outlive a run (in the catalog, not in memory),
        with their other transcoded views (``segmentation_grid@figure`` -> ``@image``)."""
        kept = set()
        for name in names:
            entry = self.catalog.get(name)
            if entry is None or entry.get("type") == "MemoryDataset":
                continue
            base = name.split("@")[0]
            kept |= {other for other in self.catalog if other.split("@")[0] == base}
        return kept

    def raw_inputs(self) -> set[str]:
        """Catalog datasets that no pipeline saves (the user's sketches folder)."""
        made = set().union(*(p.all_outputs() for p in self.pipelines.values()))
        return {name for name in self.catalog if name not in made and name not in MADE_WITH}

    def data_paths(self) -> list[str]:
        """The ``data/...`` paths of the catalog's datasets (their files or folders)."""
        found = []
        for entry in self.catalog.values():
            for value in _walk_values(entry):
                if isinstance(value, str) and value.startswith("data/"):
                    found.append(value.rstrip("/"))
        return found


def _walk_values(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk_values(item)
    else:
        yield value


@cache
def registered_pipelines() -> dict[str, Any]:
    from kedro.framework.project import configure_project  # noqa: PLC0415 - slow, on use

    configure_project("sketch_to_photo")  # find_pipelines needs the package configured
    from sketch_to_photo.pipeline_registry import register_pipelines  # noqa: PLC0415

    return register_pipelines()


# ---- reading the Markdown ------------------------------------------------------------------

FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")


def doc_files(root: Path) -> list[str]:
    """The README and the pages under docs/, relative to ``root``."""
    return ["README.md"] + sorted(
        p.relative_to(root).as_posix() for p in (root / "docs").glob("*.md")
    )


def fenced_blocks(text: str) -> Iterator[tuple[int, str, list[str]]]:
    """(line number of the first line inside, language, lines) of every fenced block."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence, language = opening.group(2), opening.group(3).lower()
        start = index + 1
        end = start
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        yield start + 1, language, lines[start:end]
        index = end + 1


def prose(text: str) -> str:
    """``text`` with its fenced blocks blanked (line numbers kept)."""
    lines = text.splitlines()
    for start, _, block in fenced_blocks(text):
        for offset in range(-1, len(block) + 1):
            if 0 <= start - 1 + offset < len(lines):
                lines[start - 1 + offset] = ""
    return "\n".join(lines)


def _logical_lines(lines: list[str], first_line: int) -> Iterator[tuple[int, str]]:
    """Shell lines joined over ``\\`` continuations and open quotes, with their line number."""
    pending, start = "", first_line
    for number, line in enumerate(lines, first_line):
        if not pending:
            start = number
        pending = f"{pending} {line}" if pending else line
        if pending.endswith("\\"):
            pending = pending[:-1]
            continue
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # a quote still open: the command goes on on the next line
            continue
        yield start, pending
        pending = ""
    if pending:
        yield start, pending


def split_commands(line: str) -> list[list[str]]:
    """The simple commands of one shell line (``a && b; c | d``), comments dropped."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in SEPARATORS:
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def block_commands(doc: str, block: int, first_line: int, lines: list[str]) -> list[Command]:
    session = any(line.lstrip().startswith("$ ") for line in lines)
    if session:  # a console session: the prompts' lines (and their continuations) only
        kept, going_on = [], False
        for line in lines:
            stripped = line.lstrip()
            if stripped.startswith("$ ") or going_on:
                kept.append(stripped[2:] if stripped.startswith("$ ") else line)
                going_on = line.rstrip().endswith("\\")
            else:
                kept.append("")
        lines = kept
    commands = []
    for number, line in _logical_lines(lines, first_line):
        for argv in split_commands(line):
            commands.append(Command(doc, number, tuple(argv), block))
    return commands


def inline_commands(doc: str, text: str) -> list[Command]:
    """Code spans of the prose that are commands (``kedro run --env cpu_real``)."""
    commands = []
    body = prose(text)
    for match in re.finditer(r"(?<!`)`([^`]+)`(?!`)", body):
        span = " ".join(match.group(1).split())
        if not span.startswith(COMMAND_STARTS) or span.endswith("/"):  # `.venv/bin/`: a folder
            continue
        line = body.count("\n", 0, match.start()) + 1
        try:
            parts = split_commands(span)
        except ValueError:
            continue
        commands.extend(Command(doc, line, tuple(argv), None) for argv in parts)
    return commands


def commands_of(root: Path, doc: str) -> list[Command]:
    text = (root / doc).read_text()
    commands = []
    for block, (start, language, lines) in enumerate(fenced_blocks(text)):
        if language in SHELL_LANGUAGES:
            commands.extend(block_commands(doc, block, start, lines))
    return commands + inline_commands(doc, text)


# ---- what a command is -----------------------------------------------------------------------


def program_and_args(argv: tuple[str, ...]) -> tuple[str, list[str], list[str]]:
    """(program, sub-command words, arguments); ``python -m mod`` gives ``mod`` as program
    with the prefix ``python -m``."""
    words = list(argv)
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        words.pop(0)  # VAR=value before the program
    if not words:
        return "", [], []
    program, rest = words[0], words[1:]
    if program in PYTHONS and len(rest) >= 2 and rest[0] == "-m":
        return f"{program} -m {rest[1]}", [], rest[2:]
    tool = program.removeprefix(".venv/bin/")
    sub: list[str] = []
    if tool in SUBCOMMAND_PROGRAMS:
        while rest and re.fullmatch(r"[a-z][a-z0-9-]*", rest[0]):
            sub.append(rest.pop(0))
        if tool == "sketch-to-photo" and not sub and rest and rest[0] not in ("-h", "--help"):
            sub = ["run"]  # options without a command word go to `kedro run` (__main__.py)
    return program, sub, rest


def option_values(args: list[str], *names: str) -> list[str]:
    """Values of ``--name value`` and ``--name=value`` among ``args``."""
    found = []
    for index, arg in enumerate(args):
        for name in names:
            if arg == name and index + 1 < len(args):
                found.append(args[index + 1])
            elif arg.startswith(f"{name}="):
                found.append(arg[len(name) + 1 :])
    return found


def is_kedro_run(program: str, sub: list[str]) -> bool:
    return program.removeprefix(".venv/bin/") == "kedro" and sub[:1] == ["run"]


def pipelines_of(args: list[str]) -> list[str]:
    names = []
    for value in option_values(args, "--pipelines", "--pipeline", "-p"):
        names += [name.strip() for name in value.split(",") if name.strip()]
    return names or ["__default__"]


# ---- the static checks -----------------------------------------------------------------------


def check_docs(root: Path, docs: Iterable[str] | None = None) -> list[Problem]:
    """Every problem of the commands and links of ``docs`` (default: all) under ``root``."""
    docs = list(docs) if docs is not None else doc_files(root)
    return check_commands(root, docs) + [p for doc in docs for p in check_links(root, doc)]


def check_commands(root: Path, docs: Iterable[str]) -> list[Problem]:
    """What is wrong with the commands of ``docs``, checked without running them."""
    project = Project(root)
    problems = []
    for doc in docs:
        commands = commands_of(root, doc)
        problems += _check_sequences(project, doc, commands)
        for command in commands:
            problems += _check_command(project, command)
    return problems


def _check_sequences(project: Project, doc: str, commands: list[Command]) -> list[Problem]:
    """In each block, every ``kedro run`` reads only what exists when it runs."""
    problems = []
    blocks = sorted({c.block for c in commands if c.block is not None})
    for block in blocks:
        available = project.raw_inputs()
        for command in (c for c in commands if c.block == block):
            program, sub, args = program_and_args(command.argv)
            if not is_kedro_run(program, sub):
                continue
            names = [n for n in pipelines_of(args) if n in project.pipelines]
            if not names:
                continue
            pipeline = sum((project.pipelines[n] for n in names), start=_empty_pipeline())
            missing = [
                dataset
                for dataset in sorted(pipeline.inputs())
                if not dataset.startswith("params:")
                and dataset != "parameters"
                and dataset not in available
                and (doc, dataset) not in READ_WITHOUT_MAKING
            ]
            if missing:
                needed = sorted({m for dataset in missing for m in makers(project, dataset)})
                problems.append(
                    Problem(
                        doc,
                        command.line,
                        f"`{' '.join(command.argv)}` reads {', '.join(missing)}, which no "
                        f"`kedro run` before it in this block makes (first run: "
                        f"{', '.join(needed) or 'nothing makes it'})",
                    )
                )
            made = project.persisted(pipeline.all_outputs())
            available |= made | {later for later, needs in MADE_WITH.items() if needs in made}
    return problems


def _empty_pipeline() -> Any:
    from kedro.pipeline import Pipeline  # noqa: PLC0415

    return Pipeline([])


def makers(project: Project, dataset: str) -> list[str]:
    """The registered pipelines (not __default__) that save ``dataset`` (or what it needs)."""
    wanted = MADE_WITH.get(dataset, dataset)
    return sorted(
        name
        for name, pipeline in project.pipelines.items()
        if name != "__default__" and wanted in pipeline.all_outputs()
    )


def _check_command(project: Project, command: Command) -> list[Problem]:
    problems = []

    def problem(message: str) -> None:
        problems.append(Problem(command.doc, command.line, message))

    program, sub, args = program_and_args(command.argv)
    shown = " ".join(command.argv)
    if program.startswith(".venv/bin/"):
        tool = program.split(" ")[0].removeprefix(".venv/bin/")
        if tool not in installed_tools():
            problem(f"`.venv/bin/{tool}` is not a program any installed package puts there")
    if " -m " in program:
        module = program.split(" -m ")[1]
        if not _module_found(project.root, module):
            problem(f"`{shown}`: no module `{module}`")
    for path in _project_paths(project.root, args):
        if not _path_exists(project, path):
            problem(f"`{shown}` names `{path}`, which does not exist")
    if is_kedro_run(program, sub):
        problems += [
            Problem(command.doc, command.line, m) for m in kedro_run_problems(project, args)
        ]
    return problems


def kedro_run_problems(project: Project, args: list[str]) -> list[str]:
    """What is wrong with one ``kedro run``'s pipelines, nodes, environment and ``--params``."""
    problems = []
    for name in pipelines_of(args):
        if name not in project.pipelines:
            problems.append(
                f"no pipeline `{name}` (registered: {', '.join(sorted(project.pipelines))})"
            )
    for value in option_values(args, "--nodes", "-n", "--from-nodes", "--to-nodes"):
        for name in filter(None, (n.strip() for n in value.split(","))):
            if name not in project.node_names:
                problems.append(f"no node `{name}`")
    envs = option_values(args, "--env", "-e")
    env = envs[-1] if envs else "local"
    if envs and not (project.root / "conf" / env).is_dir():
        problems.append(f"`--env {env}`: there is no conf/{env}")
        return problems
    for value in option_values(args, "--params"):
        problems += params_problems(project.root, env, value)
    return problems


def params_problems(root: Path, env: str, value: str) -> list[str]:
    """Each ``--params`` key must be a parameter of ``env`` (or a runtime parameter the
    catalog reads), and the merged parameters must pass the project's check."""
    from kedro.config import OmegaConfigLoader  # noqa: PLC0415
    from kedro.framework.cli.utils import _split_params  # noqa: PLC0415 - kedro run's parser

    from sketch_to_photo.parameter_models import ParameterError, validate_parameters  # noqa: PLC0415
    from sketch_to_photo.settings import CONFIG_LOADER_ARGS  # noqa: PLC0415

    # a placeholder (`<sample>`, `...`) stands for a value: check its key, not the value
    placeholder = re.compile(r"<[^>]*>|\.\.\.")
    runtime = _split_params(None, None, placeholder.sub("placeholder", value))
    conf = str(root / "conf")
    base = OmegaConfigLoader(conf, env=env, **CONFIG_LOADER_ARGS)["parameters"]
    catalog_keys = set(
        re.findall(
            r"\$\{runtime_params:\s*([\w.]+)",
            (root / "conf" / "base").joinpath("catalog.yml").read_text(),
        )
    )
    problems = []
    for key in _dotted_keys(runtime):
        if key in catalog_keys:
            continue
        node: Any = base
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                problems.append(f"`--params {value}`: `{key}` is not a parameter of {env}")
                break
            node = node[part]
    if problems or placeholder.search(value):
        return problems
    merged = OmegaConfigLoader(conf, env=env, runtime_params=runtime, **CONFIG_LOADER_ARGS)
    try:
        validate_parameters(merged["parameters"])
    except ParameterError as error:
        problems.append(f"`--params {value}` with --env {env}: {error}")
    return problems


def _dotted_keys(tree: dict[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            keys += _dotted_keys(value, f"{prefix}{key}.")
        else:
            keys.append(f"{prefix}{key}")
    return keys


@cache
def installed_tools() -> frozenset[str]:
    """Programs installed packages put in the virtualenv's bin/ (console scripts and the
    scripts a wheel ships, such as ruff), and Python itself: those that are there."""
    bin_dir = Path(sys.executable).parent
    names = {ep.name for ep in entry_points(group="console_scripts")}
    for dist in distributions():
        for file in dist.files or []:
            if file.parts[-2:-1] == ("bin",):
                names.add(file.name)
    names |= {"python", "python3"}
    return frozenset(name for name in names if os.access(bin_dir / name, os.X_OK))


def _module_found(root: Path, module: str) -> bool:
    if module.startswith("tests."):  # the project's own test helpers, from root
        return (root / Path(*module.split("."))).with_suffix(".py").is_file()
    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _project_paths(root: Path, args: list[str]) -> list[str]:
    """Arguments that name a path in the project: a top-level entry of ``root`` first."""
    tops = {p.name for p in root.iterdir()} - {".git", ".venv"}
    paths = []
    for arg in args:
        value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
        if any(c in value for c in "<>*{}$") or value.startswith(("/", "-")):
            continue
        script = "/" not in value and value.endswith((".py", ".ipynb"))  # streamlit_app.py
        if script or ("/" in value and value.split("/")[0] in tops | {"data"}):
            paths.append(value)
    return paths


def _path_exists(project: Project, path: str) -> bool:
    if (project.root / path).exists() or path.startswith(USER_PATHS):
        return True
    clean = path.rstrip("/")  # data/...: made by a run if it is (under) a dataset's path
    return any(clean == p or clean.startswith(f"{p}/") for p in project.data_paths())


# ---- links -----------------------------------------------------------------------------------

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_SOURCE = re.compile(r"<(?:img|a)\b[^>]*?(?:src|href)=\"([^\"]+)\"")


def headings_anchors(text: str) -> set[str]:
    """GitHub's anchors of the document's headings."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose(text).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(1).lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def check_links(root: Path, doc: str) -> list[Problem]:
    """Every relative link and image of ``doc`` resolves; an ``#anchor`` names a heading."""
    text = (root / doc).read_text()
    body = re.sub(r"`[^`\n]*`", lambda m: " " * len(m.group(0)), prose(text))  # no code spans
    problems = []
    for match in [*LINK.finditer(body), *HTML_SOURCE.finditer(body)]:
        target = match.group(1)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, mailto:, ...
            continue
        line = body.count("\n", 0, match.start()) + 1
        path_part, _, anchor = target.partition("#")
        resolved = (root / doc).parent / path_part if path_part else root / doc
        if not resolved.exists():
            problems.append(Problem(doc, line, f"link `{target}`: no such file"))
            continue
        if anchor and resolved.suffix == ".md":
            if anchor not in headings_anchors(resolved.read_text()):
                problems.append(
                    Problem(doc, line, f"link `{target}`: no heading `#{anchor}` there")
                )
    return problems


# ---- running the CLIs' --help ------------------------------------------------------------------


def fresh_copy(root: Path, target: Path) -> Path:
    """The project's files as a clone has them (tracked and new, not ignored) in ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if listed.returncode == 0:
        for name in filter(None, listed.stdout.decode().split("\0")):
            source = root / name
            if source.is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)
    else:  # not a git checkout (a planted copy): everything but outputs and caches
        shutil.copytree(
            root,
            target,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns(".git", ".venv", "mlruns", "mlflow.db", "__pycache__"),
        )
    return target


def help_argv(command: Command) -> list[str] | None:
    """The ``--help`` invocation of a command's program, or None when it is not the project's
    (``cp``, ``curl``, ``export``: not checked)."""
    program, sub, _ = program_and_args(command.argv)
    bin_dir = Path(sys.executable).parent
    if " -m " in program:
        return [sys.executable, "-m", program.split(" -m ")[1], "--help"]
    tool = program.removeprefix(".venv/bin/")
    if program.startswith(".venv/bin/") or (bin_dir / tool).exists():
        if tool in {"python", "python3"} or not (bin_dir / tool).exists():
            return None
        return [str(bin_dir / tool), *sub, "--help"]
    return None


def run_help(argv: list[str], cwd: Path) -> tuple[int, str]:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DO_NOT_TRACK": "1",
        "KEDRO_DISABLE_TELEMETRY": "1",
        "COLUMNS": "200",  # wide help: an option and its text on one line
    }
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    return done.returncode, done.stdout + done.stderr


def help_problems(
    commands: list[Command], helps: dict[tuple[str, ...], tuple[int, str]]
) -> list[Problem]:
    """Each command's ``--help`` ran (``helps``: argv -> exit code and output) and lists every
    option the command gives."""
    problems = []
    for command in commands:
        argv = help_argv(command)
        if argv is None:
            continue
        code, output = helps[tuple(argv)]
        shown = " ".join(command.argv)
        if code != 0:
            tail = " | ".join(output.strip().splitlines()[-3:])
            problems.append(
                Problem(command.doc, command.line, f"`{shown}`: `--help` failed ({code}): {tail}")
            )
            continue
        _, _, args = program_and_args(command.argv)
        for arg in args:
            option = arg.split("=", 1)[0]
            if not re.fullmatch(r"--?[A-Za-z][\w-]*", option):
                continue
            if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", output):
                problems.append(
                    Problem(
                        command.doc, command.line, f"`{shown}`: no option `{option}` in its --help"
                    )
                )
    return problems
