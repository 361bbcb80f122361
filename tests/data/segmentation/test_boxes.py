"""Where the object is: the sketches' ink boxes, their median, GrabCut's rectangle."""

import numpy as np
import pytest

from sketch_to_photo.data.segmentation.boxes import init_rectangle, ink_box, sketch_extent
from sketch_to_photo.data.segmentation.config import SegmentationConfig


def test_init_rectangle_keeps_a_background_border():
    config = SegmentationConfig()
    assert init_rectangle((100, 200), (0, 0, 200, 100), config) == (1, 1, 198, 98)
    assert init_rectangle((100, 100), (40, 40, 20, 20), config, padding=0.1) == (27, 27, 46, 46)
    x, y, w, h = init_rectangle((100, 100), None, config)
    assert (x, y) == (4, 4) and (w, h) == (92, 92)
    with pytest.raises(ValueError, match="no object area"):
        init_rectangle((100, 100), (150, 150, 10, 10), config)


def test_ink_box_and_median_sketch_extent():
    sketch = np.full((64, 64, 3), 255, np.uint8)
    assert ink_box(sketch) is None
    sketch[10:20, 30:34] = (230, 230, 230)  # faint anti-aliasing grey is not ink
    assert ink_box(sketch) is None
    sketch[12:40, 8:50] = 0
    assert ink_box(sketch) == (8, 12, 42, 28)
    # One sketch drawn much larger does not move the median edges of three.
    boxes = [(10, 10, 40, 40), (12, 8, 40, 44), (0, 0, 100, 100)]
    assert sketch_extent(boxes) == (10, 8, 42, 44)  # edges 10, 8, 52, 52
    assert sketch_extent([]) is None
