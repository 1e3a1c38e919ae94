"""ModelConfig: the typed description of a ReID model, stored in every checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vireid.errors import ConfigError

_PIXEL_STATS = {
    # OpenAI CLIP's training statistics (open_clip.constants OPENAI_DATASET_MEAN / STD)
    "clip": ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}

# open_clip's ModifiedResNet reduces by 32; with layer4 at stride 1 the map is input / 16.
FEATURE_STRIDE = 16


@dataclass
class ModelConfig:
    """How to build the two-stem CLIP ReID network.

    name:          open_clip architecture: "RN50" (the paper) or "vireid-tiny-rn" (same family,
                   tiny, registered by vireid for CPU tests and the demo).
    pretrained:    "openai" loads OpenAI's CLIP weights from the local cache (never downloads);
                   "synthetic-web" loads the tiny CLIP prior of `vireid pretrain` (docs/pretrain.md;
                   the trainer resolves it to ``clip_weights`` from its ``[pretrain]`` section);
                   "none" is an explicit request for random initialisation.
    clip_weights:  path to a local CLIP checkpoint file; when set it is used instead of the cache.
    cache_dir:     where open_clip/Hugging Face caches are searched (None: their defaults).
    image_size:    (H, W) of the training input; fixes the attention-pool grid (H/16 x W/16).
    quick_gelu:    OpenAI's CLIP was trained with QuickGELU; keep True for its weights.
    gem_p:         GeM exponent for pooling the layer4 map (3, as in CSDN; 1 is average pooling).
    pos_embed_interpolation: how the attention-pool positional embedding is resized from the
                   pretraining grid (7x7 for 224) to the feature grid (bilinear, as CLIP-ReID does).
    pixel_stats:   input normalisation: "clip" (OpenAI CLIP's mean/std, what the weights were
                   trained with) or "imagenet" (the authors' CSDN loader). Stored with the
                   model, so evaluation normalises test images exactly as training did.
    architecture:  the registered network (``vireid.models.registry``) built from this config.
    gem_learnable: make the GeM exponent a trainable parameter initialised at ``gem_p`` (CSDN's
                   code); False keeps it a fixed hyper-parameter.
    neck_bias:     train the BNNeck BatchNorm biases (CSDN's code); False freezes them at 0
                   (the BNNeck paper, CLIP-ReID).
    """

    name: str = "RN50"
    pretrained: Literal["openai", "synthetic-web", "none"] = "openai"
    clip_weights: str | None = None
    cache_dir: str | None = None
    image_size: tuple[int, int] = (288, 144)
    quick_gelu: bool = True
    gem_p: float = 3.0
    pos_embed_interpolation: Literal["bilinear", "bicubic"] = "bilinear"
    pixel_stats: Literal["clip", "imagenet"] = "clip"
    architecture: str = "two-stem-clip"
    gem_learnable: bool = False
    neck_bias: bool = False

    def validate(self) -> None:
        h, w = self.image_size
        if h <= 0 or w <= 0 or h % FEATURE_STRIDE or w % FEATURE_STRIDE:
            raise ConfigError(f"model.image_size: both sides must be positive multiples of {FEATURE_STRIDE}, got {self.image_size}")
        if not self.gem_p >= 1.0:
            raise ConfigError(f"model.gem_p: must be >= 1, got {self.gem_p}")
        if self.clip_weights is not None and self.pretrained == "none":
            raise ConfigError("model: clip_weights is set but pretrained = \"none\" asks for random init; choose one")

    @property
    def feature_grid(self) -> tuple[int, int]:
        """(H, W) of the layer4 map and of the attention-pool grid."""
        return self.image_size[0] // FEATURE_STRIDE, self.image_size[1] // FEATURE_STRIDE


def pixel_stats(name: str) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """(mean, std) of the input normalisation ``name`` ("clip" or "imagenet")."""
    if name not in _PIXEL_STATS:
        raise ConfigError(f"pixel statistics: one of {', '.join(_PIXEL_STATS)}, got {name!r}")
    return _PIXEL_STATS[name]
