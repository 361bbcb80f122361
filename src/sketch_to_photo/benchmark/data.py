"""The ``data`` section: segmentation and pair-writing rates (placeholder until measured)."""

from __future__ import annotations

import argparse

from sketch_to_photo.benchmark.report import Row


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options yet."""


def run(args: argparse.Namespace) -> list[Row]:
    return []
