"""The ``sketch-to-photo`` command (also ``python -m sketch_to_photo``).

``sketch-to-photo photo SKETCH`` turns one sketch into a photo
(:mod:`sketch_to_photo.app.photo_command`); anything else is ``kedro run`` with the same options, as
this command always was: ``sketch-to-photo run --pipelines inference`` or, without the word ``run``,
``sketch-to-photo --pipelines inference``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

OVERVIEW = """\
usage: sketch-to-photo photo SKETCH [--category NAME] [-o PHOTO] [--model VERSION] ...
       sketch-to-photo [run] [KEDRO RUN OPTIONS]

  photo   turn one sketch into a photo with the registered generator
  run     run the project's pipelines: the same as `kedro run` (the default command)

`sketch-to-photo photo --help` and `sketch-to-photo run --help` list each command's options;
docs/command_line.md has examples.
"""


def main(argv: list[str] | None = None, **kwargs: Any) -> Any:
    """Dispatch ``argv`` (default: the command line's words) to ``photo`` or ``kedro run``."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["photo"]:
        from sketch_to_photo.app.photo_command import main as photo  # noqa: PLC0415 - no Kedro run set-up

        return photo(args[1:])
    if args[:1] in (["-h"], ["--help"]):
        print(OVERVIEW)  # noqa: T201
        return 0
    if args[:1] == ["run"]:
        args = args[1:]
    return kedro_run(args, **kwargs)


def kedro_run(args: list[str], **kwargs: Any) -> Any:
    """``kedro run`` with ``args``, for the project this package belongs to."""
    from kedro.framework.cli.utils import find_run_command  # noqa: PLC0415
    from kedro.framework.project import configure_project  # noqa: PLC0415

    package_name = Path(__file__).parent.name
    configure_project(package_name)
    interactive = hasattr(sys, "ps1")
    kwargs.setdefault("standalone_mode", not interactive)
    run = find_run_command(package_name)
    return run(args, prog_name="sketch-to-photo run", **kwargs)


if __name__ == "__main__":
    sys.exit(main())
