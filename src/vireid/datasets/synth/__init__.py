"""Synthetic cross-modality benchmark: a tiny VI-ReID dataset that a CPU can train on.

Colour identifies people within the visible modality only; silhouette, hair, bag and top
pattern identify them across modalities. See :mod:`.attributes` for the latent model.
"""

from vireid.datasets.synth.config import LAYOUTS, SynthConfig
from vireid.datasets.synth.generate import CAPTIONS_FILE, CONFIG_FILE, generate, read_config

__all__ = ["CAPTIONS_FILE", "CONFIG_FILE", "LAYOUTS", "SynthConfig", "generate", "read_config"]
