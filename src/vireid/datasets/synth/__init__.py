"""Synthetic cross-modality benchmark: a tiny VI-ReID dataset that a CPU can train on.

Colour identifies people within the visible modality only; silhouette, hair, bag and top
pattern identify them across modalities. See :mod:`.attributes` for the latent model.
Benchmark version 2 (the default) adds viewpoints that decide what each image shows
(:mod:`.views`) and captions of what the image shows, with omissions, wrong attributes and
filler (:func:`.captions.observed_caption`); version 1 is frozen for old results.
"""

from vireid.lazy import lazy_package

_EXPORTS = {
    "LAYOUTS": "config",
    "SynthConfig": "config",
    "CAPTIONS_FILE": "generate",
    "CONFIG_FILE": "generate",
    "generate": "generate",
    "read_config": "generate",
}
lazy_package(__name__, _EXPORTS)
