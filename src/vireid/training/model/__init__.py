"""The two-stem CLIP ReID model: config, open_clip backbone, heads, text side, prompts."""

from vireid.training.model.clip_backbone import TINY_MODEL_NAME, create_clip, register_model_configs, resolve_weights
from vireid.training.model.config import FEATURE_STRIDE, ModelConfig
from vireid.training.model.reid_model import MODALITIES, ReIDModel, build_model

__all__ = [
    "FEATURE_STRIDE", "MODALITIES", "ModelConfig", "ReIDModel", "TINY_MODEL_NAME",
    "build_model", "create_clip", "register_model_configs", "resolve_weights",
]
