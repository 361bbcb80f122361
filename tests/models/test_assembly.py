"""Assembling the compiled pix2pix model from the training parameters."""

from __future__ import annotations

import pytest

from sketch_to_photo.models.assembly import resolve_jit_compile
from sketch_to_photo.models.precision import has_gpu


def test_jit_compile_auto_is_off_without_a_gpu_and_rejects_typos():
    if has_gpu():
        pytest.skip("auto turns XLA on with a GPU")
    assert resolve_jit_compile("auto") is False
    assert resolve_jit_compile(True) is True
    with pytest.raises(ValueError, match="auto, true or false"):
        resolve_jit_compile("yes")
