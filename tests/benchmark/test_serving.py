"""The serving load benchmark at tiny sizes: a real ``mlflow models serve``, real clients."""

from __future__ import annotations

import argparse

import pytest

from sketch_to_photo.benchmark import serving


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    serving.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_quick_load_against_a_real_server_reports_rates_latencies_and_memory():
    (row,) = serving.run(_args("--serving-quick"))
    values = row.values
    assert row.case == "2 clients" and values["errors"] == 0
    assert values["requests"] >= 2 and values["requests_per_s"] > 0
    assert 0 < values["p50_ms"] <= values["p95_ms"]
    assert 0 < values["rss_start_mb"] <= values["rss_max_mb"]


def test_a_model_from_elsewhere_needs_its_store():
    with pytest.raises(ValueError, match="needs --serving-tracking-uri"):
        serving.run(_args("--serving-quick", "--serving-model", "models:/x/1"))
