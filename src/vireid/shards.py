"""Splitting an image list between processes (manual shards or `accelerate launch`): captioning and embedding."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence


def shard_of(image_id: str, num_shards: int) -> int:
    """Stable shard of an image: a hash of its id, so it never depends on list order."""
    digest = hashlib.sha1(image_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % num_shards


def select_shard(image_ids: Sequence[str], shard_index: int, num_shards: int) -> list[int]:
    """Positions of the images that belong to ``shard_index`` (shards are disjoint, complete)."""
    if num_shards == 1:
        return list(range(len(image_ids)))
    return [i for i, image_id in enumerate(image_ids) if shard_of(image_id, num_shards) == shard_index]


def resolve_shards(num_shards: int | None, shard_index: int | None) -> tuple[int, int]:
    """(shard_index, num_shards): explicit options win, else the launcher's RANK/WORLD_SIZE.

    ``accelerate launch`` and ``torchrun`` export RANK and WORLD_SIZE to every process, so
    each GPU process captions its own disjoint share into the same output folder.
    """
    if num_shards is not None and shard_index is not None:
        return shard_index, num_shards
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    rank = int(os.environ.get("RANK", "0") or 0)
    if world > 1:
        return rank, world
    return 0, 1


def shard_tag(shard_index: int, num_shards: int) -> str:
    return f"s{shard_index}of{num_shards}"
