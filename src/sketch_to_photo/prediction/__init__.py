"""One sketch to one photo: the one sketch preprocessing path, Keras or ONNX Runtime models."""
