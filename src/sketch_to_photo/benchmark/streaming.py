"""Benchmark section ``streaming``: training input from npz shards larger than memory.

Placeholder until the measurement lands; it measures nothing yet.
"""

from __future__ import annotations

import argparse

from sketch_to_photo.benchmark.report import Row


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # options come with the measurement


def run(args: argparse.Namespace) -> list[Row]:
    del args
    return []
