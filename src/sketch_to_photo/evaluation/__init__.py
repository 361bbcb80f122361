"""The generator's evaluation on the test split (never trained on), one job per module.

Metrics are taken for the trained generator and the baselines it must beat: the same
architecture untrained, a constant "mean training photo" and a copy of the sketch itself;
Gaussian-blurred real photos (what a blob is) are measured too, to show what each metric makes
of a blob. Besides pixel metrics (L1, SSIM, PSNR, VGG16 perceptual distance):

* **category faithfulness**: the accuracy of a photo classifier (the *judge*, trained only on
  the real train-split photos) on the generated photos against their sketches' categories,
  next to its accuracy on the real test photos (the ceiling);
* **shape** (:mod:`.shape_metrics`): stroke recall and chamfer distance (do the photo's own
  edges follow the sketch's strokes?), fill (does it paint the outlined object?) and
  photo-likeness (:mod:`.photo_likeness`: KID on texture, sharpness and colour statistics
  against the real train photos), which a coloured blob or a line drawing cannot pass. The
  same numbers are computed for the real test photos.

FID needs InceptionV3's ImageNet weights; without them it is recorded as skipped, with the
reason.

Modules: :mod:`.judge` trains the faithfulness judge; :mod:`.baselines` makes the systems
measured besides the model; :mod:`.feature_models` the networks FID and the perceptual
distance need; :mod:`.scoring` runs every system over the test shards; :mod:`.report` turns
the scores into the report; :mod:`.metric_names` names the metrics (MLflow, headline);
:mod:`.grid` draws the result grid; :mod:`.champion` says whether a model may be champion;
:mod:`.evaluate` runs it all; :mod:`.pixel_metrics` (pixel metrics and FID),
:mod:`.shape_metrics` and :mod:`.photo_likeness` are the metrics themselves. Registering the
model is :mod:`sketch_to_photo.mlops.generator_registration`.
"""
