"""The served pyfunc's old module path, kept only so that served models registered before the
layout move still load: their ``python_model.pkl`` names the class
``sketch_to_photo.serving.SketchToPhotoService``, and unpickling imports that path. The served
model lives in :mod:`sketch_to_photo.mlops.service`; import it from there."""

from sketch_to_photo.mlops.service import SketchToPhotoService

__all__ = ["SketchToPhotoService"]
