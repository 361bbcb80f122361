"""Developer tools (``python -m``): the benchmarks and the model experiments."""
