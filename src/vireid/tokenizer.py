"""CLIP's tokenizer, in one place: token ids for training, token counts for manifests, and a
caption token cache.

Every CLIP model vireid builds (RN50 and the tiny test config) uses open_clip's bundled BPE
tokenizer with a 77-token context, so this foundation module needs no model: the caption
manifests (datasets, captioning) record counts with it, and training tokenises with it.

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

CONTEXT_LENGTH = 77  # CLIP's text context, start and end tokens included
_CACHE_FORMAT = "vireid-caption-tokens"


@lru_cache(maxsize=4)
def get_tokenizer(context_length: int = CONTEXT_LENGTH) -> open_clip.tokenizer.SimpleTokenizer:
    """open_clip's BPE tokenizer (vocabulary bundled in the wheel: works offline).

    Cached: building it parses the whole BPE vocabulary (about a second).
    """
    return open_clip.tokenizer.SimpleTokenizer(context_length=context_length)


def tokenize(texts: Sequence[str], context_length: int = CONTEXT_LENGTH) -> torch.Tensor:
    """[N, context_length] long token ids; longer texts are cut (the end-of-text token is kept)."""
    if isinstance(texts, str):
        raise TypeError("tokenize: expected a sequence of strings, got one string")
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise VireidError(f"caption {bad[0]} is not a string ({texts[bad[0]]!r}); captions must be filled before training")
    if len(texts) == 0:
        return torch.zeros((0, context_length), dtype=torch.long)
    return get_tokenizer(context_length)(list(texts)).long()


def token_count(text: str) -> int:
    """Number of CLIP BPE tokens of ``text`` including the start and end tokens."""
    return len(get_tokenizer().encode(text)) + 2


def token_counts(texts: Sequence[str | None]) -> list[int | None]:
    """Token counts for many captions (None stays None)."""
    return [None if t is None else token_count(t) for t in texts]


def is_truncated(count: int | None, context_length: int = CONTEXT_LENGTH) -> bool | None:
    """Whether a caption of ``count`` tokens is cut by CLIP's context (None stays None)."""
    return None if count is None else count > context_length


def caption_fingerprint(captions: Sequence[str], context_length: int = CONTEXT_LENGTH) -> str:
    """Fingerprint of (tokenizer identity, captions in order)."""
    from vireid.fingerprint import hash_strings

    header = f"{_CACHE_FORMAT}|SimpleTokenizer|{context_length}|open_clip {open_clip.__version__}"
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
    def build(cls, captions: Sequence[str]) -> CaptionTokenCache:
        return cls(tokenize(captions), caption_fingerprint(captions))

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
    def load_or_build(cls, captions: Sequence[str], path: str | Path) -> CaptionTokenCache:
        """The cache at ``path`` if it was built from exactly these captions; else build and save it.

        A stale or unreadable cache file is rebuilt, never trusted.
        """
        path = Path(path)
        expected = caption_fingerprint(captions)
        if path.is_file():
            try:
                cached = cls.load(path)
            except VireidError:
                cached = None
            if cached is not None and cached.fingerprint == expected and len(cached) == len(captions):
                return cached
        cache = cls(tokenize(captions), expected)
        cache.save(path)
        return cache
