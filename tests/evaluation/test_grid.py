"""The result grid: which pairs it shows, and the picture."""

from __future__ import annotations

from sketch_to_photo.evaluation.grid import grid_picks


def test_the_result_grid_shows_one_sketch_per_photo_up_to_the_quota():
    rows = [{"category": "ant", "photo_id": "a"}, {"category": "teapot", "photo_id": "b"}]
    ids = ["a", "a", "c", "c", "d", "e", "f"]
    assert grid_picks(rows, "ant", ids, quota=4) == [2, 4, 5]  # a is shown: c, d, e
    assert grid_picks(rows, "teapot", ids, quota=2) == [0]  # b shown, one more
    assert grid_picks(rows, "ant", ids, quota=1) == []
