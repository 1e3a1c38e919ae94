"""Synthetic cross-modality benchmark: a tiny VI-ReID dataset that a CPU can train on.

Colour identifies people within the visible modality only; silhouette, hair, bag and top
pattern identify them across modalities. See :mod:`.attributes` for the latent model.
Benchmark version 2 (the default) adds viewpoints that decide what each image shows
(:mod:`.views`) and captions of what the image shows, with omissions, wrong attributes and
filler (:func:`.captions.observed_caption`); version 1 is frozen for old results.
"""

from vireid.datasets.synth.config import LAYOUTS, SynthConfig
from vireid.datasets.synth.generate import CAPTIONS_FILE, CONFIG_FILE, generate, read_config

__all__ = ["CAPTIONS_FILE", "CONFIG_FILE", "LAYOUTS", "SynthConfig", "generate", "read_config"]
