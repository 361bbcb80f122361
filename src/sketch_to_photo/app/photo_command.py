"""``sketch-to-photo photo SKETCH``: one sketch file in, one photo file out.

The demo's path without the page: the project's MLflow store (``conf/<env>/mlflow.yml``, as
``kedro run`` writes to it), the registered generator (``champion`` unless told otherwise),
the sketch classifier's guess when a class-aware generator is given no category, and the
project's one preprocessing path (:func:`sketch_to_photo.prediction.preprocessing.read_sketch`). The
input is checked before TensorFlow and MLflow are imported, so a wrong file fails at once.

(Not ``cli.py``: Kedro reads a project's ``<package>/cli.py`` as its own command-line
extension, and ``kedro run`` would then look for its ``run`` command there.)
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from sketch_to_photo.prediction.photograph import display_name
from sketch_to_photo.prediction.preprocessing import SketchInputError, read_sketch

if TYPE_CHECKING:
    from sketch_to_photo.app.registered_models import MlflowStore, ModelVersion
    from sketch_to_photo.prediction.photograph import Result

PROG = "sketch-to-photo photo"


class CommandError(Exception):
    """A problem the user can fix: the message says what is wrong and what to do."""


def photo_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Turn one sketch into a photo with the registered generator "
        "(the champion of the project's MLflow store unless --model says otherwise).",
        epilog="Run it from the project folder, after `kedro run` has registered a model. "
        "docs/command_line.md has examples.",
    )
    parser.add_argument("sketch", type=Path, help="the sketch: a PNG or JPEG file, any size")
    parser.add_argument(
        "-o", "--output", type=Path, default=None, metavar="PHOTO",
        help="where to write the photo (.png, .jpg, ...); default: <sketch name>_photo.png "
        "in the current folder",
    )  # fmt: skip
    parser.add_argument(
        "--category", default=None, metavar="NAME",
        help="what the sketch shows, a category name of the model (e.g. ant); a class-aware "
        "generator draws it. Without it, the sketch classifier's guess",
    )  # fmt: skip
    parser.add_argument(
        "--model", "--model-uri", dest="model", default=None, metavar="VERSION",
        help="the generator version: an alias (default: champion), a version number, or "
        "models:/<name>/<version> or models:/<name>@<alias>",
    )  # fmt: skip
    parser.add_argument(
        "--tracking-uri", default=None, metavar="URI",
        help="the MLflow store (e.g. sqlite:////path/to/mlflow.db or http://host:5000); "
        "default: the project's, from conf/<env>/mlflow.yml",
    )  # fmt: skip
    parser.add_argument(
        "--env", default=None, metavar="ENV",
        help="the project's configuration environment that names the store (as kedro run "
        "--env); default: Kedro's (local over base)",
    )  # fmt: skip
    return parser


def main(argv: list[str]) -> int:
    """Parse ``argv`` (the words after ``photo``), write the photo; 0, or 1 with a message."""
    args = photo_parser().parse_args(argv)
    try:
        output = args.output or Path(f"{args.sketch.stem}_photo.png")
        sketch = check_sketch_file(args.sketch)
        check_output(output, args.sketch)
        with quiet_libraries():
            store = store_at(args.tracking_uri) if args.tracking_uri else project_store(args.env)
            made = photograph_file(sketch, output, store, args.model, args.category)
    except CommandError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    print(made.summary())
    return 0


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """Only this command's own result, warnings and errors on the terminal, not the log
    records of Kedro's session and hooks or the libraries' deprecation warnings (which Kedro
    logs). Their errors still raise. (TensorFlow's C++ start-up lines bypass both.)"""
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(logging.NOTSET)


def check_sketch_file(path: Path) -> np.ndarray:
    """The sketch as RGB, or a :class:`CommandError` naming the file and what is wrong."""
    if not path.exists():
        raise CommandError(f"{path}: no such file. Give the path of a sketch (PNG or JPEG).")
    if not path.is_file():
        raise CommandError(
            f"{path} is a folder, not a sketch file (for a folder of sketches: "
            "kedro run --pipelines inference, see docs/command_line.md)."
        )
    try:
        return read_sketch(path)
    except SketchInputError as exc:
        message = str(exc)
        raise CommandError(message if str(path) in message else f"{path}: {message}") from exc
    except OSError as exc:  # unreadable: permissions, a broken disk
        raise CommandError(f"{path}: cannot read it ({exc.strerror or exc}).") from exc


def check_output(output: Path, sketch: Path) -> None:
    """Refuse an output PIL cannot write, or one that would overwrite the sketch."""
    if output.suffix.lower() not in Image.registered_extensions():
        raise CommandError(
            f"{output}: unknown image type {output.suffix!r}; end the name with .png or .jpg."
        )
    if output.resolve() == sketch.resolve():
        raise CommandError(f"{output} is the sketch itself: write the photo to another file.")


def store_at(tracking_uri: str) -> MlflowStore:
    """A store given on the command line: tracking and registry at the same URI."""
    from sketch_to_photo.app.registered_models import MlflowStore

    return MlflowStore(tracking_uri, tracking_uri)


def project_store(env: str | None) -> MlflowStore:
    """The store of the Kedro project holding the working directory, as ``kedro run`` uses it."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project
    from kedro.utils import find_kedro_project

    from sketch_to_photo.app.registered_models import project_mlflow_store

    root = find_kedro_project(Path.cwd())
    if root is None:
        raise CommandError(
            f"{Path.cwd()} is not inside a Kedro project: run this from the project folder "
            "(where `kedro run` registered the model), or give the store with --tracking-uri "
            "(e.g. sqlite:////path/to/project/mlflow.db)."
        )
    bootstrap_project(root)
    with KedroSession.create(project_path=root, env=env) as session:
        return project_mlflow_store(session.load_context())


@dataclass(frozen=True)
class Photo:
    """What was written, by which model, with which category."""

    output: Path
    version: ModelVersion
    result: Result
    unused_category: str | None = None  # given to a generator that draws without one

    def summary(self) -> str:
        height, width = self.result.photo.shape[:2]
        aliases = f" ({', '.join(self.version.aliases)})" if self.version.aliases else ""
        result, drawn = self.result, ""
        if result.category is not None:
            probability = result.probabilities.get(result.category)
            confidence = f", {probability:.0%}" if probability is not None else ""
            drawn = (
                f"; category {display_name(result.category)} ({result.category_source}{confidence})"
            )
        if self.unused_category:
            drawn = f"; this model draws without a category ({self.unused_category!r} unused)"
        return (
            f"Wrote {self.output} ({width}x{height} pixels) with {self.version.name} "
            f"v{self.version.version}{aliases}{drawn}."
        )


def photograph_file(
    sketch: np.ndarray,
    output: Path,
    store: MlflowStore,
    model: str | None = None,
    category: str | None = None,
) -> Photo:
    """Load the generator ``model`` (default: the champion) and, when it must guess the
    category, the sketch classifier; make the photo and write it to ``output``."""
    from sketch_to_photo.app.registered_models import (
        CLASSIFIER_NAME,
        GENERATOR_NAME,
        load_registered_model,
        registered_versions,
    )
    from sketch_to_photo.mlops.model_registry import CHAMPION
    from sketch_to_photo.prediction.photograph import CategoryNeeded, sketch_to_photo

    name, selector = _model_selector(model or CHAMPION, GENERATOR_NAME)
    check_store_exists(store)
    version = choose_version(registered_versions(store, name), name, selector, store)
    if version.ineligible_reason:
        print(
            f"{PROG}: warning: {name} v{version.version} was ruled out of champion: "
            f"{version.ineligible_reason}. Expect weak photos.",
            file=sys.stderr,
        )
    generator = load_registered_model(store, version)
    classifier = None
    if generator.class_aware and category is None:  # only a guess is needed from it
        classifiers = registered_versions(store, CLASSIFIER_NAME)
        classifier = load_registered_model(store, classifiers[0]) if classifiers else None
    try:
        result = sketch_to_photo(sketch, generator, classifier, category)
    except CategoryNeeded as exc:
        raise CommandError(
            f"{exc} Give --category with one of: {', '.join(generator.categories)}."
        ) from exc
    except ValueError as exc:  # a category the model does not know: the message lists them
        raise CommandError(str(exc)) from exc
    output.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(result.photo).save(output)
    unused = category if category and not generator.class_aware else None
    return Photo(output, version, result, unused)


def _model_selector(model: str, default_name: str) -> tuple[str, str]:
    """``champion`` / ``3`` / ``models:/name/3`` / ``models:/name@alias`` -> (name, selector)."""
    text = model.strip()
    if not text.startswith("models:/"):
        if "://" in text or text.startswith("runs:/"):
            raise CommandError(
                f"--model {model!r}: give a registered model: an alias such as "
                "champion, a version number, or models:/<name>/<version>."
            )
        return default_name, text
    path = text.removeprefix("models:/")
    if "@" in path:
        name, _, alias = path.partition("@")
        return name, alias
    name, _, number = path.partition("/")
    return name, number


def check_store_exists(store: MlflowStore) -> None:
    """An SQLite store must be a file already: MLflow would create an empty one, and a
    mistyped path would then look like a store without models."""
    for uri in {store.tracking_uri, store.registry_uri}:
        if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
            raise CommandError(
                f"No MLflow store at {uri} (no such file). Run `kedro run` first in the "
                "project folder (about 10 minutes on 2 CPU cores): it trains, evaluates and "
                "registers the generator there. Or give another store with --tracking-uri."
            )


def choose_version(
    versions: list[ModelVersion], name: str, selector: str, store: MlflowStore
) -> ModelVersion:
    """The version ``selector`` names (a version number or an alias) among ``versions``."""
    if not versions:
        raise CommandError(
            f"No registered {name} model in the MLflow store {store.tracking_uri}. Run "
            "`kedro run` first in the project folder (about 10 minutes on 2 CPU cores): it "
            "trains, evaluates and registers the generator."
        )
    found = [
        v
        for v in versions
        if (str(v.version) == selector if selector.isdigit() else selector in v.aliases)
    ]
    if found:
        return found[0]
    wanted = f"version {selector}" if selector.isdigit() else f"version with the alias {selector!r}"
    listed = ", ".join(
        f"v{v.version}" + (f" ({', '.join(v.aliases)})" if v.aliases else "") for v in versions
    )
    raise CommandError(
        f"{name} has no {wanted} in the MLflow store {store.tracking_uri}; its versions: "
        f"{listed}. Pick one with --model <version>, or run `kedro run` to train a new one."
    )
