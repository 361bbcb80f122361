"""The training node hands its inputs to :func:`sketch_to_photo.models.training.train_pix2pix`
(the fit is tested in tests/models and, end to end, in test_training_run)."""

from __future__ import annotations

from sketch_to_photo.pipelines.training import nodes


def test_the_node_trains_with_the_shards_manifest_and_parameters(monkeypatch):
    calls = []
    monkeypatch.setattr(nodes, "train_pix2pix", lambda *args: calls.append(args) or ("g", {"s": 1}))
    inputs = ({"train/a-00000": None}, {}, {"categories": ["a"]}, {"epochs": 1})
    assert nodes.train_generator(*inputs) == ("g", {"s": 1}) and calls == [inputs]
