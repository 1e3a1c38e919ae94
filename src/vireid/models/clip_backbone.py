"""Create an open_clip CLIP model (RN50 or the tiny test config), with weights found offline.

Both architectures go through the same ``open_clip.create_model`` call; only where the
weights come from differs. Nothing here downloads: OpenAI weights are looked up in the
local caches open_clip itself would have filled, and a missing file is a VireidError
naming every place that was searched.
"""

from __future__ import annotations

import logging
import os
import pickle
import zipfile
from contextlib import contextmanager
from pathlib import Path

import open_clip
import torch
from open_clip.pretrained import get_pretrained_cfg

from vireid.errors import VireidError
from vireid.models.config import ModelConfig

TINY_MODEL_NAME = "vireid-tiny-rn"
_CONFIG_DIR = Path(__file__).parent / "configs"
# File names under which open_clip publishes weights on the Hugging Face hub.
_HF_FILENAMES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")


def register_model_configs() -> None:
    """Make vireid's architecture configs (``vireid-tiny-rn``) known to open_clip (idempotent)."""
    if TINY_MODEL_NAME not in open_clip.list_models():
        open_clip.add_model_config(_CONFIG_DIR)


def _cache_candidates(cfg: ModelConfig) -> list[str]:
    """Where open_clip would have stored ``pretrained="openai"`` weights for ``cfg.name``."""
    tag_cfg = get_pretrained_cfg(cfg.name, "openai")
    if not tag_cfg:
        raise VireidError(f"model.pretrained: open_clip has no \"openai\" weights for {cfg.name!r}; use pretrained = \"none\" or clip_weights")
    candidates: list[str] = []
    url = tag_cfg.get("url", "")
    if url:
        url_dir = cfg.cache_dir or os.path.expanduser("~/.cache/clip")
        candidates.append(os.path.join(url_dir, os.path.basename(url)))
    hub = tag_cfg.get("hf_hub", "")
    if hub:
        # open_clip's convention: "org/repo/file" names one file, "org/repo/" the default names.
        repo_id, filename = os.path.split(hub)
        for name in [filename] if filename else _HF_FILENAMES:
            candidates.append(f"hf-cache:{repo_id}/{name}")
    return candidates


def _resolve_cached(candidate: str, cache_dir: str | None) -> str | None:
    if not candidate.startswith("hf-cache:"):
        return candidate if os.path.isfile(candidate) else None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    repo_file = candidate[len("hf-cache:"):]
    repo_id, filename = repo_file.rsplit("/", 1)
    found = try_to_load_from_cache(repo_id, filename, cache_dir=cache_dir)
    return found if isinstance(found, str) and os.path.isfile(found) else None


def resolve_weights(cfg: ModelConfig) -> str | None:
    """Path of the CLIP weights to load for ``cfg``, or None for an explicit random init."""
    if cfg.clip_weights is not None:
        path = Path(cfg.clip_weights).expanduser()
        if not path.is_file():
            raise VireidError(f"model.clip_weights: {path}: file not found")
        return str(path)
    if cfg.pretrained == "none":
        return None
    if cfg.pretrained == "synthetic-web":
        raise VireidError("model.pretrained = \"synthetic-web\" needs the file of `vireid pretrain`: the trainer "
                          "finds it from the [pretrain] settings; elsewhere give model.clip_weights")
    candidates = _cache_candidates(cfg)
    for candidate in candidates:
        found = _resolve_cached(candidate, cfg.cache_dir)
        if found:
            return found
    searched = "\n  ".join(candidates)
    raise VireidError(
        f"no OpenAI CLIP weights for {cfg.name} found offline; searched:\n  {searched}\n"
        "download them once (open_clip.create_model(\"RN50\", pretrained=\"openai\")), point model.clip_weights at a "
        "local checkpoint, or set model.pretrained = \"none\" for a random init"
    )


def _is_torchscript(path: str) -> bool:
    """OpenAI's original ``RN50.pt`` is a TorchScript archive (it has a constants.pkl record)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.endswith("constants.pkl") for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


# Entries of OpenAI's TorchScript state dict that are not weights of open_clip's CLIP.
_TORCHSCRIPT_EXTRAS = ("input_resolution", "context_length", "vocab_size", "attn_mask")


def _load_torchscript_weights(model, path: str) -> None:
    """Copy the weights of a TorchScript CLIP archive into ``model`` (strict: every key must fit).

    ``torch.load(weights_only=True)``, which open_clip uses, refuses TorchScript archives, so
    these are read with ``torch.jit.load``; open_clip keeps OpenAI's parameter names, so the
    state dict maps one to one.
    """
    state = torch.jit.load(path, map_location="cpu").state_dict()
    own = model.state_dict()
    state = {k: v for k, v in state.items() if k in own or k not in _TORCHSCRIPT_EXTRAS}
    model.load_state_dict(state, strict=True)


class _DropRandomInitWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("No pretrained weights loaded")


@contextmanager
def _random_init_expected(expected: bool):
    """Silence open_clip's "No pretrained weights loaded ... initialized randomly" warning
    while the weights are deliberately absent (``pretrained = "none"``, or TorchScript weights
    loaded right after): a warning users should not learn to ignore."""
    if not expected:
        yield
        return
    root, quiet = logging.getLogger(), _DropRandomInitWarning()
    root.addFilter(quiet)
    try:
        yield
    finally:
        root.removeFilter(quiet)


def create_clip(cfg: ModelConfig):
    """The open_clip CLIP model described by ``cfg`` (weights loaded when resolved)."""
    register_model_configs()
    if cfg.name not in open_clip.list_models():
        raise VireidError(f"model.name: unknown architecture {cfg.name!r} (known: RN50, {TINY_MODEL_NAME}, ...)")
    weights = resolve_weights(cfg)
    torchscript = weights is not None and _is_torchscript(weights)
    try:
        # State-dict files (open_clip, Hugging Face) load inside open_clip's own factory.
        with _random_init_expected(weights is None or torchscript):
            model = open_clip.create_model(
                cfg.name,
                pretrained=None if torchscript else weights,
                force_quick_gelu=cfg.quick_gelu,
                cache_dir=cfg.cache_dir,
                require_pretrained=weights is not None and not torchscript,
            )
        if torchscript:
            _load_torchscript_weights(model, weights)
    except (RuntimeError, pickle.UnpicklingError, EOFError, KeyError, ValueError, OSError) as exc:
        # Any of these from a user-supplied or cached file means the file is not usable weights.
        if weights is None:
            raise
        raise VireidError(f"{weights}: not loadable as {cfg.name} CLIP weights: {exc}") from None
    if not isinstance(model.visual, open_clip.modified_resnet.ModifiedResNet):
        raise VireidError(f"model.name: {cfg.name!r} is not a ModifiedResNet CLIP (the two-stem ReID model needs one)")
    return model
