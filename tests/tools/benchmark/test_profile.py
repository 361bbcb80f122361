"""The profile section: op kinds from trace names; a tiny traced run accounts for the step."""

from __future__ import annotations

import argparse

import pytest

from sketch_to_photo.tools.benchmark import profile


@pytest.mark.parametrize(
    ("scope", "op_type", "kind"),
    [
        ("StatefulPartitionedCall/generator_1/down2_conv_1/convolution", "_MklNativeConv2D", "conv forward"),
        ("StatefulPartitionedCall/generator_1/up3_conv_1/conv_transpose", "_MklNativeConv2DBackpropInput", "conv forward"),
        ("StatefulPartitionedCall/gradient_tape/generator_1/up3_conv_1/conv_transpose/Conv2DBackpropFilter", "_MklNativeConv2DBackpropFilter", "conv backward"),
        ("StatefulPartitionedCall/adam_1/Sub_6", "Sub", "optimizer"),
        ("StatefulPartitionedCall/generator_1/down2_norm_1/moments/mean", "Mean", "normalisation"),
        ("StatefulPartitionedCall/generator_1/Cast_3", "Cast", "casts"),
        ("StatefulPartitionedCall/generator_1/down2_lrelu_1/LeakyRelu", "LeakyRelu", "other"),
    ],
)  # fmt: skip
def test_op_kinds_follow_the_trace_names(scope: str, op_type: str, kind: str) -> None:
    assert profile.op_kind(scope, op_type) == kind


def test_a_tiny_traced_run_splits_its_step_into_kinds() -> None:
    parser = argparse.ArgumentParser()
    profile.add_arguments(parser)
    args = parser.parse_args(
        ["--profile-size", "32", "--profile-filters", "8", "--profile-batch", "2",
         "--profile-steps", "3", "--profile-precision", "float32"]
    )  # fmt: skip
    step_seconds, by_kind, flops = profile.profile_step(args)
    assert set(by_kind) == set(profile.KINDS)
    assert step_seconds > 0 and flops > 0
    # Every kind the recipe has shows up: a changed trace format would leave kinds at zero.
    for kind in ("conv forward", "conv backward", "normalisation", "optimizer", "other"):
        assert by_kind[kind] > 0, kind
    # Op time cannot exceed the wall time on all inter-op threads (two here at most).
    assert sum(by_kind.values()) < step_seconds * 4
