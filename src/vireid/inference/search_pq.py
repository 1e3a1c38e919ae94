"""Top-k search of a gallery larger than memory: FAISS IVF-PQ proposes candidates, which are
re-scored exactly from the gallery file.

Why this index: ``faiss_topk``'s IVF-Flat keeps every float32 vector in RAM (4 D + 8 bytes a
row: 4 GiB for 1M x 1024-d), like every FAISS index that stores vectors uncompressed.
``IndexIVFPQ`` (inner product, residuals to the cell centroid product-quantised) keeps ``m``
one-byte codes and an 8-byte id a row (72 bytes at ``m`` = 64: 57x less than IVF-Flat at
1024-d), at the price of approximate scores. Approximate scores rank a cluster's members
badly (on the benchmark's clustered features PQ alone finds ~30% of the true top-10), so the
index only proposes ``k x rescore`` candidates per query, and their exact dot products (the
exact search's scores) decide the top-k: recall is lost only where a true neighbour is not
among the candidates, and every returned score is exact.

Three passes over the gallery file, each holding one block of ``block_rows`` rows:
1. train on a seeded sample of ``train_rows`` rows (default 39 per cell and at least
   39 x 256 for the PQ codebooks, FAISS's minimum before it warns): k-means coarse cells,
   then ``m`` codebooks of 256 entries;
2. add: every block is encoded into the index;
3. re-score: the index returns ``k x rescore`` candidates per query (``nprobe`` cells
   visited); each block scores exactly the candidates it holds; the top-k of those scores
   (ties by gallery row) is the answer.

Resident memory: the codes and ids (N x (m + 8) bytes), the training sample while training
(``train_rows`` x D x 4 bytes), one block with its Parquet pages, and the candidate lists
(Q x k x rescore x 20 bytes). Default ``nlist`` = sqrt(N) cells (FAISS's usual starting point;
IVF-Flat here uses 4 sqrt(N) because its cell scan costs D multiply-adds a row, PQ's ``m``
table look-ups), which also keeps training and assignment, O(N x nlist x D), affordable on a CPU.
Default ``nprobe`` 128 and ``rescore`` 10 are the bench's (bench/bench_inference.py,
bench/results/inference-pq-full.json): on 1M x 1024 clustered features (10,000 clusters),
nlist 1,000, recall@10 rose with nprobe (8: 0.87, 32: 0.93, 64: 0.95, 128: 0.97) while 20
instead of 10 candidates per result added under 0.01; proposing at nprobe 128 took about a
third of the time of the re-scoring pass, which reads the whole file once.
"""

from __future__ import annotations

import math
import time

import numpy as np

from vireid.errors import VireidError
from vireid.inference.features_file import Embeddings, feature_blocks
from vireid.inference.search import SearchResult, check_shapes

DEFAULT_PQ_M = 64          # bytes of code a row (sub-quantisers of 8 bits)
DEFAULT_PQ_NPROBE = 128    # of sqrt(N) cells; see the module docstring
DEFAULT_RESCORE = 10       # candidates re-scored exactly per result row
DEFAULT_READ_BLOCK = 1024  # gallery rows read from disk at once (decoding costs ~6x the block's bytes)
PQ_BITS = 8
_MIN_PER_CENTROID = 39     # FAISS warns below 39 training rows per k-means centroid
_GATHER = 65536            # candidates scored at once within a block (bounds the gathered rows)
_ENCODE_ROWS = 256         # rows PQ-encoded at once: encoding holds rows x m x 256 floats of distance tables


