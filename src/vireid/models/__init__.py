"""Networks and their stored form, shared by training and evaluation.

``build_model(cfg, num_classes)`` builds a registered architecture (``two-stem-clip``: CLIP
RN50 or the tiny config with modality stems, ReID adaptation, BNNeck heads and the text
encoder); ``load_model(path)`` rebuilds one from a checkpoint. Parts a method composes
(prompt learners, text encoder, heads) live here too.
"""

from vireid.models.clip_backbone import TINY_MODEL_NAME, create_clip, register_model_configs, resolve_weights
from vireid.models.config import FEATURE_STRIDE, ModelConfig, pixel_stats
from vireid.models.prompt_learner import PromptLearner
from vireid.models.protocol import ReIDNetwork
from vireid.models.reid_model import MODALITIES, ReIDModel
from vireid.models.registry import build_model, list_architectures, register_architecture
from vireid.models.store import (
    CheckpointError,
    load_checkpoint,
    load_model,
    model_checkpoint_state,
    save_checkpoint,
)
from vireid.models.text_encoder import TextEncoder

__all__ = [
    "FEATURE_STRIDE", "MODALITIES", "CheckpointError", "ModelConfig", "PromptLearner", "ReIDModel",
    "ReIDNetwork", "TINY_MODEL_NAME", "TextEncoder", "build_model", "create_clip", "list_architectures",
    "load_checkpoint", "load_model", "model_checkpoint_state", "pixel_stats", "register_architecture",
    "register_model_configs", "resolve_weights", "save_checkpoint",
]
