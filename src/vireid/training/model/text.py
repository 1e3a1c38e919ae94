"""Caption tokenisation, done once per caption list and cached on disk.

Training indexes rows of a [N, 77] token tensor instead of running the BPE tokenizer on every
step. The cache file is keyed by a fingerprint of the tokenizer and the exact captions, so
an edited caption manifest can never be served stale tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import open_clip
import torch

from vireid.atomic import atomic_path
from vireid.errors import VireidError
from vireid.fingerprint import hash_strings
from vireid.training.model.clip_backbone import register_model_configs

_CACHE_FORMAT = "vireid-caption-tokens"


@lru_cache(maxsize=4)
def get_tokenizer(model_name: str = "RN50"):
    """open_clip's tokenizer for ``model_name`` (CLIP BPE, bundled with open_clip: offline).

    Cached: building it parses the whole BPE vocabulary (about a second).
    """
    register_model_configs()
    return open_clip.get_tokenizer(model_name)


def tokenize(texts: Sequence[str], model_name: str = "RN50") -> torch.Tensor:
    """[N, context_length] long token ids; longer texts are cut (the end-of-text token is kept)."""
    if isinstance(texts, str):
        raise TypeError("tokenize: expected a sequence of strings, got one string")
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise VireidError(f"caption {bad[0]} is not a string ({texts[bad[0]]!r}); captions must be filled before training")
    tokenizer = get_tokenizer(model_name)
    if len(texts) == 0:
        return torch.zeros((0, tokenizer.context_length), dtype=torch.long)
    return tokenizer(list(texts)).long()


def caption_fingerprint(captions: Sequence[str], model_name: str = "RN50") -> str:
    """Fingerprint of (tokenizer identity, captions in order)."""
    tokenizer = get_tokenizer(model_name)
    header = f"{_CACHE_FORMAT}|{type(tokenizer).__name__}|{tokenizer.context_length}|open_clip {open_clip.__version__}"
    return hash_strings([header, *captions])


class CaptionTokenCache:
    """Token ids of a fixed list of captions; row i belongs to caption i."""

    def __init__(self, tokens: torch.Tensor, fingerprint: str):
        self.tokens = tokens
        self.fingerprint = fingerprint

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def __getitem__(self, index) -> torch.Tensor:
        return self.tokens[index]

    @classmethod
    def build(cls, captions: Sequence[str], model_name: str = "RN50") -> CaptionTokenCache:
        return cls(tokenize(captions, model_name), caption_fingerprint(captions, model_name))

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            torch.save({"format": _CACHE_FORMAT, "fingerprint": self.fingerprint, "tokens": self.tokens}, tmp)
        return path

    @classmethod
    def load(cls, path: str | Path) -> CaptionTokenCache:
        path = Path(path)
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise VireidError(f"{path}: caption token cache not found") from None
        except Exception as exc:  # zip/pickle errors come in many types
            raise VireidError(f"{path}: unreadable caption token cache ({type(exc).__name__})") from None
        if not isinstance(data, dict) or data.get("format") != _CACHE_FORMAT:
            raise VireidError(f"{path}: not a vireid caption token cache")
        return cls(data["tokens"], data["fingerprint"])

    @classmethod
    def load_or_build(cls, captions: Sequence[str], path: str | Path, model_name: str = "RN50") -> CaptionTokenCache:
        """The cache at ``path`` if it was built from exactly these captions; else build and save it.

        A stale or unreadable cache file is rebuilt, never trusted.
        """
        path = Path(path)
        expected = caption_fingerprint(captions, model_name)
        if path.is_file():
            try:
                cached = cls.load(path)
            except VireidError:
                cached = None
            if cached is not None and cached.fingerprint == expected and len(cached) == len(captions):
                return cached
        cache = cls(tokenize(captions, model_name), expected)
        cache.save(path)
        return cache
