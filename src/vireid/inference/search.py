"""Top-k search of query features in a gallery: exact blocked matmul, or a FAISS index.

Features are unit-norm, so the score is the cosine similarity (a dot product) and larger is
better.

* ``exact_topk``: gallery blocks of ``block_size`` rows against query blocks of
  ``query_block`` rows; a running top-k per query is merged after each block, so memory is
  ``query_block x block_size`` scores whatever the gallery size (never N x M at once).
* ``faiss_topk``: ``IndexIVFFlat`` with inner product. Why this index: on unit-norm features
  inner product is cosine; IVF visits only ``nprobe`` of ``nlist`` k-means cells, which is
  where the speed comes from; "Flat" cells keep the float32 vectors, so the scores it returns
  are exact for the candidates it visits and recall depends only on ``nprobe`` (no
  quantisation loss to calibrate); the whole gallery is in RAM (4 D + 8 bytes a row). For
  galleries that do not fit, :mod:`vireid.inference.search_pq` (IVF-PQ, exact re-scoring
  from disk). ``nlist`` defaults to 4 sqrt(N) cells (the low end of FAISS's
  4-16 sqrt(N) guidance): FAISS scans a cell without BLAS, measured about 40x less efficient
  per multiply-add than the exact search's matrix product on this project's 2-core machine,
  so the index is only >= 10x faster when a query visits well under 1/400 of the gallery,
  i.e. many small cells. k-means runs 10 iterations on 39 rows per cell (FAISS warns below
  39), since training and assigning every row cost O(N x nlist x D) on the CPU. Default
  ``nprobe`` 4: on clustered 1M x 1024 features (bench/bench_inference.py,
  bench/results/inference-full.json) nprobe 1 already reached recall@10 0.998 at 166x the
  exact search's speed, nprobe 4 reached 0.9999 at 65x (100k: 1.0 at 15x); 4 keeps a margin
  for real features, whose identities separate less cleanly than the benchmark's clusters.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from vireid.errors import VireidError

DEFAULT_BLOCK = 65536
DEFAULT_NPROBE = 4


@dataclass
class SearchResult:
    scores: np.ndarray     # float32 [Q, k], descending per row
    index: np.ndarray      # int64 [Q, k], gallery rows
    build_s: float = 0.0   # index build time (FAISS), 0 for exact
    search_s: float = 0.0
    method: str = "exact"
    params: dict | None = None


def check_shapes(queries: tuple[int, ...], gallery: tuple[int, ...], k: int) -> int:
    """``k`` capped at the gallery size; one line when the feature matrices' shapes differ."""
    if len(queries) != 2 or len(gallery) != 2 or queries[1] != gallery[1]:
        raise VireidError(f"query features {list(queries)} and gallery features "
                          f"{list(gallery)} differ in dimension")
    if k < 1:
        raise VireidError(f"--top-k must be at least 1, got {k}")
    return min(k, gallery[0])


def exact_topk(queries: np.ndarray, gallery: np.ndarray, k: int, *, block_size: int = DEFAULT_BLOCK,
               query_block: int = 1024, device: str = "cpu") -> SearchResult:
    """The exact top-``k`` gallery rows of every query by dot product (see module docstring)."""
    import torch  # here, not at import: the on-disk search (search_pq) needs no torch

    k = check_shapes(queries.shape, gallery.shape, k)
    if block_size < 1:
        raise VireidError(f"--block-size must be at least 1, got {block_size}")
    start = time.perf_counter()
    dev = torch.device(device)
    out_scores = np.empty((len(queries), k), dtype=np.float32)
    out_index = np.empty((len(queries), k), dtype=np.int64)
    for q0 in range(0, len(queries), query_block):
        q = torch.from_numpy(np.array(queries[q0:q0 + query_block], dtype=np.float32)).to(dev)
        best_s = torch.full((len(q), 0), -math.inf, device=dev)
        best_i = torch.empty((len(q), 0), dtype=torch.int64, device=dev)
        for g0 in range(0, len(gallery), block_size):
            g = torch.from_numpy(np.array(gallery[g0:g0 + block_size], dtype=np.float32)).to(dev)
            s = q @ g.T
            kk = min(k, s.shape[1])
            s, i = torch.topk(s, kk, dim=1)
            best_s = torch.cat([best_s, s], dim=1)
            best_i = torch.cat([best_i, i + g0], dim=1)
            order = torch.sort(best_s, dim=1, descending=True, stable=True).indices[:, :k]
            best_s, best_i = best_s.gather(1, order), best_i.gather(1, order)
        out_scores[q0:q0 + len(q)] = best_s.cpu().numpy()
        out_index[q0:q0 + len(q)] = best_i.cpu().numpy()
    return SearchResult(out_scores, out_index, 0.0, time.perf_counter() - start, "exact",
                        {"block_size": block_size, "query_block": query_block, "device": str(dev)})


def default_nlist(n: int) -> int:
    """4 sqrt(N) cells, at least 1 and at most N / 39 (FAISS warns below 39 training points
    per centroid)."""
    return max(1, min(int(round(4 * math.sqrt(n))), n // 39))


def build_ivf(gallery: np.ndarray, nlist: int | None = None, *, train_size: int | None = None, seed: int = 0,
              niter: int = 10):
    """An ``IndexIVFFlat`` (inner product) over ``gallery``, ``niter`` k-means iterations on a
    seeded sample of at most ``train_size`` rows (default 39 per cell, FAISS's minimum)."""
    import faiss

    n, dim = gallery.shape
    nlist = nlist or default_nlist(n)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.niter, index.cp.seed = niter, seed
    sample = min(n, train_size or 39 * nlist)
    rows = np.sort(np.random.default_rng(seed).choice(n, size=sample, replace=False)) if sample < n else slice(None)
    index.train(np.ascontiguousarray(gallery[rows], dtype=np.float32))
    for g0 in range(0, n, DEFAULT_BLOCK):   # add in blocks: no second full copy of the gallery
        index.add(np.ascontiguousarray(gallery[g0:g0 + DEFAULT_BLOCK], dtype=np.float32))
    return index


def faiss_topk(queries: np.ndarray, gallery: np.ndarray, k: int, *, nlist: int | None = None,
               nprobe: int = DEFAULT_NPROBE, seed: int = 0) -> SearchResult:
    """Approximate top-``k`` through an IVF-Flat index (see module docstring)."""
    k = check_shapes(queries.shape, gallery.shape, k)
    start = time.perf_counter()
    index = build_ivf(gallery, nlist, seed=seed)
    built = time.perf_counter()
    index.nprobe = min(nprobe, index.nlist)
    scores, rows = index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    return SearchResult(scores.astype(np.float32), rows.astype(np.int64), built - start,
                        time.perf_counter() - built, "faiss-ivfflat",
                        {"nlist": int(index.nlist), "nprobe": int(index.nprobe), "train_seed": seed})


def recall_at_k(approx: np.ndarray, exact: np.ndarray) -> float:
    """Mean over queries of |approx top-k ∩ exact top-k| / k (FAISS's "k-recall@k")."""
    k = exact.shape[1]
    return float(np.mean([len(set(a) & set(e)) / k for a, e in zip(approx.tolist(), exact.tolist())]))
