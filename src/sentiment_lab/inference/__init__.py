"""Inference: bundles (safetensors + JSON), SentimentClassifier, the NumPy and ONNX backends,
ONNX export, streaming over big files."""
