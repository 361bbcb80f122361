"""The segmentation settings are checked when made, with what is allowed."""

import pytest

from sketch_to_photo.data.segmentation.config import SegmentationConfig
from sketch_to_photo.data.segmentation.grabcut import segment_object
from tests.data.segmentation.photos import iou, photo_with_disc


def test_invalid_config_is_explained():
    with pytest.raises(ValueError, match="min_area < max_area"):
        SegmentationConfig(min_area=0.5, max_area=0.4)
    with pytest.raises(ValueError, match="init must be one of"):
        SegmentationConfig(init="saliency")
    with pytest.raises(ValueError, match="min_box_iou must be in"):
        SegmentationConfig(min_box_iou=1.5)
    with pytest.raises(ValueError, match=r"max_frame_fill must be in \[0, 1\], got 1.2"):
        SegmentationConfig(max_frame_fill=1.2)
    with pytest.raises(ValueError, match=r"min_mask_in_box must be in \[0, 1\], got -0.1"):
        SegmentationConfig(min_mask_in_box=-0.1)


def test_fast_config_is_checked():
    with pytest.raises(ValueError, match="method must be one of"):
        SegmentationConfig(method="quick")
    with pytest.raises(ValueError, match="refine_band"):
        SegmentationConfig(method="fast", refine_band=0)
    with pytest.raises(ValueError, match="coarse_size"):
        SegmentationConfig(method="fast", coarse_size=8)
    # A coarse size above the work size just runs the coarse pass at the work size.
    photo, truth = photo_with_disc(size=96)
    result = segment_object(photo, None, SegmentationConfig(method="fast", work_size=64))
    assert iou(result.mask, truth) > 0.85
