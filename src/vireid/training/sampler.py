"""Cross-modality identity sampler: every batch holds P identities x (K visible + K infrared).

Epoch-length rule (the field's, AGW-style): an epoch has ``ceil(max(N_vis, N_ir) / (P * K))``
batches, i.e. enough batches to visit every image of the larger modality about once. It can
be capped with ``max_batches`` (tiny presets) and is rounded up to a multiple of the number of
processes so that every DDP shard gets the same number of batches.

Identity order: identities are drawn from a shuffled queue, P at a time without repetition
inside a batch; the queue is re-shuffled whenever it runs dry, so all identities appear about
equally often. Images: each (identity, modality) has its own shuffled queue of images that is
consumed K at a time and re-shuffled when exhausted; an identity with fewer than K images of
a modality is sampled with replacement.

Determinism: the batches of epoch ``e`` depend only on ``(seed, e)`` (NumPy PCG64 seeded with
``[seed, e]``), so resuming needs only the epoch and the position inside it
(:meth:`CrossModalitySampler.state_dict`). Sharding: global batch ``b`` goes to process
``b % world_size``; shards are disjoint and together cover the epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vireid.errors import DataLimitError


@dataclass(frozen=True)
class Batch:
    """Row positions (into the training table) of one batch; ``visible[i]`` and
    ``infrared[i]`` share an identity, ordered identity-major (P blocks of K)."""

    visible: np.ndarray
    infrared: np.ndarray
    labels: np.ndarray  # identity label of position i (same for both modalities)


class CrossModalitySampler:
    """Deterministic P x K cross-modality batches, shardable over DDP processes.

    ``labels`` and ``modalities`` describe the rows of the training table; the batches refer
    to rows by position. Identities lacking either modality cannot form a cross-modality
    pair and are left out (see :attr:`skipped_labels`).
    """

    def __init__(self, labels: Sequence[int] | np.ndarray, modalities: Sequence[str] | np.ndarray,
                 batch_ids: int, per_modality: int, seed: int, *, max_batches: int = 0,
                 rank: int = 0, world_size: int = 1):
        if batch_ids < 1 or per_modality < 1:
            raise DataLimitError(f"sampler.batch_ids and sampler.per_modality must be >= 1, got "
                                 f"{batch_ids} and {per_modality}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside world size {world_size}")
        labels = np.asarray(labels, dtype=np.int64)
        modalities = np.asarray(modalities)
        if labels.shape != modalities.shape:
            raise ValueError("labels and modalities must have the same length")
        self.batch_ids = batch_ids
        self.per_modality = per_modality
        self.seed = int(seed)
        self.rank = rank
        self.world_size = world_size
        self._pools: dict[str, dict[int, np.ndarray]] = {}
        for modality in ("visible", "infrared"):
            rows = np.flatnonzero(modalities == modality)
            order = np.argsort(labels[rows], kind="stable")
            rows = rows[order]
            ids, starts = np.unique(labels[rows], return_index=True)
            self._pools[modality] = dict(zip(ids.tolist(), np.split(rows, starts[1:])))
        vis, ir = set(self._pools["visible"]), set(self._pools["infrared"])
        self.identities = np.array(sorted(vis & ir), dtype=np.int64)
        self.skipped_labels = sorted(vis ^ ir)
        self._check_enough_identities(batch_ids)
        n_vis = sum(len(self._pools["visible"][i]) for i in self.identities.tolist())
        n_ir = sum(len(self._pools["infrared"][i]) for i in self.identities.tolist())
        per_batch = batch_ids * per_modality
        total = math.ceil(max(n_vis, n_ir) / per_batch)
        if max_batches > 0:
            total = min(total, max_batches)
        total = math.ceil(total / world_size) * world_size
        self.global_batches = total
        self._epoch = 0
        self._position = 0  # batches of this shard already consumed in the current epoch

    def _check_enough_identities(self, batch_ids: int) -> None:
        # The user's data or config is short, not the code: one line, no traceback.
        for modality in ("visible", "infrared"):
            if not self._pools[modality]:
                raise DataLimitError(f"the training rows have no {modality} images; a "
                                     "cross-modality batch needs both modalities")
        if len(self.identities) < batch_ids:
            raise DataLimitError(
                f"only {len(self.identities)} identities have both visible and infrared "
                f"training images; a batch needs {batch_ids} (lower sampler.batch_ids)")

    def __len__(self) -> int:
        """Batches per epoch for this process."""
        return self.global_batches // self.world_size

    @property
    def images_per_batch(self) -> int:
        return 2 * self.batch_ids * self.per_modality

    def _draw(self, rng: np.random.Generator, queue: list[int], pool: np.ndarray,
              k: int) -> np.ndarray:
        if len(pool) < k:
            return rng.choice(pool, size=k, replace=True)
        out: list[int] = []
        while len(out) < k:
            if not queue:
                fresh = rng.permutation(pool).tolist()
                # images already drawn for this batch go last, so no image repeats in a batch
                queue.extend([i for i in fresh if i in out] + [i for i in fresh if i not in out])
            out.append(queue.pop())
        return np.asarray(out, dtype=np.int64)

    def epoch_batches(self, epoch: int) -> list[Batch]:
        """All global batches of ``epoch`` (every process computes the same list)."""
        rng = np.random.default_rng([self.seed, epoch])
        id_queue: list[int] = []
        img_queues: dict[tuple[str, int], list[int]] = {}
        batches = []
        p, k = self.batch_ids, self.per_modality
        for _ in range(self.global_batches):
            chosen: list[int] = []
            while len(chosen) < p:
                if not id_queue:
                    id_queue.extend(rng.permutation(self.identities).tolist())
                ident = id_queue.pop()
                if ident in chosen:  # only possible right after a re-shuffle
                    id_queue.insert(0, ident)
                    continue
                chosen.append(ident)
            rows = {}
            for modality in ("visible", "infrared"):
                rows[modality] = np.concatenate([
                    self._draw(rng, img_queues.setdefault((modality, i), []),
                               self._pools[modality][i], k)
                    for i in chosen
                ])
            batches.append(Batch(rows["visible"], rows["infrared"],
                                 np.repeat(np.asarray(chosen, dtype=np.int64), k)))
        return batches

    def shard(self, batches: Sequence[Batch]) -> list[Batch]:
        """The batches of this process: global batch b goes to process b % world_size."""
        return list(batches[self.rank::self.world_size])

    def set_epoch(self, epoch: int) -> None:
        if epoch != self._epoch:
            self._epoch, self._position = epoch, 0

    def __iter__(self) -> Iterator[Batch]:
        """This process's remaining batches of the current epoch; advances the position."""
        mine = self.shard(self.epoch_batches(self._epoch))
        while self._position < len(mine):
            batch = mine[self._position]
            self._position += 1
            yield batch

    def state_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "epoch": self._epoch, "position": self._position,
                "global_batches": self.global_batches, "world_size": self.world_size}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if int(state["seed"]) != self.seed:
            raise ValueError(f"sampler seed mismatch: checkpoint {state['seed']}, config {self.seed}")
        self._epoch = int(state["epoch"])
        same_layout = (int(state.get("global_batches", -1)) == self.global_batches
                       and int(state.get("world_size", -1)) == self.world_size)
        # A different epoch length or process count changes the batch list: restart the epoch.
        self._position = int(state["position"]) if same_layout else 0