def default_pq_nlist(n: int) -> int:
    """sqrt(N) cells, at least 1 and at most N / 39."""
    return max(1, min(int(round(math.sqrt(n))), n // _MIN_PER_CENTROID))


def default_train_rows(nlist: int) -> int:
    return _MIN_PER_CENTROID * max(nlist, 2 ** PQ_BITS)


def _training_sample(gallery: Embeddings, rows: np.ndarray, block_rows: int) -> np.ndarray:
    sample = np.empty((len(rows), gallery.dim), dtype=np.float32)
    for first, block in feature_blocks(gallery, block_rows):
        lo, hi = np.searchsorted(rows, [first, first + len(block)])
        sample[lo:hi] = block[rows[lo:hi] - first]
    return sample


def build_ivfpq(gallery: Embeddings, *, nlist: int | None = None, m: int = DEFAULT_PQ_M,
                train_rows: int | None = None, block_rows: int = DEFAULT_READ_BLOCK, seed: int = 0,
                niter: int = 10):
    """An ``IndexIVFPQ`` (inner product) over the gallery file's features, read in blocks."""
    import faiss

    n, dim = len(gallery.file_rows), gallery.dim
    if dim % m:
        raise VireidError(f"--pq-m {m} must divide the feature dimension {dim} (e.g. {_divisor_near(dim, m)})")
    if n < 2 ** PQ_BITS:
        raise VireidError(f"{gallery.path}: faiss-pq needs at least {2 ** PQ_BITS} gallery rows (its codebooks "
                          f"have {2 ** PQ_BITS} entries), got {n}; use --index exact")
    nlist = nlist or default_pq_nlist(n)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFPQ(quantizer, dim, nlist, m, PQ_BITS, faiss.METRIC_INNER_PRODUCT)
    index.cp.niter, index.cp.seed = niter, seed
    sample = min(n, train_rows or default_train_rows(nlist))
    rows = np.sort(np.random.default_rng(seed).choice(n, size=sample, replace=False))
    index.train(_training_sample(gallery, rows, block_rows))
    for _, block in feature_blocks(gallery, block_rows):
        for start in range(0, len(block), _ENCODE_ROWS):
            index.add(block[start:start + _ENCODE_ROWS])
    return index


def _divisor_near(dim: int, m: int) -> int:
    return min((d for d in range(1, dim + 1) if dim % d == 0), key=lambda d: (abs(d - m), d))


def exact_scores(queries: np.ndarray, gallery: Embeddings, candidates: np.ndarray,
                 block_rows: int = DEFAULT_READ_BLOCK) -> np.ndarray:
    """float32 [Q, R]: the exact dot product of each query with each of its ``candidates``
    (gallery rows; -1 = none, scored -inf), the features read from the gallery file block by
    block: one pass over the file for all queries."""
    q, r = candidates.shape
    flat = candidates.reshape(-1)
    order = np.argsort(flat, kind="stable")            # by gallery row; the -1 entries first
    rows = flat[order]
    scores = np.full(q * r, -np.inf, dtype=np.float32)
    for first, block in feature_blocks(gallery, block_rows):
        lo, hi = np.searchsorted(rows, [first, first + len(block)])
        for start in range(lo, hi, _GATHER):
            stop = min(start + _GATHER, hi)
            at = order[start:stop]
            scores[at] = np.einsum("ij,ij->i", queries[at // r], block[rows[start:stop] - first])
    return scores.reshape(q, r)


def top_k(scores: np.ndarray, candidates: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, rows)`` [Q, k] of the ``k`` best candidates per query, descending, ties by
    gallery row; -inf / -1 pad a query with fewer than ``k`` candidates."""
    best = np.lexsort((np.where(candidates < 0, np.iinfo(np.int64).max, candidates), -scores), axis=1)[:, :k]
    top_scores = np.take_along_axis(scores, best, 1)
    return top_scores, np.where(np.isfinite(top_scores), np.take_along_axis(candidates, best, 1), -1)


def rescore(queries: np.ndarray, gallery: Embeddings, candidates: np.ndarray, k: int,
            block_rows: int = DEFAULT_READ_BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """The exact top-``k`` of each query's ``candidates``, scored from the gallery file."""
    return top_k(exact_scores(queries, gallery, candidates, block_rows), candidates, k)


def propose(index, queries: np.ndarray, count: int, nprobe: int) -> np.ndarray:
    """int64 [Q, count]: the index's ``count`` best gallery rows per query by approximate
    score, visiting ``nprobe`` cells (-1 where the cells hold fewer)."""
    index.nprobe = min(nprobe, index.nlist)
    _, rows = index.search(np.ascontiguousarray(queries, dtype=np.float32), count)
    return rows.astype(np.int64)


def faiss_pq_topk(queries: np.ndarray, gallery: Embeddings, k: int, *, nlist: int | None = None,
                  nprobe: int = DEFAULT_PQ_NPROBE, m: int = DEFAULT_PQ_M, rescore_factor: int = DEFAULT_RESCORE,
                  block_rows: int = DEFAULT_READ_BLOCK, seed: int = 0) -> SearchResult:
    """Top-``k`` of a gallery file (read with ``features=False``) through IVF-PQ candidates
    re-scored exactly (see the module docstring)."""
    n = len(gallery.file_rows)
    k = check_shapes(queries.shape, (n, gallery.dim), k)
    for name, value in (("--rescore", rescore_factor), ("--block-size", block_rows), ("--nprobe", nprobe)):
        if value < 1:
            raise VireidError(f"{name} must be at least 1, got {value}")
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    start = time.perf_counter()
    index = build_ivfpq(gallery, nlist=nlist, m=m, block_rows=block_rows, seed=seed)
    built = time.perf_counter()
    wanted = min(n, k * rescore_factor)
    candidates = propose(index, queries, wanted, nprobe)
    proposed = time.perf_counter()
    scores, rows = rescore(queries, gallery, candidates, k, block_rows)
    done = time.perf_counter()
    return SearchResult(scores, rows, built - start, done - built, "faiss-ivfpq-rescored", {
        "nlist": int(index.nlist), "nprobe": int(index.nprobe), "pq_m": m, "pq_bits": PQ_BITS,
        "candidates": wanted, "rescore": rescore_factor, "block_rows": block_rows, "train_seed": seed,
        "code_bytes_per_row": int(index.code_size) + 8, "candidate_s": proposed - built, "rescore_s": done - proposed})
