"""``python -m sketch_to_photo.tools.benchmark [sections] [--json FILE]``: measure and print
one table."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import platform
import sys
from datetime import date
from pathlib import Path

from sketch_to_photo.tools.benchmark.report import Row, table, to_json
from sketch_to_photo.utils.atomic import atomic_file

SECTIONS = ["ceiling", "training", "profile", "inference", "data", "streaming", "serving"]


def machine_description() -> dict[str, str]:
    return {
        "date": date.today().isoformat(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": str(os.cpu_count()),
        "python": platform.python_version(),
    }


def _show_progress() -> None:
    """The project's INFO logs (progress) on stderr, so that stdout holds only the table."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    project_logger = logging.getLogger("sketch_to_photo")
    project_logger.addHandler(handler)
    project_logger.setLevel(logging.INFO)


def _set_threads(intra_op: int, inter_op: int) -> None:
    """Thread pools must be sized before TensorFlow runs its first op, so before any section."""
    if intra_op < 0 or inter_op < 0:
        raise SystemExit("--intra-op-threads and --inter-op-threads must be 0 (default) or more")
    import tensorflow as tf  # noqa: PLC0415  (only when threads are set: keeps --help fast)

    if intra_op:
        tf.config.threading.set_intra_op_parallelism_threads(intra_op)
    if inter_op:
        tf.config.threading.set_inter_op_parallelism_threads(inter_op)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sketch_to_photo.tools.benchmark", description=__doc__
    )
    parser.add_argument(
        "sections", nargs="*", metavar="section",
        help=f"which to run, any of {', '.join(SECTIONS)} (default: all)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument(
        "--intra-op-threads", type=int, default=0,
        help="TensorFlow threads inside one op (default 0: TensorFlow's choice, one per core)",
    )  # fmt: skip
    parser.add_argument(
        "--inter-op-threads", type=int, default=0,
        help="TensorFlow ops run at once (default 0: TensorFlow's choice)",
    )  # fmt: skip
    modules = {
        name: importlib.import_module(f"sketch_to_photo.tools.benchmark.{name}")
        for name in SECTIONS
    }
    for module in modules.values():
        module.add_arguments(parser)
    args = parser.parse_args(argv)
    _show_progress()
    _set_threads(args.intra_op_threads, args.inter_op_threads)
    unknown = sorted(set(args.sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    rows: list[Row] = []
    for name in args.sections or SECTIONS:
        rows.extend(modules[name].run(args))
        print(table(rows), file=sys.stderr, flush=True)  # progress: the table so far
    print(table(rows))
    if args.json:
        with atomic_file(args.json) as tmp:
            tmp.write_text(to_json(rows, machine_description()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
