"""Hand-made per-image scores of every system, as the test loop collects them (shared by the
report, metric-name and champion tests)."""

from __future__ import annotations

from collections import defaultdict

from sketch_to_photo.evaluation.baselines import REAL
from sketch_to_photo.evaluation.metric_names import PHOTO_KID
from sketch_to_photo.evaluation.report import beats_baselines

# stroke recall, chamfer, fill of each system (the sketch copy is perfect on the first two)
SHAPE = {
    "untrained": (0.3, 6.0, 0.9), "mean_photo": (0.2, 8.0, 0.5),
    "sketch_copy": (1.0, 0.5, 0.3), "blurred_photos": (0.4, 4.0, 0.6),
}  # fmt: skip


def _collected(
    model_l1: float, model_faithfulness: float = 0.75, model_recall: float = 0.8
) -> dict:
    collected = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for category in ("car_(sedan)", "teapot"):
        for system, l1, ssim, faithful in (
            ("model", model_l1, 0.6, model_faithfulness),
            ("untrained", 0.4, 0.4, 0.5),
            ("mean_photo", 0.15, 0.35, 0.5),
            ("sketch_copy", 0.3, 0.2, 0.5),
            ("blurred_photos", 0.05, 0.8, 1.0),
        ):
            values = collected[category][system]
            values["l1"] += [l1, l1]
            values["ssim"] += [ssim, ssim]
            values["psnr"] += [14.0 if system == "model" else 10.0] * 2
            values["perceptual"] += [0.9 if system == "model" else 1.5] * 2
            values["faithfulness"] += [faithful, faithful]
            recall, chamfer, fill = SHAPE.get(system, (model_recall, 2.0, 0.7))
            values["stroke_recall"] += [recall, float("nan")]  # a sketch without strokes: NaN
            values["chamfer"] += [chamfer, chamfer]
            values["fill"] += [fill, fill]
        real = collected[category][REAL]
        real["faithfulness"] += [1.0, 1.0]
        real["stroke_recall"] += [0.6, 0.7]
        real["chamfer"] += [3.0, 3.0]
        real["fill"] += [0.6, 0.6]
    return collected


def _with_photo_kid(report: dict, model_kid: float) -> dict:
    """The set-level photo KID, as _photo_likeness adds it."""
    for system, kid in (("model", model_kid), ("untrained", 9.0), ("mean_photo", 20.0),
                        ("sketch_copy", 30.0), ("blurred_photos", 8.0)):  # fmt: skip
        report["overall"][system][PHOTO_KID] = kid
    report["beats_baselines"] = beats_baselines(report)
    return report
