"""Batch loading from the uint8 cache: background threads gather the next batches while the
model trains on the current one.

Each item is a :class:`LoadedBatch` of uint8 ``[P*K, H, W, 3]`` tensors (pinned when the
target is a GPU, so the host-to-device copy can overlap compute) plus the sampler's batch.
``wait_seconds`` accumulates the time the training loop spent blocked on data, which the
engine reports as the data-loading share of the epoch.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import torch

from vireid.training.cache import ImageCache
from vireid.training.sampler import Batch


@dataclass
class LoadedBatch:
    batch: Batch
    visible: torch.Tensor  # uint8 [N, H, W, 3]
    infrared: torch.Tensor


class BatchPrefetcher:
    """Iterate ``batches`` as LoadedBatch, keeping up to ``depth`` batches in flight."""

    def __init__(self, batches: Iterable[Batch], cache: ImageCache, *, workers: int = 2,
                 depth: int = 4, pin_memory: bool = False):
        self._batches = iter(batches)
        self._cache = cache
        self._pin = pin_memory
        self._depth = max(1, depth)
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="vireid-batch")
        self._pending: deque[Future] = deque()
        self.wait_seconds = 0.0

    def _load(self, batch: Batch) -> LoadedBatch:
        vis = torch.from_numpy(self._cache.gather(batch.visible))
        ir = torch.from_numpy(self._cache.gather(batch.infrared))
        if self._pin:
            vis, ir = vis.pin_memory(), ir.pin_memory()
        return LoadedBatch(batch, vis, ir)

    def _fill(self) -> None:
        while len(self._pending) < self._depth:
            try:
                batch = next(self._batches)
            except StopIteration:
                return
            self._pending.append(self._pool.submit(self._load, batch))

    def __iter__(self) -> Iterator[LoadedBatch]:
        try:
            self._fill()
            while self._pending:
                start = time.perf_counter()
                item = self._pending.popleft().result()
                self.wait_seconds += time.perf_counter() - start
                self._fill()
                yield item
        finally:
            self.close()

    def close(self) -> None:
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        self._pool.shutdown(wait=True)
