"""CLIP token counts of captions, recorded in caption manifests.

CLIP's text encoder sees at most 77 tokens (start and end tokens included); captions longer
than that are cut, so manifests record each caption's count and a truncated flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from vireid.manifests.schema import CLIP_CONTEXT_LENGTH


@lru_cache(maxsize=1)
def _tokenizer():
    # open_clip ships its BPE vocabulary inside the wheel: works offline.
    from open_clip.tokenizer import SimpleTokenizer

    return SimpleTokenizer()


def clip_token_count(text: str) -> int:
    """Number of CLIP BPE tokens of ``text`` including the start and end tokens."""
    return len(_tokenizer().encode(text)) + 2


def clip_token_counts(texts: Sequence[str | None]) -> list[int | None]:
    """Token counts for many captions (None stays None)."""
    return [None if t is None else clip_token_count(t) for t in texts]


def is_truncated(count: int | None, context_length: int = CLIP_CONTEXT_LENGTH) -> bool | None:
    return None if count is None else count > context_length
