"""Separate a photo's object from its background with OpenCV GrabCut (plain OpenCV, no Kedro).

GrabCut starts from a box around the object (:mod:`.boxes`: Sketchy's bounding box, the extent
of the photo's sketches, or a margin inside the image border), cuts the object out onto white
(:mod:`.grabcut`, ``full`` or ``fast``), and :mod:`.failures` judges the mask against that box.
:mod:`.config` holds the settings of both, and :mod:`.files` segments image files in worker
processes. See ``docs/segmentation.md`` for the measurements behind the thresholds.
"""
