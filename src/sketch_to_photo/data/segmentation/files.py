"""Image files in, segmentations out: decoding that refuses truncated files, and
:func:`~sketch_to_photo.data.segmentation.grabcut.segment_object` over many files in worker
processes."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor

import cv2
import numpy as np
from PIL import Image

from sketch_to_photo.data.segmentation.boxes import BBox
from sketch_to_photo.data.segmentation.config import SegmentationConfig
from sketch_to_photo.data.segmentation.grabcut import SegmentationResult, segment_object


def read_rgb(path: str | os.PathLike[str]) -> np.ndarray | None:
    """An image file as RGB uint8, or None when it is missing, unreadable, truncated or corrupt.

    Decoded by Pillow, which raises on a truncated file (``ImageFile.LOAD_TRUNCATED_IMAGES``
    is False by default): OpenCV's ``imread`` returns a JPEG cut to a third of its bytes as
    a whole image with its lower part grey, which would then be trained on as a photo.
    """
    try:
        with Image.open(os.fspath(path)) as image:
            image.load()
            return np.array(image.convert("RGB"))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


ImageLoader = Callable[[], np.ndarray | None]


def _segment_file(
    task: tuple[ImageLoader, BBox | None, SegmentationConfig],
) -> SegmentationResult | None:
    load, relative_bbox, config = task
    photo = load()
    if photo is None:
        return None
    bbox = None
    if relative_bbox is not None:
        height, width = photo.shape[:2]
        x, y, w, h = relative_bbox
        bbox = (x * width, y * height, w * width, h * height)
    return segment_object(photo, bbox, config)


def _single_threaded_worker() -> None:
    # One OpenCV thread per process: the pool already uses every core.
    cv2.setNumThreads(1)


def segment_files(
    tasks: Iterable[tuple[ImageLoader, BBox | None]], config: SegmentationConfig, workers: int
) -> Iterator[SegmentationResult | None]:
    """Segment images in ``workers`` processes, yielding results in input order.

    Each task is an image loader (picklable: a worker process decodes the image, for one a
    :meth:`SketchyTree.loader <sketch_to_photo.datasets.SketchyTree.loader>` or
    ``functools.partial(read_rgb, path)``) and an optional bbox in fractions of the photo's
    width and height. ``None`` stands for an image that could not be read. ``forkserver``
    keeps workers free of whatever the parent process has initialised (TensorFlow threads,
    for one).
    """
    jobs = [(load, bbox, config) for load, bbox in tasks]
    if workers <= 1 or len(jobs) <= 1:
        yield from map(_segment_file, jobs)
        return
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_single_threaded_worker
    ) as pool:
        yield from pool.map(
            _segment_file, jobs, chunksize=max(1, min(8, len(jobs) // (4 * workers)))
        )


def resolve_workers(workers: int | str) -> int:
    """``"auto"`` means every core this process may use."""
    if workers == "auto":
        return (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1
        )
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer or 'auto', got {workers!r}")
    return workers
