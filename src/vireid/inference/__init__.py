"""Using a trained model beyond the benchmark: the Python API (``vireid.load``), embedding
image collections (``vireid embed``), searching them (``vireid search``, exact or FAISS) and
exporting the network (``vireid export``, ONNX / TorchScript with an equality check).

Layered like evaluation: it reads checkpoints through :mod:`vireid.evaluation.checkpoint`
and composes features with :mod:`vireid.evaluation.features`; it never imports training or
methods.
"""

from vireid.lazy import lazy_package

_EXPORTS = {
    "load": "api",
    "ReIDModel": "api",
    "FeatureOptions": "options",
}
lazy_package(__name__, _EXPORTS)
