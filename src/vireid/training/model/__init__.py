"""The two-stem CLIP ReID model: config, open_clip backbone, heads, text side, prompts."""

from vireid.training.model.clip_backbone import TINY_MODEL_NAME, create_clip, register_model_configs, resolve_weights
from vireid.training.model.config import FEATURE_STRIDE, ModelConfig
from vireid.training.model.prompt_learner import PromptLearner
from vireid.training.model.reid_model import MODALITIES, ReIDModel, build_model
from vireid.training.model.text import CaptionTokenCache, caption_fingerprint, get_tokenizer, tokenize
from vireid.training.model.text_encoder import TextEncoder

__all__ = [
    "FEATURE_STRIDE", "MODALITIES", "CaptionTokenCache", "ModelConfig", "PromptLearner", "ReIDModel", "TINY_MODEL_NAME",
    "TextEncoder", "build_model", "caption_fingerprint", "create_clip", "get_tokenizer", "register_model_configs",
    "resolve_weights", "tokenize",
]
