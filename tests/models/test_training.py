"""What fitting pix2pix sets up: the callbacks on the chief and on the other workers (the fit
itself runs in tests/test_training_run.py and the distributed scripts of test_distribute.py)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from sketch_to_photo.models.backup import EpochBackupAndRestore
from sketch_to_photo.models.callbacks import (
    GeneratorAverage,
    GeneratorCheckpoint,
    LinearLearningRateDecay,
    MlflowMetricsLogger,
    RealShareSchedule,
    SampleGridLogger,
)
from sketch_to_photo.models.distribute import TrainingStrategy
from sketch_to_photo.models.training import training_callbacks


def _strategy(worker_index: int) -> TrainingStrategy:
    return TrainingStrategy(
        tf.distribute.get_strategy(), "multi_worker", "MultiWorkerMirroredStrategy", ("cpu",),
        worker_index=worker_index, num_workers=2,
    )  # fmt: skip


def test_the_chief_logs_and_checkpoints_while_every_worker_resumes_and_follows_the_schedules(
    tmp_path,
):
    training = {
        "epochs": 4, "learning_rate": 1e-3, "lr_schedule": "linear_decay", "generator_ema": 0.99,
        "edge_maps": {"real_share_start": 0.2, "real_share_end": 0.8},
        "sample_grid_every": 2, "sample_dir": str(tmp_path / "samples"),
        "checkpoint_every": 2, "checkpoint_dir": str(tmp_path / "checkpoints"),
    }  # fmt: skip
    samples = (np.zeros((2, 8, 8, 3), np.float32), np.zeros((2, 8, 8, 3), np.float32), None)
    share = tf.Variable(0.2)
    kinds = [
        type(c) for c in training_callbacks(training, _strategy(0), tmp_path / "b", samples, share)
    ]
    assert kinds == [
        EpochBackupAndRestore, GeneratorAverage, RealShareSchedule,
        LinearLearningRateDecay, MlflowMetricsLogger, SampleGridLogger, GeneratorCheckpoint,
    ]  # fmt: skip
    # every worker swaps in its generator's average (the variables are mirrored)
    worker = training_callbacks(
        {**training, "lr_schedule": "constant"}, _strategy(1), tmp_path / "b1", samples
    )
    assert [type(c) for c in worker] == [EpochBackupAndRestore, GeneratorAverage]
    plain = training_callbacks(
        {**training, "lr_schedule": "constant", "generator_ema": 0.0},
        _strategy(1),
        tmp_path / "b2",
        samples,
    )
    assert [type(c) for c in plain] == [EpochBackupAndRestore]
