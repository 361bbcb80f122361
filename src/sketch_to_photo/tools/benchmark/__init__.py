"""Benchmarks: ``python -m sketch_to_photo.tools.benchmark [section ...]`` prints one table
(and JSON).

Each section is a module here with ``add_arguments(parser)`` and ``run(args) -> list[Row]``.
"""
