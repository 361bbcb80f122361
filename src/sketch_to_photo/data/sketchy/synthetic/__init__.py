"""A small synthetic dataset laid out exactly like the real Sketchy database.

Every object is a list of parts (polygons or open strokes in object coordinates, each with a
colour role). A photo fills the parts with a per-photo palette, shades them and puts them on a
varied non-white background; each sketch draws the same parts again the way people draw from
memory: black wobbly outlines on white, slightly moved and rescaled, some details missing.
Everything is drawn from numpy Generators seeded by ``(seed, purpose, category, photo, sketch)``,
so one config always gives byte-identical files.

Modules, one job each: :mod:`.config` (what to generate), :mod:`.objects` (the four object
kinds), :mod:`.placement` (where an object lands), :mod:`.photos` and :mod:`.sketches` (rendering),
:mod:`.plan` (ids and lists per category) and :mod:`.writer` (the files).
"""

from sketch_to_photo.data.sketchy.synthetic.config import (
    SUPPORTED_CATEGORIES,
    SyntheticConfig,
    config_hash,
)
from sketch_to_photo.data.sketchy.synthetic.writer import generate_synthetic_sketchy

__all__ = ["SUPPORTED_CATEGORIES", "SyntheticConfig", "config_hash", "generate_synthetic_sketchy"]
