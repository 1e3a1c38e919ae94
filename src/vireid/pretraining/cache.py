"""Where pretrained weights live: ``$VIREID_CACHE/pretrain/<fingerprint>/`` (content-addressed)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from vireid.config import to_dict
from vireid.errors import VireidError
from vireid.fingerprint import hash_json
from vireid.models import ModelConfig
from vireid.models.clip_backbone import register_model_configs
from vireid.pretraining.config import PRETRAIN_FORMAT, PretrainConfig

SUMMARY_FILE = "summary.json"


def cache_root() -> Path:
    """``$VIREID_CACHE`` or ``~/.cache/vireid``: the root every vireid cache shares."""
    return Path(os.environ.get("VIREID_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "vireid"))


def pretrain_fingerprint(cfg: PretrainConfig) -> str:
    """Hash of everything that decides the weights: settings, architecture, code format."""
    import open_clip

    register_model_configs()
    arch = open_clip.get_model_config(cfg.model)
    if arch is None:
        raise VireidError(f"pretrain.model: unknown architecture {cfg.model!r}")
    return hash_json({"format": PRETRAIN_FORMAT, "config": to_dict(cfg), "architecture": arch})[:16]


def pretrain_dir(cfg: PretrainConfig, root: str | Path | None = None) -> Path:
    return Path(root or cache_root()) / "pretrain" / pretrain_fingerprint(cfg)


def weights_name(cfg: PretrainConfig) -> str:
    return f"{cfg.model}.pt"


def pretrained_weights(cfg: PretrainConfig, root: str | Path | None = None) -> Path:
    """The cached weights file of ``cfg``; a VireidError naming the command when absent."""
    path = pretrain_dir(cfg, root) / weights_name(cfg)
    if not path.is_file():
        raise VireidError(
            f"model.pretrained = \"synthetic-web\": no pretrained weights at {path}; run `vireid pretrain` "
            "(or `make pretrain`) with the same [pretrain] settings first, or set model.pretrained = \"none\"")
    return path


def starts_from_prior(model: ModelConfig) -> bool:
    """Whether ``model`` is built from the synthetic-web file this cache makes (an explicit
    ``clip_weights`` file takes precedence over the name)."""
    return model.pretrained == "synthetic-web" and model.clip_weights is None


def resolve_pretrained(model: ModelConfig, pretrain: PretrainConfig, root: str | Path | None = None) -> ModelConfig:
    """``model`` with ``clip_weights`` pointing at the synthetic-web file when it asks for one.

    Other settings are returned unchanged. The architecture pretrained must be the one built.
    """
    if not starts_from_prior(model):
        return model
    if pretrain.model != model.name:
        raise VireidError(f"model.pretrained = \"synthetic-web\": [pretrain] model is {pretrain.model!r} "
                          f"but model.name is {model.name!r}")
    return replace(model, clip_weights=str(pretrained_weights(pretrain, root)))
