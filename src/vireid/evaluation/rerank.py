"""k-reciprocal re-ranking (Zhong, Zheng, Cao and Li, "Re-ranking Person Re-identification
with k-reciprocal Encoding", CVPR 2017), vectorised and memory-bounded.

:func:`re_ranking` has the field's signature and returns the numbers of the authors' Python
version (``python-version/re_ranking_ranklist.py`` of zhunzhong07/person-re-ranking), in
these steps, for the N = Q + G images of the query and gallery together:

1. ``d(i, j)`` = the squared input distance, divided by the largest one of image i's row of
   the authors' transposed matrix (that is column i of the stacked [Q+G, Q+G] matrix);
2. ``R(i, k1)``: the k-reciprocal neighbours, eq. (4): j among the k1 + 1 nearest of i
   (i itself included) and i among the k1 + 1 nearest of j;
3. eq. (6): ``R*(i)`` = R(i, k1) plus R(c, round(k1 / 2)) of every c in R(i, k1) that shares
   more than 2/3 of its own set with R(i, k1) (``round`` = numpy's half-to-even);
4. eq. (8): ``V[i, j] = exp(-d(i, j)) / sum_{j' in R*(i)} exp(-d(i, j'))`` on R*(i), else 0;
5. eq. (11), local query expansion (skipped for k2 = 1): ``V[i]`` = mean of the rows of i's
   k2 nearest;
6. eq. (10) and (12): Jaccard distance ``1 - sum_k min(V[i,k], V[j,k]) / sum_k max(...)``
   (rows sum to 1, so sum max = 2 - sum min) mixed with d: ``(1 - lambda) d_J + lambda d``.

Nothing is [N, N]: the nearest neighbours are found one block of rows at a time
(``argpartition``, then an exact stable order of the k found), V is sparse (at most
(k1 + 1)(round(k1 / 2) + 2) entries a row, k2 times that after the query expansion; far
fewer in practice), and the Jaccard numerator is summed over the pairs of one query and one
gallery image sharing a non-zero column (a min-sum, no dense product), one block of query
rows at a time. Memory is the inputs, the [Q, G] float32 output, the sparse V and
O(N * k1^2) neighbourhood arrays, plus chunk-sized temporaries (bench/bench_rerank.py
measures the peak).

Ties between equal distances go to the lower index (stable), as everywhere in vireid; the
authors' default quicksort leaves their order unspecified. Squares are taken in float64, so
two distinct input distances never merge into a tie.

The neighbourhoods can come from distance matrices (:func:`re_ranking`) or, where the
three matrices together would not fit (``(Q+G)^2`` entries), straight from the features
(:func:`re_ranking_features`): the same algorithm on squared Euclidean distances computed
block by block, never holding more than one [block, N] slice of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vireid.evaluation.errors import EvaluationError

# Entries of the [rows, N] float64 distance block searched for nearest neighbours at a time.
_BLOCK_ENTRIES = 1 << 21
# Query-gallery pairs (and gathered query-expansion entries) handled at a time.
_PAIR_CHUNK = 1 << 22


@dataclass(frozen=True)
class RerankOptions:
    """The paper's parameters (k1 = 20, k2 = 6, lambda = 0.3 are its Market-1501 values,
    and the values VI-ReID papers report "with re-ranking" rows for)."""

    k1: int = 20
    k2: int = 6
    lambda_value: float = 0.3

    def __post_init__(self) -> None:
        for name in ("k1", "k2"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise EvaluationError(f"re-ranking {name} must be an integer >= 1, got {value!r}")
        lam = self.lambda_value
        if isinstance(lam, bool) or not isinstance(lam, (int, float)) or not 0.0 <= float(lam) <= 1.0:
            raise EvaluationError(f"re-ranking lambda_value must lie in [0, 1], got {lam!r}")

    def describe(self) -> str:
        return f"k-reciprocal re-ranking k1={self.k1} k2={self.k2} lambda={self.lambda_value}"

    def to_dict(self) -> dict[str, float]:
        return {"k1": int(self.k1), "k2": int(self.k2), "lambda_value": float(self.lambda_value)}


def re_ranking(q_g_dist, q_q_dist, g_g_dist, k1: int = 20, k2: int = 6,
               lambda_value: float = 0.3) -> np.ndarray:
    """Re-ranked [Q, G] float32 distance (eq. 12 of Zhong et al.) from the query-gallery,
    query-query and gallery-gallery distances, as the authors' Python version computes it.

    Which distance to pass: the *Euclidean* distance, not its square. The algorithm squares
    its input (the authors feed it ``cdist`` of the features); code that passes an already
    squared distance (squared Euclidean, or ``1 - cos``, which is half the squared Euclidean
    distance of L2-normalised features) squares twice, and its neighbour weights exp(-d^2)
    and the lambda mix change. vireid ranks by ``1 - cos`` on L2-normalised features and
    passes ``sqrt(2 (1 - cos))``, their Euclidean distance (:func:`euclidean_from_cosine`),
    so the squares inside are the squared Euclidean distances, as in the paper.

    Raises :class:`EvaluationError` on mismatched shapes, NaN or infinite distances, or
    parameters out of range (k1, k2 >= 1; 0 <= lambda_value <= 1).
    """
    options = RerankOptions(k1, k2, lambda_value)
    q_g, q_q, g_g = (np.asarray(a) for a in (q_g_dist, q_q_dist, g_g_dist))
    if q_g.ndim != 2 or q_q.ndim != 2 or g_g.ndim != 2:
        raise EvaluationError("re_ranking needs 2-D distance matrices")
    nq, ng = q_g.shape
    if q_q.shape != (nq, nq) or g_g.shape != (ng, ng):
        raise EvaluationError(f"re_ranking: q_g_dist {q_g.shape} needs q_q_dist ({nq}, {nq}) and "
                              f"g_g_dist ({ng}, {ng}), got {q_q.shape} and {g_g.shape}")
    for name, arr in (("q_g_dist", q_g), ("q_q_dist", q_q), ("g_g_dist", g_g)):
        if arr.size and not np.isfinite(arr).all():
            raise EvaluationError(f"re_ranking: {name} contains NaN or infinite distances")
    if nq == 0 or ng == 0:
        return np.zeros((nq, ng), dtype=np.float32)
    return _rerank(_DistanceSource(q_g, q_q, g_g), options)


def re_ranking_features(query: np.ndarray, gallery: np.ndarray, k1: int = 20, k2: int = 6,
                        lambda_value: float = 0.3) -> np.ndarray:
    """:func:`re_ranking` of the Euclidean distances between feature rows, without any
    [N, N] or [Q, Q] / [G, G] matrix: the sparse fallback for sets whose stacked distance
    matrix would not fit. Equal to ``re_ranking(euclid(q, g), euclid(q, q), euclid(g, g))``
    up to the rounding of the distances (block matrix products round differently)."""
    options = RerankOptions(k1, k2, lambda_value)
    query, gallery = np.asarray(query, dtype=np.float32), np.asarray(gallery, dtype=np.float32)
    if query.ndim != 2 or gallery.ndim != 2 or query.shape[1] != gallery.shape[1]:
        raise EvaluationError(f"re_ranking_features needs [Q, D] and [G, D] features, got "
                              f"{query.shape} and {gallery.shape}")
    if not (np.isfinite(query).all() and np.isfinite(gallery).all()):
        raise EvaluationError("re_ranking_features: features contain NaN or infinite values")
    if len(query) == 0 or len(gallery) == 0:
        return np.zeros((len(query), len(gallery)), dtype=np.float32)
    return _rerank(_FeatureSource(query, gallery), options)


# Above this many entries in the stacked [(Q+G), (Q+G)] distance matrix (512 MiB of float32),
# evaluation re-ranks from the features (no [Q, Q] / [G, G] matrices) instead.
DENSE_LIMIT_ENTRIES = 1 << 27


def rerank_features(query: np.ndarray, gallery: np.ndarray,
                    options: RerankOptions) -> tuple[np.ndarray, str]:
    """Re-ranked [Q, G] distance of L2-normalised features as evaluation computes it, and the
    route taken: ``"dense"`` (the three Euclidean distance matrices into :func:`re_ranking`)
    up to :data:`DENSE_LIMIT_ENTRIES`, ``"features"`` (:func:`re_ranking_features`) beyond."""
    query = _unit(query)
    gallery = _unit(gallery)
    if (len(query) + len(gallery)) ** 2 > DENSE_LIMIT_ENTRIES:
        return re_ranking_features(query, gallery, options.k1, options.k2, options.lambda_value), "features"
    q_g, q_q, g_g = (euclidean_from_cosine(1.0 - a @ b.T).astype(np.float32)
                     for a, b in ((query, gallery), (query, query), (gallery, gallery)))
    return re_ranking(q_g, q_q, g_g, options.k1, options.k2, options.lambda_value), "dense"


def _unit(feats: np.ndarray) -> np.ndarray:
    feats = np.asarray(feats, dtype=np.float32)
    return feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)


def euclidean_from_cosine(cosine_dist: np.ndarray) -> np.ndarray:
    """Euclidean distance of L2-normalised features from their cosine distance 1 - cos:
    ``|a - b|^2 = 2 - 2 cos``; rounding below zero is clipped."""
    return np.sqrt(np.maximum(2.0 * np.asarray(cosine_dist, dtype=np.float64), 0.0))


class _DistanceSource:
    """Squared distances from the three matrices. Row i of the authors' (transposed) matrix
    is column i of the stacked matrix [[q_q, q_g], [q_g^T, g_g]]."""

    def __init__(self, q_g: np.ndarray, q_q: np.ndarray, g_g: np.ndarray):
        self.q_g, self.q_q, self.g_g = q_g, q_q, g_g
        self.nq, self.ng = q_g.shape

    @property
    def n(self) -> int:
        return self.nq + self.ng

    def rows(self, start: int, stop: int) -> np.ndarray:
        """[stop - start, N] float64 squared distances of rows ``start:stop`` (one side only:
        the caller never lets a block straddle the query/gallery boundary)."""
        if stop <= self.nq:
            parts = (self.q_q[:, start:stop].T, self.q_g[start:stop])
        else:
            a, b = start - self.nq, stop - self.nq
            parts = (self.q_g[:, a:b].T, self.g_g[:, a:b].T)
        out = np.concatenate([np.asarray(p, dtype=np.float64) for p in parts], axis=1)
        return np.square(out, out=out)

    def pairs(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Squared distances of the (row, column) pairs of the authors' matrix."""
        out = np.empty(len(rows), dtype=np.float64)
        nq = self.nq
        for r_query in (True, False):
            for c_query in (True, False):
                sel = np.flatnonzero(((rows < nq) == r_query) & ((cols < nq) == c_query))
                if not len(sel):
                    continue
                r, c = rows[sel], cols[sel]
                if r_query and c_query:
                    vals = self.q_q[c, r]
                elif r_query:
                    vals = self.q_g[r, c - nq]
                elif c_query:
                    vals = self.q_g[c, r - nq]
                else:
                    vals = self.g_g[c - nq, r - nq]
                out[sel] = vals
        return np.square(out, out=out)

    def query_gallery(self, start: int, stop: int) -> np.ndarray:
        """Squared distances of queries ``start:stop`` to every gallery image."""
        return np.square(np.asarray(self.q_g[start:stop], dtype=np.float64))


