"""The fast exact ranker behind :func:`vireid.evaluation.metrics.evaluate`.

:func:`vireid.evaluation.metrics.evaluate_reference` is the specification (a stable argsort
per query); this module computes the same per-query numbers, bit for bit, without sorting
any row. A true match's rank after removal is 1 + the number of kept items before it in
(distance, gallery index) order, counted with a per-row histogram of value buckets plus an
exact sort of the few items sharing a bucket with a true match; the de-duplicated rank counts
the other identities whose best kept item comes before the best true match (per-identity
minima). The protocol rules are applied sparsely: SYSU cam3 queries are ranked on the gallery
without cam2 (a column subset), LLCM's same-identity-same-camera items go to a spare bin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vireid.evaluation.errors import EvaluationError
from vireid.evaluation.rules import GalleryRule

# Distance entries per block of queries: bounds the [B, G] temporaries (about 24 bytes per
# entry) to a cache-sized working set (measured fastest at SYSU sizes on 2 shared cores).
_BLOCK_ENTRIES = 1 << 17
# Value buckets per gallery item: fewer means a smaller histogram but more items sharing a
# bucket with a true match (those are sorted exactly); 1 gives about one such item per match.
_BUCKETS_PER_ITEM = 1.0


def _value_range(distmat: np.ndarray):
    """(lo, hi, all_finite): the finite min and max of the distances in the dtype the buckets
    are computed in; raises on NaN (min/max propagate it: no [Q, G] mask needed)."""
    dtype = distmat.dtype if distmat.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    if distmat.size == 0:
        return dtype.type(0), dtype.type(0), True
    lo, hi = distmat.min(), distmat.max()
    if np.isnan(lo) or np.isnan(hi):
        raise EvaluationError("distmat contains NaN distances")
    finite = bool(np.isfinite(lo) and np.isfinite(hi))
    if not finite:
        kept = distmat[np.isfinite(distmat)]
        lo, hi = (kept.min(), kept.max()) if kept.size else (0, 0)
    return dtype.type(lo), dtype.type(hi), finite


@dataclass(frozen=True)
class _Columns:
    """Gallery columns (positions 0..n-1 of a gallery subset) grouped by identity; stable, so
    ascending within a group."""

    perm: np.ndarray          # positions, identity-major
    starts: np.ndarray        # first index of each identity's group in ``perm``
    counts: np.ndarray        # group sizes
    pids: np.ndarray          # identity of each group, ascending
    identity: bool            # perm == arange(n): no gather needed

    @classmethod
    def of(cls, pids: np.ndarray) -> _Columns:
        perm = np.argsort(pids, kind="stable")
        grouped = pids[perm]
        new = np.ones(len(grouped), dtype=bool)
        new[1:] = grouped[1:] != grouped[:-1]
        starts = np.flatnonzero(new)
        return cls(perm=perm, starts=starts, counts=np.diff(np.append(starts, len(pids))),
                   pids=grouped[starts], identity=bool(np.all(perm == np.arange(len(pids)))))

    def own(self, q_pids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, positions) of every gallery item of each query's identity: row-major,
        positions ascending. Sparse: O(true matches)."""
        group = np.minimum(np.searchsorted(self.pids, q_pids), len(self.pids) - 1)
        count = np.where(self.pids[group] == q_pids, self.counts[group], 0)
        rows = np.repeat(np.arange(len(q_pids)), count)
        within = np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
        return rows, self.perm[self.starts[group[rows]] + within]


