"""Chance level: what a random ranking scores on a given query/gallery setup.

Per query, with ``n`` gallery images left after the protocol's removal and ``m`` true
matches among them (queries with m = 0 are excluded, as in :func:`evaluate`), a uniformly
random ranking has, exactly:

* R1 = m / n;
* E[AP] = H_n / n + (m - 1) / (n - 1) * (1 - H_n / n), with H_n the n-th harmonic number
  (each true match is equally likely at every rank r, and the other m - 1 matches fill the
  r - 1 earlier slots with probability (m - 1) / (n - 1) each; n = 1 gives 1);
* E[INP] = sum_r m / r * P(last match at rank r), P = C(r-1, m-1) / C(n, m).

R1 is unaffected by the de-duplicated CMC. Values are averaged over valid queries.
"""

from __future__ import annotations

from functools import lru_cache
from math import lgamma

import numpy as np

from vireid.evaluation.errors import EvaluationError
from vireid.evaluation.metrics import removal_mask


def _log_comb(n: np.ndarray | int, k: np.ndarray | int) -> np.ndarray:
    lg = np.vectorize(lgamma)
    return lg(np.asarray(n) + 1.0) - lg(np.asarray(k) + 1.0) - lg(np.asarray(n) - np.asarray(k) + 1.0)


@lru_cache(maxsize=4096)
def expected_ap(n: int, m: int) -> float:
    """Exact expected average precision of a random ranking of n items with m relevant."""
    if n == 1:
        return 1.0
    h_n = float(np.sum(1.0 / np.arange(1, n + 1)))
    return h_n / n + (m - 1) / (n - 1) * (1.0 - h_n / n)


@lru_cache(maxsize=4096)
def expected_inp(n: int, m: int) -> float:
    """Exact expected inverse negative penalty m / rank(last match) of a random ranking."""
    r = np.arange(m, n + 1)
    p_last = np.exp(_log_comb(r - 1, m - 1) - _log_comb(n, m))
    return float(np.sum(m / r * p_last))


def chance_level(q_pids, g_pids, q_cams, g_cams, protocol: str = "sysu") -> dict[str, float]:
    """Expected R1, mAP and mINP of a random ranking under ``protocol``'s removal rule."""
    q_pids, g_pids = np.asarray(q_pids), np.asarray(g_pids)
    q_cams, g_cams = np.asarray(q_cams), np.asarray(g_cams)
    matches = q_pids[:, None] == g_pids[None, :]
    removed = removal_mask(protocol, q_pids, q_cams, g_pids, g_cams)
    keep = np.ones_like(matches) if removed is None else ~removed
    n = keep.sum(axis=1)
    m = (matches & keep).sum(axis=1)
    valid = m > 0
    if not valid.any():
        raise EvaluationError("no query has a true match in the gallery: chance level undefined")
    n, m = n[valid], m[valid]
    return {"R1": float(np.mean(m / n)),
            "mAP": float(np.mean([expected_ap(int(a), int(b)) for a, b in zip(n, m)])),
            "mINP": float(np.mean([expected_inp(int(a), int(b)) for a, b in zip(n, m)]))}
