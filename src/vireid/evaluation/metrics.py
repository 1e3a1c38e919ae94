"""CMC, mAP and mINP under the SYSU-MM01, RegDB and LLCM evaluation rules (vectorised).

Ranking rule (all protocols): each query's gallery is sorted by ascending distance with a
*stable* sort, so equal distances keep gallery order (ties broken by the lower gallery
index). The result is therefore deterministic, unlike the field's default quicksort.

Protocol rules, applied per query on its ranked gallery:

* ``"sysu"`` (SYSU-MM01 official evaluation): a query from camera 3 discards every gallery
  image from camera 2, whatever its identity; nothing is discarded for camera-6 queries.
  CMC is computed on the ranked identities *de-duplicated* after the removal (first
  occurrence of each identity kept); mAP and mINP use the full list after removal.
* ``"regdb"``: standard CMC, no removal and no de-duplication.
* ``"llcm"``: gallery images with the query's identity AND camera are discarded; CMC on the
  de-duplicated identity list, mAP/mINP on the full list after removal.

Definitions: AP is the mean of precision@k over the ranks k of the true matches; mINP
(Ye et al., AGW) is ``#true matches / rank of the hardest (last) true match``. A query with
no true match left after removal is *invalid*: it is excluded from every average and counted
in :attr:`EvalResult.num_invalid`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vireid.errors import VireidError

PROTOCOLS = ("sysu", "regdb", "llcm")

# Rows per block: bounds the B x G temporaries (~10 arrays of 512 x G) whatever the query count.
_BLOCK = 512


class EvaluationError(VireidError):
    """Evaluation inputs are inconsistent (shapes, protocol name, no valid query)."""


@dataclass(frozen=True)
class EvalResult:
    """Averages over valid queries plus per-query values (NaN for invalid queries)."""

    cmc: np.ndarray           # [max_rank], cmc[0] = rank-1 accuracy, fractions in [0, 1]
    mAP: float
    mINP: float
    num_valid: int
    num_invalid: int
    ap: np.ndarray            # [Q] average precision per query
    inp: np.ndarray           # [Q] inverse negative penalty per query
    first_rank: np.ndarray    # [Q] 1-based rank of the first true match in the CMC list, 0 if none

    def summary(self) -> dict[str, float]:
        """R1/R5/R10/R20 (where max_rank allows), mAP and mINP as fractions."""
        out = {f"R{k}": float(self.cmc[k - 1]) for k in (1, 5, 10, 20) if k <= len(self.cmc)}
        out.update(mAP=self.mAP, mINP=self.mINP)
        return out


def removal_mask(protocol: str, q_pids: np.ndarray, q_cams: np.ndarray,
                 g_pids: np.ndarray, g_cams: np.ndarray) -> np.ndarray | None:
    """[Q, G] boolean mask of gallery images a query must ignore (None: nothing removed).

    SYSU: query camera 3 drops gallery camera 2. LLCM: same identity and same camera.
    RegDB: nothing.
    """
    if protocol == "sysu":
        return (q_cams[:, None] == 3) & (g_cams[None, :] == 2)
    if protocol == "llcm":
        return (q_pids[:, None] == g_pids[None, :]) & (q_cams[:, None] == g_cams[None, :])
    return None


def _check(distmat, q_pids, g_pids, q_cams, g_cams, protocol, max_rank):
    if protocol not in PROTOCOLS:
        raise EvaluationError(f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}")
    distmat = np.asarray(distmat)
    if distmat.ndim != 2:
        raise EvaluationError(f"distmat must be 2-D [num_query, num_gallery], got shape {distmat.shape}")
    arrays = [np.asarray(a).reshape(-1).astype(np.int64) for a in (q_pids, g_pids, q_cams, g_cams)]
    q_pids, g_pids, q_cams, g_cams = arrays
    nq, ng = distmat.shape
    for name, arr, n in (("q_pids", q_pids, nq), ("q_cams", q_cams, nq),
                         ("g_pids", g_pids, ng), ("g_cams", g_cams, ng)):
        if len(arr) != n:
            raise EvaluationError(f"{name} has {len(arr)} entries but distmat has shape {distmat.shape}")
    if max_rank < 1:
        raise EvaluationError(f"max_rank must be >= 1, got {max_rank}")
    if np.isnan(distmat).any():
        raise EvaluationError("distmat contains NaN distances")
    return distmat, q_pids, g_pids, q_cams, g_cams


def evaluate(distmat, q_pids, g_pids, q_cams, g_cams, protocol: str = "sysu",
             max_rank: int = 20) -> EvalResult:
    """CMC / mAP / mINP of a [Q, G] distance matrix under ``protocol`` (see module docstring).

    Vectorised over blocks of queries; no Python loop per query. ``max_rank`` may exceed the
    gallery size: the CMC then simply stays at its last value.
    """
    distmat, q_pids, g_pids, q_cams, g_cams = _check(
        distmat, q_pids, g_pids, q_cams, g_cams, protocol, max_rank)
    nq, ng = distmat.shape
    dedup = protocol in ("sysu", "llcm")
    # Gallery columns grouped by identity once, for the de-duplicated rank (reduceat per id).
    uniq_pids, pid_index = np.unique(g_pids, return_inverse=True)
    by_pid = np.argsort(pid_index, kind="stable")
    group_starts = np.searchsorted(pid_index[by_pid], np.arange(len(uniq_pids)))

    ap = np.full(nq, np.nan)
    inp = np.full(nq, np.nan)
    first_rank = np.zeros(nq, dtype=np.int64)
    rows = np.arange(ng)
    for start in range(0, nq, _BLOCK):
        sl = slice(start, min(start + _BLOCK, nq))
        order = np.argsort(distmat[sl], axis=1, kind="stable")            # [B, G] gallery ids
        ranked_pids = g_pids[order]
        matches = ranked_pids == q_pids[sl, None]
        removed = removal_mask(protocol, q_pids[sl], q_cams[sl], g_pids, g_cams)
        keep = np.ones_like(matches) if removed is None else ~np.take_along_axis(removed, order, axis=1)
        good = matches & keep
        n_good = good.sum(axis=1)
        valid = n_good > 0
        # 1-based rank after removal; removed leading entries would give 0, clip them (they are
        # never true matches, so their value does not matter) to avoid 0/0.
        kept_rank = np.maximum(np.cumsum(keep, axis=1), 1)
        hits = np.cumsum(good, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            ap[sl] = np.where(valid, (good * hits / kept_rank).sum(axis=1) / n_good, np.nan)
            last = ng - 1 - np.argmax(good[:, ::-1], axis=1)               # hardest true match
            inp[sl] = np.where(valid, n_good / kept_rank[np.arange(len(order)), last], np.nan)
        first = np.argmax(good, axis=1)
        if dedup:
            # Rank in the de-duplicated list = number of identities whose first kept position
            # is at or before the query identity's first kept position.
            pos = np.empty_like(order)
            np.put_along_axis(pos, order, rows[None, :].repeat(len(order), 0), axis=1)
            kept_in_place = np.ones_like(pos, dtype=bool) if removed is None else ~removed
            pos = np.where(kept_in_place, pos, ng)                         # removed -> never first
            first_pos = np.minimum.reduceat(pos[:, by_pid], group_starts, axis=1)  # [B, P]
            q_first = first[:, None]
            rank = (first_pos <= q_first).sum(axis=1)
        else:
            rank = kept_rank[np.arange(len(order)), first]
        first_rank[sl] = np.where(valid, rank, 0)

    valid_all = first_rank > 0
    num_valid = int(valid_all.sum())
    if num_valid == 0:
        raise EvaluationError(f"no query has a true match in the gallery ({nq} queries, {ng} gallery images)")
    ranks = np.arange(1, max_rank + 1)
    cmc = (first_rank[valid_all, None] <= ranks[None, :]).mean(axis=0)
    return EvalResult(cmc=cmc, mAP=float(np.nanmean(ap)), mINP=float(np.nanmean(inp)),
                      num_valid=num_valid, num_invalid=nq - num_valid, ap=ap, inp=inp,
                      first_rank=first_rank)
