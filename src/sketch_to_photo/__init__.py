"""sketch_to_photo: Kedro pipelines and a pix2pix GAN that turn hand-drawn sketches into photos."""

import os

# TensorFlow turns its oneDNN kernels on by itself only on CPUs with AVX512-VNNI, AVX512-BF16 or
# AMX; elsewhere (an AVX2-only AMD EPYC, most laptops) it falls back to Eigen's, and the
# recipe's training step took 2.0x as long (docs/benchmarks.md, "oneDNN on a CPU without
# bf16"). Set before TensorFlow is imported; export TF_ENABLE_ONEDNN_OPTS=0 to keep Eigen.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

__version__ = "0.1.0"
