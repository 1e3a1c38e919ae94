"""CMC, mAP and mINP under the SYSU-MM01, RegDB and LLCM evaluation rules.

This module is the readable definition of the protocol: :func:`evaluate_reference` ranks one
query at a time with a stable argsort and states every rule; :func:`evaluate`, the public
entry point, returns the same numbers bit for bit from the fast exact ranker in
:mod:`vireid.evaluation.ranking` (no row sorted; property-tested against the reference).

Rules, as the published SYSU-MM01, RegDB and LLCM numbers use them, applied per query:

* Ranking (all protocols): the gallery sorted by ascending distance with a *stable* sort, so
  equal distances keep gallery order (ties broken by the lower gallery index; -0.0 ties
  with 0.0; -inf and +inf are ordinary values). Deterministic, unlike the field's default
  quicksort. NaN distances are rejected.
* ``"sysu"`` (SYSU-MM01 official evaluation): a query from camera 3 discards every gallery
  image from camera 2, whatever its identity; nothing is discarded for camera-6 queries.
  CMC is computed on the ranked identities *de-duplicated* after the removal (first
  occurrence of each identity kept); mAP and mINP use the full list after removal.
* ``"regdb"``: standard CMC, no removal and no de-duplication.
* ``"llcm"``: gallery images with the query's identity AND camera are discarded; CMC on the
  de-duplicated identity list, mAP/mINP on the full list after removal.

The rules are :class:`vireid.evaluation.rules.GalleryRule` values; the protocol names above
are its presets, and the generic rules (``none``, ``same-camera``, ``same-id-same-camera``)
serve datasets of your own. ``protocol`` may be a name or a rule.

Definitions: AP is the mean of precision@k over the ranks k of the true matches; mINP
(Ye et al., AGW) is ``#true matches / rank of the hardest (last) true match``. A query with
no true match left after removal is *invalid*: it is excluded from every average and counted
in :attr:`EvalResult.num_invalid`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vireid.errors import VireidError
from vireid.evaluation.errors import EvaluationError
from vireid.evaluation.ranking import per_query
from vireid.evaluation.rules import PRESETS, GalleryRule, gallery_rule

PROTOCOLS = tuple(PRESETS)             # the benchmarks' rules by name


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


def removal_mask(protocol: str | GalleryRule, q_pids: np.ndarray, q_cams: np.ndarray,
                 g_pids: np.ndarray, g_cams: np.ndarray) -> np.ndarray | None:
    """[Q, G] boolean mask of gallery images a query must ignore (None: nothing removed).

    SYSU: query camera 3 drops gallery camera 2. LLCM: same identity and same camera.
    RegDB: nothing. Other rules: :class:`GalleryRule`.
    """
    return gallery_rule(protocol).mask(q_pids, q_cams, g_pids, g_cams)


def resolve_rule(protocol: str | GalleryRule) -> GalleryRule:
    """The rule of ``protocol``; an unknown name is an :class:`EvaluationError`."""
    try:
        return gallery_rule(protocol)
    except VireidError as exc:
        raise EvaluationError(str(exc)) from None


def _check(distmat, q_pids, g_pids, q_cams, g_cams, protocol, max_rank):
    protocol = resolve_rule(protocol)
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
    return distmat, q_pids, g_pids, q_cams, g_cams, protocol


def evaluate_reference(distmat, q_pids, g_pids, q_cams, g_cams, protocol: str | GalleryRule = "sysu",
                       max_rank: int = 20) -> EvalResult:
    """The specification of :func:`evaluate`: one query at a time, a stable argsort each.

    For query ``i``:

    1. rank the gallery by ascending distance, stably (ties: lower gallery index first);
    2. drop the items :func:`removal_mask` removes (SYSU: cam2 for a cam3 query; LLCM: the
       query's identity in the query's camera; RegDB: none);
    3. no true match left: the query is invalid (``first_rank`` 0, ``ap``/``inp`` NaN);
    4. CMC: ``first_rank`` is the 1-based position of the query's identity in the ranked
       identities, de-duplicated (first occurrence kept) for SYSU and LLCM, as they are for
       RegDB;
    5. AP: mean of precision@k over the ranks k of the true matches in the list after
       removal (not de-duplicated); INP: #true matches / rank of the last one.

    Plain but O(Q x G log G) with a Python loop per query: the tests and the benchmark use it
    to check :func:`evaluate`, which must agree exactly.
    """
    distmat, q_pids, g_pids, q_cams, g_cams, rule = _check(
        distmat, q_pids, g_pids, q_cams, g_cams, protocol, max_rank)
    if np.isnan(distmat).any():
        raise EvaluationError("distmat contains NaN distances")
    removed = rule.mask(q_pids, q_cams, g_pids, g_cams)
    nq = distmat.shape[0]
    first_rank = np.zeros(nq, dtype=np.int64)
    ap, inp = np.full(nq, np.nan), np.full(nq, np.nan)
    for i in range(nq):
        order = np.argsort(distmat[i], kind="stable")
        if removed is not None:
            order = order[~removed[i, order]]
        ranked = g_pids[order]
        match_rank = np.flatnonzero(ranked == q_pids[i]) + 1          # 1-based, ascending
        if len(match_rank) == 0:
            continue
        if rule.dedup:
            ranked = ranked[np.sort(np.unique(ranked, return_index=True)[1])]
        first_rank[i] = np.flatnonzero(ranked == q_pids[i])[0] + 1
        # cumsum adds in rank order: the same float sum as the fast ranker's (np.sum would
        # add pairwise and could differ in the last bit)
        precision = np.arange(1, len(match_rank) + 1) / match_rank
        ap[i] = precision.cumsum()[-1] / len(match_rank)
        inp[i] = len(match_rank) / match_rank[-1]
    return _result(first_rank, ap, inp, max_rank, distmat.shape)


def evaluate(distmat, q_pids, g_pids, q_cams, g_cams, protocol: str | GalleryRule = "sysu",
             max_rank: int = 20) -> EvalResult:
    """CMC / mAP / mINP of a [Q, G] distance matrix under ``protocol`` (see the module
    docstring): the numbers of :func:`evaluate_reference`, bit for bit, from the fast exact
    ranker (:func:`vireid.evaluation.ranking.per_query`). ``max_rank`` may exceed the
    gallery size: the CMC then simply stays at its last value.
    """
    distmat, q_pids, g_pids, q_cams, g_cams, rule = _check(
        distmat, q_pids, g_pids, q_cams, g_cams, protocol, max_rank)
    first_rank, ap, inp = per_query(distmat, q_pids, g_pids, q_cams, g_cams, rule)
    return _result(first_rank, ap, inp, max_rank, distmat.shape)


def _result(first_rank, ap, inp, max_rank, shape) -> EvalResult:
    """Averages over the valid queries (``first_rank`` > 0) of the per-query values."""
    nq = len(first_rank)
    valid = first_rank > 0
    num_valid = int(valid.sum())
    if num_valid == 0:
        raise EvaluationError(f"no query has a true match in the gallery ({nq} queries, {shape[1]} gallery images)")
    ranks = np.arange(1, max_rank + 1)
    cmc = (first_rank[valid, None] <= ranks[None, :]).mean(axis=0)
    return EvalResult(cmc=cmc, mAP=float(np.nanmean(ap)), mINP=float(np.nanmean(inp)),
                      num_valid=num_valid, num_invalid=nq - num_valid, ap=ap, inp=inp,
                      first_rank=first_rank)