class _FeatureSource:
    """Squared Euclidean distances between feature rows, computed on demand (symmetric)."""

    def __init__(self, query: np.ndarray, gallery: np.ndarray):
        self.feats = np.concatenate([query, gallery]).astype(np.float64)
        self.sq = np.einsum("ij,ij->i", self.feats, self.feats)
        self.nq, self.ng = len(query), len(gallery)

    @property
    def n(self) -> int:
        return self.nq + self.ng

    def _block(self, a: np.ndarray, a_sq: np.ndarray, b: np.ndarray, b_sq: np.ndarray) -> np.ndarray:
        out = a @ b.T
        out *= -2.0
        out += a_sq[:, None]
        out += b_sq[None, :]
        return np.maximum(out, 0.0, out=out)

    def rows(self, start: int, stop: int) -> np.ndarray:
        return self._block(self.feats[start:stop], self.sq[start:stop], self.feats, self.sq)

    def pairs(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        out = np.empty(len(rows), dtype=np.float64)
        step = max(1, _BLOCK_ENTRIES // self.feats.shape[1])    # bounds the gathered rows
        for start in range(0, len(rows), step):
            r, c = rows[start:start + step], cols[start:start + step]
            dots = np.einsum("ij,ij->i", self.feats[r], self.feats[c])
            out[start:start + step] = np.maximum(self.sq[r] + self.sq[c] - 2.0 * dots, 0.0)
        return out

    def query_gallery(self, start: int, stop: int) -> np.ndarray:
        return self._block(self.feats[start:stop], self.sq[start:stop],
                           self.feats[self.nq:], self.sq[self.nq:])


def _row_blocks(source, n_cols: int):
    """(start, stop) blocks of rows, each within the query part or the gallery part."""
    step = max(1, _BLOCK_ENTRIES // max(n_cols, 1))
    for lo, hi in ((0, source.nq), (source.nq, source.n)):
        for start in range(lo, hi, step):
            yield start, min(start + step, hi)


def _smallest(block: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k smallest values of each row in ascending (value, index) order: the
    first k of a stable argsort, without sorting the row."""
    nb, n = block.shape
    if k >= n:
        return np.argsort(block, axis=1, kind="stable")
    part = np.argpartition(block, k - 1, axis=1)[:, :k]
    kth = np.take_along_axis(block, part, axis=1).max(axis=1)[:, None]
    keep = block < kth
    equal = block == kth
    need = k - keep.sum(axis=1)
    ties = np.flatnonzero(equal.sum(axis=1) > need)    # rows where the k-th value is shared
    keep |= equal
    if len(ties):                                      # only the lowest indices of the ties
        surplus = equal[ties] & (np.cumsum(equal[ties], axis=1) > need[ties, None])
        keep[ties] &= ~surplus
    idx = np.nonzero(keep)[1].reshape(nb, k)           # ascending index within each row
    order = np.argsort(np.take_along_axis(block, idx, axis=1), axis=1, kind="stable")
    return np.take_along_axis(idx, order, axis=1)


def _neighbours(source, k: int) -> tuple[np.ndarray, np.ndarray]:
    """([N, k] nearest indices, nearest first; [N] scale = 1 / the row's largest squared
    distance, the authors' normalisation, 1 for an all-zero row)."""
    n = source.n
    ranks = np.empty((n, k), dtype=np.int64)
    scale = np.empty(n, dtype=np.float64)
    for start, stop in _row_blocks(source, n):
        block = source.rows(start, stop)
        ranks[start:stop] = _smallest(block, k)
        top = block.max(axis=1)
        scale[start:stop] = np.where(top > 0, 1.0 / np.where(top > 0, top, 1.0), 1.0)
    return ranks, scale


def _reciprocal(ranks: np.ndarray, k: int) -> np.ndarray:
    """[N, k] k-reciprocal neighbours (eq. 4): ``ranks[i, a]`` where i is among the k nearest
    of it, else -1."""
    forward = ranks[:, :k]
    out = np.full_like(forward, -1)
    step = max(1, (1 << 22) // (k * k))
    for start in range(0, len(forward), step):
        f = forward[start:start + step]
        me = np.arange(start, start + len(f))[:, None, None]
        back = (forward[f] == me).any(axis=2)
        out[start:start + step] = np.where(back, f, -1)
    return out


def _expansion(recip: np.ndarray, half: np.ndarray) -> np.ndarray:
    """[N, k + k * h] padded R*(i) (eq. 6, duplicates allowed, -1 = empty): R(i, k1) plus
    every candidate's R(c, k1/2) that overlaps R(i, k1) in more than 2/3 of its size."""
    n, k = recip.shape
    h = half.shape[1]
    out = np.full((n, k + k * h), -1, dtype=np.int64)
    out[:, :k] = recip
    step = max(1, (1 << 22) // (k * h * k))
    for start in range(0, n, step):
        r = recip[start:start + step]                              # [b, k]
        cand = np.where((r >= 0)[:, :, None], half[np.maximum(r, 0)], -1)   # [b, k, h]
        valid = cand >= 0
        inside = ((cand[..., None] == r[:, None, None, :]) & valid[..., None]).any(axis=3)
        overlap = inside.sum(axis=2)
        size = valid.sum(axis=2)
        accept = overlap > 2.0 / 3 * size                          # the authors' test, as written
        out[start:start + len(r), k:] = np.where(accept[..., None], cand, -1).reshape(len(r), -1)
    return out


@dataclass
class _Sparse:
    """Rows of a sparse [N, N] matrix in CSR form (columns ascending within a row)."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    @classmethod
    def from_sorted_keys(cls, keys: np.ndarray, data: np.ndarray, n: int) -> _Sparse:
        rows, cols = np.divmod(keys, n)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        return cls(indptr, cols.astype(np.int32), data)

    def rows(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.indptr) - 1), np.diff(self.indptr))


def _weights(expansion: np.ndarray, source, scale: np.ndarray) -> _Sparse:
    """V of eq. (8): on R*(i), exp(-d) normalised to sum 1 over the row."""
    n = len(expansion)
    rows = np.repeat(np.arange(n), expansion.shape[1])
    cols = expansion.reshape(-1)
    keep = cols >= 0
    keys = np.unique(rows[keep] * n + cols[keep])
    rows, cols = np.divmod(keys, n)
    weight = np.exp(-(source.pairs(rows, cols) * scale[rows]))
    total = np.bincount(rows, weights=weight, minlength=n)
    return _Sparse.from_sorted_keys(keys, weight / total[rows], n)


def _query_expansion(v: _Sparse, nearest: np.ndarray) -> _Sparse:
    """Eq. (11): row i becomes the mean of the rows of its k2 nearest (itself included); one
    block of rows at a time, so the gathered rows never exceed a chunk."""
    n, k2 = nearest.shape
    row_nnz = np.diff(v.indptr)
    gathered = row_nnz[nearest].sum(axis=1)                       # entries each new row gathers
    ends = np.cumsum(gathered)
    counts, cols_out, vals_out = np.zeros(n, dtype=np.int64), [], []
    start = 0
    while start < n:
        done = ends[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, done + _PAIR_CHUNK, side="right")))
        src = nearest[start:stop].reshape(-1)
        lengths = row_nnz[src]
        owner = np.repeat(np.repeat(np.arange(stop - start), k2), lengths)
        within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        pos = np.repeat(v.indptr[src], lengths) + within
        keys = owner * n + v.indices[pos]
        order = np.argsort(keys, kind="stable")
        keys, vals = keys[order], v.data[pos][order]
        new = np.ones(len(keys), dtype=bool)
        new[1:] = keys[1:] != keys[:-1]
        first = np.flatnonzero(new)
        rows, cols = np.divmod(keys[first], n)
        counts[start:stop] = np.bincount(rows, minlength=stop - start)
        cols_out.append(cols.astype(v.indices.dtype))
        vals_out.append(np.add.reduceat(vals, first) / k2)
        start = stop
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return _Sparse(indptr, np.concatenate(cols_out), np.concatenate(vals_out))


def _jaccard_overlap(v: _Sparse, nq: int, ng: int, out: np.ndarray) -> None:
    """``out[i, j] = sum_k min(V[i, k], V[nq + j, k])`` for query i and gallery j (the
    numerator of eq. 10), summed over the pairs that share a non-zero column k, one block of
    query rows at a time (a bincount over the block's [rows, G] cells: no scatter-add)."""
    n = nq + ng
    g_first = v.indptr[nq]
    g_rows = v.rows()[g_first:] - nq
    g_order = np.argsort(v.indices[g_first:], kind="stable")      # gallery entries by column
    g_rows, g_vals = g_rows[g_order], v.data[g_first:][g_order]
    g_count = np.bincount(v.indices[g_first:], minlength=n)
    g_start = np.cumsum(g_count) - g_count
    q_cols, q_vals = v.indices[:g_first], v.data[:g_first]        # query entries, row-major
    q_rows = v.rows()[:g_first]
    per_entry = g_count[q_cols]                                   # pairs each query entry makes
    pairs_before = np.concatenate([[0], np.cumsum(per_entry)])
    row_pairs = pairs_before[v.indptr[:nq + 1]]                   # pairs before each query row
    start = 0
    while start < nq:
        # rows while both the pairs and the block's [rows, G] cells stay within a chunk
        by_pairs = np.searchsorted(row_pairs, row_pairs[start] + _PAIR_CHUNK, side="right") - 1
        stop = min(nq, max(start + 1, min(int(by_pairs), start + max(1, _PAIR_CHUNK // ng))))
        lo, hi = v.indptr[start], v.indptr[stop]
        lengths = per_entry[lo:hi]
        entry = np.repeat(np.arange(lo, hi), lengths)
        within = np.arange(len(entry)) - np.repeat(pairs_before[lo:hi] - pairs_before[lo], lengths)
        g = g_start[q_cols[entry]] + within
        row = q_rows[entry] - start
        cells = np.bincount(row * ng + g_rows[g], weights=np.minimum(q_vals[entry], g_vals[g]),
                            minlength=(stop - start) * ng)
        out[start:stop] = cells.reshape(stop - start, ng)
        start = stop


def _rerank(source, options: RerankOptions) -> np.ndarray:
    n, nq, ng = source.n, source.nq, source.ng
    k1, k2, lam = int(options.k1), int(options.k2), float(options.lambda_value)
    k_forward = min(k1 + 1, n)
    k_half = min(int(np.around(k1 / 2.0)) + 1, n)
    k_expand = min(k2, n)
    ranks, scale = _neighbours(source, max(k_forward, k_expand))
    recip = _reciprocal(ranks, k_forward)
    half = _reciprocal(ranks, k_half)
    v = _weights(_expansion(recip, half), source, scale)
    if k2 != 1:
        v = _query_expansion(v, ranks[:, :k_expand])
    out = np.empty((nq, ng), dtype=np.float32)
    _jaccard_overlap(v, nq, ng, out)
    step = max(1, _BLOCK_ENTRIES // ng)
    for start in range(0, nq, step):
        stop = min(start + step, nq)
        overlap = out[start:stop].astype(np.float64)
        jaccard = 1.0 - overlap / (2.0 - overlap)
        original = source.query_gallery(start, stop) * scale[start:stop, None]
        out[start:stop] = jaccard * (1.0 - lam) + original * lam
    return out
