"""The test-feature options, as plain names: what ``--feature``, ``--flip`` and
``--interpolation`` accept. Torch-free, so command-line modules can validate and document
them without importing the feature extractor (see :mod:`vireid.evaluation.features`)."""

FEATURE_KINDS = ("pooled", "bn", "proj", "concat")
FLIP_MODES = ("none", "mean", "concat")
INTERPOLATIONS = ("bicubic", "bilinear")