class _Binner:
    """Histogram bin of every distance of a query block: row ``r`` of the block uses bins
    ``r * width .. r * width + num_buckets - 1``, one per value bucket (uniform between the
    matrix's finite min and max, infinities clipped to the end buckets); the row's last bin
    (``width = num_buckets + 1``) is left free for removed items.

    Exactness only needs the bucket to be a *monotone non-decreasing* function of the value:
    a smaller bucket then means a strictly smaller distance, and equal buckets are resolved by
    exact comparison. Every step (subtract, scale, clip, round to an integer) is monotone, so
    rounding can merge values into a bucket but never reorder them.
    """

    def __init__(self, dtype, value_range, num_buckets: int, max_rows: int):
        self.dtype = np.dtype(dtype) if np.dtype(dtype) in (np.float32, np.float64) else np.dtype(np.float64)
        self.num_buckets, self.width = num_buckets, num_buckets + 1
        lo, hi, self.finite = value_range
        self.lo = self.dtype.type(lo)
        offsets = np.arange(max_rows, dtype=np.intp) * self.width
        # Rounding to the nearest integer without the slow float -> int64 conversion: adding
        # M = 1.5 * 2**mantissa_bits makes the unit in the last place exactly 1, so the sum is
        # the rounded integer, read off the bit pattern (exact while it stays < 2**(bits + 1)).
        bits = 23 if self.dtype == np.float32 else 52
        self.magic = np.array(1.5 * 2**bits, dtype=self.dtype)
        self.itype = np.int32 if self.dtype == np.float32 else np.int64
        self.rounded = max_rows * self.width < 2 ** (bits - 1)
        fused = self.finite and num_buckets >= 4 and max_rows * self.width < 2 ** (bits - 3)
        with np.errstate(over="ignore", divide="ignore"):
            span = float(hi) - float(lo)
            scale = self.dtype.type((num_buckets - (3 if fused else 1)) / span if span > 0 else 0)
        self.scale = scale if np.isfinite(scale) and scale > 0 else None   # None: one bucket
        self.fused = fused and self.scale is not None and \
            max(abs(float(lo)), abs(float(hi))) * float(scale) < 2 ** (bits - 3)
        if self.fused:
            # One multiply and one add: d * scale + (M + offset + 1 - lo * scale). |d * scale| <
            # 2**(bits - 3) rounds by <= 1/16; the constant lies in [2**bits, 2**(bits + 1))
            # (offset < 2**(bits - 3)) and rounds by <= 1/2; so the ideal position in
            # [1, num_buckets - 2] moves by < 1 and still rounds into the row's bins.
            self.shift = (offsets + (float(self.magic) + 1.0 - float(lo) * float(scale))).astype(self.dtype)
        elif self.rounded:
            self.shift = (offsets + float(self.magic)).astype(self.dtype)
        self.offsets = offsets

    def __call__(self, block: np.ndarray, scratch: _Scratch) -> np.ndarray:
        """[B, G] intp bins of ``block`` (in a scratch buffer)."""
        nb, ng = block.shape
        vals = block if block.dtype == self.dtype else block.astype(self.dtype)
        out = scratch("bins", block.shape, np.intp)
        if self.scale is None:
            out[:] = self.offsets[:nb, None]
            return out
        x = scratch("x", block.shape, self.dtype)
        if self.fused:
            np.multiply(vals, self.scale, out=x)
        else:
            with np.errstate(over="ignore"):
                np.subtract(vals, self.lo, out=x)                      # >= 0 for finite values
                np.multiply(x, self.scale, out=x)                      # <= (num_buckets - 1)(1 + 3 eps)
            if not self.finite:
                np.clip(x, 0, self.num_buckets - 1, out=x)
        if self.fused or self.rounded:                 # x + shift rounds into the row's bins
            np.add(x, self.shift[:nb, None], out=x)
            return np.subtract(x.view(self.itype), self.magic.view(self.itype), out=out)
        out[:] = x                                     # truncation = floor here: monotone
        out += self.offsets[:nb, None]
        return out


class _Scratch:
    """Buffers reused by every query block: a fresh multi-hundred-kilobyte temporary is
    returned to the OS when freed (glibc trims the heap), so each block would page-fault its
    memory in again (measured: ~2,000 faults and ~15% of the time per SYSU-size call)."""

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}

    def __call__(self, name: str, shape, dtype) -> np.ndarray:
        shape = tuple(shape) if isinstance(shape, tuple) else (shape,)
        size = int(np.prod(shape))
        buf = self._buffers.get(name)
        if buf is None or buf.dtype != np.dtype(dtype) or buf.size < size:
            buf = self._buffers[name] = np.empty(size, dtype=dtype)
        return buf[:size].reshape(shape)


