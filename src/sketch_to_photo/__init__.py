"""sketch_to_photo: Kedro pipelines and a pix2pix GAN that turn hand-drawn sketches into photos."""

__version__ = "0.1.0"
