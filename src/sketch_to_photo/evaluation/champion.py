"""The champion rule: may the evaluated model ever be champion (it must beat the mean photo
and, on the shape metrics, its baselines), and which metric decides against the current
champion (the champion metric, or the tie-break when the two tie on it)."""

from __future__ import annotations

from typing import Any

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from sketch_to_photo.evaluation.metric_names import LOWER_IS_BETTER, PHOTO_KID
from sketch_to_photo.evaluation.report import MUST_BEAT, better
from sketch_to_photo.mlops.model_registry import CHAMPION

# A shape model must beat these baselines on these metrics to be made champion.
CHAMPION_SHAPE_METRICS = ("stroke_recall", PHOTO_KID)
TIE = 1e-9  # two values of the champion metric closer than this are a tie


def champion_disqualification(
    report: dict[str, Any],
    metric: str,
    shape_metrics: tuple[str, ...] | list[str] = CHAMPION_SHAPE_METRICS,
) -> str | None:
    """Why the model may never be champion, or None: it must beat the constant mean photo on
    faithfulness and on the champion metric, and its baselines (:data:`MUST_BEAT`: the sketch
    copy included for photo-likeness) on ``shape_metrics`` (``evaluation.
    champion_shape_metrics``, default stroke recall and photo-likeness)."""
    reasons = []
    for name in dict.fromkeys(("faithfulness", metric.removeprefix("test_"))):
        if not better(report, name, "model", "mean_photo"):
            model = report["overall"]["model"][name]
            baseline = report["overall"]["mean_photo"][name]
            reasons.append(
                f"test_{name} {model:.4f} does not beat the mean photo's {baseline:.4f} "
                f"({'lower' if LOWER_IS_BETTER[name] else 'higher'} is better)"
            )
    for name in shape_metrics:
        if report["overall"]["model"].get(name) is None:
            continue  # a report from before the shape metrics
        for baseline in MUST_BEAT[name]:
            if report["overall"].get(baseline, {}).get(name) is None:
                continue
            if not better(report, name, "model", baseline):
                reasons.append(
                    f"test_{name} {report['overall']['model'][name]:.4f} does not beat the "
                    f"{baseline.replace('_', ' ')}'s {report['overall'][baseline][name]:.4f} "
                    f"({'lower' if LOWER_IS_BETTER[name] else 'higher'} is better)"
                )
    return "; ".join(reasons) or None


def deciding_metric(
    metric: str, tie_break: str | None, report: dict[str, Any], registered_name: str
) -> tuple[str, str]:
    """The metric ``promote_if_better`` compares for a version of ``registered_name``:
    ``metric``, or ``tie_break`` when the model ties the current champion on it. Returns
    (metric, note)."""
    if not tie_break or tie_break == metric:
        return metric, ""
    try:
        champion = MlflowClient().get_model_version_by_alias(registered_name, CHAMPION)
    except MlflowException:
        return metric, ""
    previous = MlflowClient().get_run(champion.run_id).data.metrics
    mine = report["overall"]["model"][metric.removeprefix("test_")]
    theirs = previous.get(metric)
    if theirs is not None and abs(theirs - mine) <= TIE and tie_break in previous:
        return tie_break, f"{metric} ties champion v{champion.version} at {mine:.4f}"
    return metric, ""