def _order(fbin: np.ndarray, val: np.ndarray, num_bins: int) -> np.ndarray:
    """Stable order of items by (bin, distance): equal keys keep their (gallery) order."""
    if val.dtype == np.float32 and num_bins <= 2**31:
        bits = (val + np.float32(0)).view(np.int32)            # + 0 turns -0.0 into +0.0
        mono = bits ^ ((bits >> 31) & np.int32(0x7FFFFFFF))     # float order as int32 order
        key = (fbin << 32) + (mono.astype(np.int64) + 2**31)
        return np.argsort(key, kind="stable")
    return np.lexsort((val, fbin))


@dataclass
class _Matches:
    """Every kept true match of a query class: query row, gallery position in the class
    columns, distance and rank after removal; row-major, ranks ascending within a row."""

    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    ranks: np.ndarray


def _class_matches(distmat, protocol, q_rows, g_cols, q_pids, q_cams, c_pids, c_cams,
                   columns: _Columns, dedup: bool, value_range) -> tuple[_Matches, np.ndarray | None]:
    """Ranks of the true matches of queries ``q_rows`` against gallery columns ``g_cols``, and
    the per-identity minimum distances ([rows, identities], for the de-duplicated CMC).

    No row is sorted. Per block of queries, every distance gets a value bucket (monotone in
    the value, :class:`_Binner`); a per-row histogram counts the kept items in earlier
    buckets than each true match, and only the items sharing a bucket with a true match
    (about one per match) are sorted exactly by (bucket, distance, position), which places
    each true match among its bucket's items. Removed items go to a spare bin of their row.
    """
    nq, ng = len(q_rows), len(g_cols)
    every_col = ng == distmat.shape[1]
    num_buckets = max(1, int(ng * _BUCKETS_PER_ITEM))
    width = num_buckets + 1                            # last bin of a row: removed items
    step = max(1, _BLOCK_ENTRIES // ng)
    block_starts = np.arange(0, nq + step, step) * ng
    own_rows, own_cols = columns.own(q_pids[q_rows])    # class-local rows, ascending
    own_flat = own_rows * ng + own_cols                # class-flat positions, ascending
    removed_flat = None
    if protocol.remove == "same-id-same-camera":       # same identity AND camera: removed
        gone = c_cams[own_cols] == q_cams[q_rows][own_rows]
        if gone.any():
            removed_flat, own_flat = own_flat[gone], own_flat[~gone]
            rbounds = np.searchsorted(removed_flat, block_starts)
    bounds = np.searchsorted(own_flat, block_starts)
    binner = _Binner(distmat.dtype, value_range, num_buckets, min(step, nq))
    scratch = _Scratch()
    out_rows, out_cols, out_vals, out_ranks, id_mins = [], [], [], [], []
    for k, start in enumerate(range(0, nq, step)):
        r = q_rows[start:start + step]
        nb = len(r)
        # take(out=..., mode="clip"): "raise" would buffer the copy (indices are valid anyway)
        if every_col and r[-1] - r[0] + 1 == nb:
            block = distmat[r[0]:r[-1] + 1]
        elif every_col:
            block = distmat.take(r, axis=0, out=scratch("rows", (nb, ng), distmat.dtype), mode="clip")
        else:                                          # two takes: much faster than np.ix_
            rows = distmat.take(r, axis=0, out=scratch("rows", (nb, distmat.shape[1]), distmat.dtype),
                                mode="clip")
            block = rows.take(g_cols, axis=1, out=scratch("block", (nb, ng), distmat.dtype), mode="clip")
        if dedup:
            sub = block if columns.identity else block[:, columns.perm]
            id_mins.append(np.minimum.reduceat(sub, columns.starts, axis=1))
        mflat = own_flat[bounds[k]:bounds[k + 1]] - start * ng
        qp = q_pids[r]
        bins = binner(block, scratch)
        flat = bins.reshape(-1)
        if removed_flat is not None:
            gone = removed_flat[rbounds[k]:rbounds[k + 1]] - start * ng
            flat[gone] = gone // ng * width + num_buckets              # the row's free bin
        hist = np.bincount(flat, minlength=nb * width)
        cum = np.cumsum(hist, out=scratch("cum", len(hist), hist.dtype))   # kept items up to each bin
        shared = scratch("shared", nb * width, bool)
        shared[:] = False
        shared[flat[mflat]] = True                     # bins holding a true match
        idx = np.flatnonzero(shared.take(flat, out=scratch("hit", len(flat), bool), mode="clip"))
        # Place every item sharing a match's bin within that bin: exact (distance, position).
        fbin, val = flat[idx], block.reshape(-1)[idx]
        order = _order(fbin, val, nb * width)
        fbin = fbin[order]
        new = np.ones(len(fbin), dtype=bool)
        new[1:] = fbin[1:] != fbin[:-1]
        within = np.arange(len(fbin)) - np.flatnonzero(new)[np.cumsum(new) - 1]
        row, col = np.divmod(idx[order], ng)
        sel = np.flatnonzero(c_pids[col] == qp[row])   # true matches (removed: no shared bin)
        fbin, row, col = fbin[sel], row[sel], col[sel]
        base = fbin - fbin % width                     # first bin of the row
        out_rows.append(row + start)
        out_cols.append(col)
        out_vals.append(val[order[sel]])
        out_ranks.append(cum[fbin] - hist[fbin] - cum[base] + hist[base] + within[sel] + 1)
    matches = _Matches(rows=np.concatenate(out_rows), cols=np.concatenate(out_cols),
                       vals=np.concatenate(out_vals), ranks=np.concatenate(out_ranks))
    return matches, (np.concatenate(id_mins) if dedup else None)


def _dedup_ranks(distmat, q_rows, g_cols, q_pids, columns: _Columns, id_min, first: _Matches):
    """1-based rank of the query identity in the de-duplicated ranked list, for the queries
    ``q_rows[first.rows]`` whose best true match is ``first``.

    = 1 + number of other identities whose best kept item (min distance, then min gallery
    position) precedes the best true match. Identities whose minimum distance *equals* the
    best match's are resolved by position (their rows are gathered again: rare but for ties).
    """
    rows, t = first.rows, first.vals
    id_min = id_min[rows]
    own = np.searchsorted(columns.pids, q_pids[q_rows[rows]])
    id_min[np.arange(len(rows)), own] = t             # own identity: not counted below
    rank = 1 + (id_min < t[:, None]).sum(axis=1)
    tie = np.flatnonzero((id_min == t[:, None]).sum(axis=1) > 1)
    if len(tie):
        sub = distmat.take(q_rows[rows[tie]], axis=0).take(g_cols[columns.perm], axis=1)
        earlier = (sub == t[tie, None]) & (columns.perm[None, :] < first.cols[tie, None])
        precedes = np.logical_or.reduceat(earlier, columns.starts, axis=1) & (id_min[tie] == t[tie, None])
        precedes[np.arange(len(tie)), own[tie]] = False
        rank[tie] += precedes.sum(axis=1)
    return rank


def _query_classes(rule: GalleryRule, q_cams, g_cams):
    """(query rows, gallery columns they keep for every identity): camera rules remove whole
    gallery cameras (SYSU: a cam3 query loses every cam2 image), so queries are grouped by
    the cameras they lose and each group is evaluated on that column subset; the
    identity-dependent removal is sparse (see :func:`_class_matches`)."""
    nq, ng = len(q_cams), len(g_cams)
    if rule.remove not in ("same-camera", "camera-pairs"):
        return [(np.arange(nq), np.arange(ng))] if nq and ng else []
    gallery_cams = set(np.unique(g_cams).tolist())
    groups: dict[frozenset, list[int]] = {}
    for cam in np.unique(q_cams).tolist():
        lost = frozenset(rule.removed_cameras(cam, gallery_cams) & gallery_cams)
        groups.setdefault(lost, []).append(cam)
    classes = []
    for lost, cams in sorted(groups.items(), key=lambda item: len(item[0])):
        rows = np.flatnonzero(np.isin(q_cams, cams))
        cols = np.flatnonzero(~np.isin(g_cams, list(lost))) if lost else np.arange(ng)
        if len(rows) and len(cols):
            classes.append((rows, cols))
    return classes


def per_query(distmat: np.ndarray, q_pids, g_pids, q_cams, g_cams,
              protocol: GalleryRule) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first_rank, ap, inp) per query, exactly as the reference computes them (0 and NaN
    for a query with no true match left). Inputs are already checked (int64 id and camera
    vectors of matching lengths, a known protocol); raises :class:`EvaluationError` on NaN.

    Vectorised over blocks of queries, with no Python loop per query and no sort of the rows:
    O(Q x G) counting (value-bucket histograms, per-identity minima) plus an exact sort of the
    few items sharing a bucket with a true match, for any distance dtype.
    """
    nq = distmat.shape[0]
    # Row blocks of a column-major matrix (e.g. ``d[:, cols]`` of a C-ordered one) are strided
    # and ``take`` along rows is very slow on it: one transposing copy instead.
    distmat = np.ascontiguousarray(distmat)
    value_range = _value_range(distmat)
    dedup = protocol.dedup
    first_rank = np.zeros(nq, dtype=np.int64)
    match_rows, match_ranks = [], []
    for q_rows, g_cols in _query_classes(protocol, q_cams, g_cams):
        c_pids, c_cams = g_pids[g_cols], g_cams[g_cols]
        columns = _Columns.of(c_pids)
        m, id_min = _class_matches(distmat, protocol, q_rows, g_cols, q_pids, q_cams,
                                   c_pids, c_cams, columns, dedup, value_range)
        if len(m.rows) == 0:
            continue
        match_rows.append(q_rows[m.rows])
        match_ranks.append(m.ranks)
        if dedup:
            first = np.flatnonzero(np.concatenate([[True], m.rows[1:] != m.rows[:-1]]))
            best = _Matches(m.rows[first], m.cols[first], m.vals[first], m.ranks[first])
            first_rank[q_rows[best.rows]] = _dedup_ranks(distmat, q_rows, g_cols, q_pids,
                                                         columns, id_min, best)

    # AP and INP: the same arithmetic, in the same order, as the reference's walk down each
    # ranked list (each query's matches are consecutive, in rank order; bincount adds the
    # precisions in that order, like the reference's cumsum).
    rows = np.concatenate(match_rows) if match_rows else np.zeros(0, dtype=np.int64)
    rank = np.concatenate(match_ranks) if match_ranks else np.zeros(0, dtype=np.int64)
    n_good = np.bincount(rows, minlength=nq)
    valid = n_good > 0
    new = np.ones(len(rows), dtype=bool)
    new[1:] = rows[1:] != rows[:-1]
    run_start = np.flatnonzero(new)
    ordinal = np.arange(len(rows)) - run_start[np.cumsum(new) - 1] + 1   # k-th true match
    precision_sum = np.bincount(rows, weights=ordinal / rank, minlength=nq)
    last_rank = np.zeros(nq)
    last_rank[rows] = rank                                                 # last write wins
    with np.errstate(invalid="ignore", divide="ignore"):
        ap = np.where(valid, precision_sum / n_good, np.nan)
        inp = np.where(valid, n_good / last_rank, np.nan)
    if not dedup:
        first_rank[rows[run_start]] = rank[run_start]
    return first_rank, ap, inp
