"""k-reciprocal re-ranking: vireid.evaluation.re_ranking against a straightforward per-row
implementation (the authors' loop structure: dense [N, N] matrices, one image at a time), at
600 x 1,800 and at SYSU-MM01 multi-shot size (3,803 queries x 3,010 gallery), with peak
memory (tracemalloc: numpy reports its allocations to it); ``--size full`` adds the
feature-based route beyond the dense limit (10,000 x 14,000: (Q+G)^2 = 576 M entries).

Features: L2-normalised 2048-d vectors clustered around 200 identities (real neighbourhood
structure); distances: Euclidean, as evaluation passes them.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

from vireid.evaluation.rerank import (DENSE_LIMIT_ENTRIES, euclidean_from_cosine, re_ranking,
                                      re_ranking_features)

SEED = 0


def clustered(rng, n: int, ids: int = 200, dim: int = 2048) -> np.ndarray:
    centres = rng.standard_normal((ids, dim)).astype(np.float32)
    feats = centres[rng.integers(0, ids, n)] + 1.2 * rng.standard_normal((n, dim)).astype(np.float32)
    return feats / np.linalg.norm(feats, axis=1, keepdims=True)


def distances(q: np.ndarray, g: np.ndarray):
    return tuple(euclidean_from_cosine(1.0 - a @ b.T).astype(np.float32)
                 for a, b in ((q, g), (q, q), (g, g)))


def per_row_re_ranking(q_g, q_q, g_g, k1=20, k2=6, lambda_value=0.3):
    """The straightforward version: dense V, a Python loop over images for the k-reciprocal
    sets, the query expansion and the Jaccard distances."""
    nq = len(q_g)
    dist = np.block([[q_q, q_g], [q_g.T, g_g]]).astype(np.float32) ** 2
    dist = (dist / dist.max(axis=0)).T
    n = len(dist)
    rank = np.argsort(dist, axis=1)
    half = int(np.around(k1 / 2.0))

    def reciprocal(i, k):
        forward = rank[i, :k + 1]
        return forward[(rank[forward, :k + 1] == i).any(axis=1)]

    v = np.zeros((n, n), dtype=np.float32)
    for i in range(n):
        own = reciprocal(i, k1)
        expanded = [own]
        for c in own:
            theirs = reciprocal(c, half)
            if len(np.intersect1d(theirs, own)) > 2.0 / 3 * len(theirs):
                expanded.append(theirs)
        support = np.unique(np.concatenate(expanded))
        w = np.exp(-dist[i, support])
        v[i, support] = w / w.sum()
    if k2 != 1:
        v = np.stack([v[rank[i, :k2]].mean(axis=0) for i in range(n)])
    holders = [np.flatnonzero(v[:, j]) for j in range(n)]
    jaccard = np.empty((nq, n), dtype=np.float32)
    for i in range(nq):
        shared = np.zeros(n, dtype=np.float32)
        for j in np.flatnonzero(v[i]):
            shared[holders[j]] += np.minimum(v[i, j], v[holders[j], j])
        jaccard[i] = 1 - shared / (2 - shared)
    return (1 - lambda_value) * jaccard[:, nq:] + lambda_value * dist[:nq, nq:]


def _timed(fn):
    tracemalloc.start()
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, seconds, peak / 2**20


def run(size: str = "short") -> dict:
    rng = np.random.default_rng(SEED)
    results: dict = {"parameters": {"k1": 20, "k2": 6, "lambda_value": 0.3}, "seed": SEED,
                     "dense_limit_entries": DENSE_LIMIT_ENTRIES}
    q, g = clustered(rng, 600), clustered(rng, 1800)
    dists = distances(q, g)
    fast, fast_s, _ = _timed(lambda: re_ranking(*dists))
    fast_s = min(fast_s, *(_timed(lambda: re_ranking(*dists))[1] for _ in range(2)))
    slow, slow_s, _ = _timed(lambda: per_row_re_ranking(*dists))
    results["small"] = {"num_query": 600, "num_gallery": 1800, "vectorised_s": fast_s,
                        "per_row_s": slow_s, "speedup": slow_s / fast_s,
                        "max_abs_diff": float(np.abs(fast - slow).max())}
    q, g = clustered(rng, 3803), clustered(rng, 3010)
    dists = distances(q, g)
    inputs_mib = sum(d.nbytes for d in dists) / 2**20
    _, sysu_s, sysu_peak = _timed(lambda: re_ranking(*dists))
    results["sysu_multi_shot"] = {"num_query": 3803, "num_gallery": 3010, "seconds": sysu_s,
                                  "peak_mib_beyond_inputs": sysu_peak, "inputs_mib": inputs_mib,
                                  "output_mib": 3803 * 3010 * 4 / 2**20}
    if size == "full":
        q, g = clustered(rng, 10000, dim=512), clustered(rng, 14000, dim=512)
        _, big_s, big_peak = _timed(lambda: re_ranking_features(q, g))
        results["features_route"] = {"num_query": 10000, "num_gallery": 14000, "dim": 512,
                                     "seconds": big_s, "peak_mib": big_peak,
                                     "dense_stacked_matrix_mib": 24000**2 * 4 / 2**20}
    results["notes"] = ["per-row: a straightforward loop over images with dense [N, N] matrices "
                        "(bench/bench_rerank.py:per_row_re_ranking); same numbers up to float32 rounding",
                        "timings on a shared 2-core machine: compare ratios measured in one run"]
    return results


def headline(results: dict) -> list[dict]:
    s, m = results["small"], results["sysu_multi_shot"]
    rows = [
        {"name": "re_ranking 600 x 1,800 (vectorised)", "value": s["vectorised_s"], "unit": "s", "target": ""},
        {"name": "per-row implementation, 600 x 1,800", "value": s["per_row_s"], "unit": "s", "target": ""},
        {"name": "speed-up vs per-row", "value": s["speedup"], "unit": "x", "target": ">= 10x"},
        {"name": "max |difference| vs per-row", "value": s["max_abs_diff"], "unit": "", "target": "float32 rounding"},
        {"name": "re_ranking SYSU multi-shot 3,803 x 3,010", "value": m["seconds"], "unit": "s", "target": "seconds"},
        {"name": "peak memory beyond the inputs, SYSU multi-shot", "value": m["peak_mib_beyond_inputs"],
         "unit": "MiB", "target": ""},
    ]
    if "features_route" in results:
        f = results["features_route"]
        rows += [{"name": "re_ranking_features 10,000 x 14,000 (512-d)", "value": f["seconds"], "unit": "s", "target": ""},
                 {"name": "its peak memory (a dense stacked matrix: 2,197 MiB)", "value": f["peak_mib"],
                  "unit": "MiB", "target": ""}]
    return rows
