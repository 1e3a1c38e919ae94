"""The numbers behind the report's diagnostic sections, as pure functions of a distance
matrix and its query/gallery sets (no files, no plotting).

* per camera pair: each query camera against the gallery restricted to one gallery camera,
  under the protocol's own removal rule (SYSU: query camera 3 never sees gallery camera 2);
* per direction: the protocol's settings grouped by query modality, and for a dataset whose
  protocol has a single direction (SYSU-MM01: infrared queries only) the same trial's sets
  with roles swapped, marked as a diagnostic outside the protocol;
* hardest queries: the valid queries of lowest average precision (Zheng et al.'s AP, the
  mAP of :mod:`vireid.evaluation.metrics`), ties broken by the later first true match;
* a 2-D projection of features by PCA (eigenvectors of the centred Gram matrix).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from vireid.evaluation.metrics import EvalResult, EvaluationError, evaluate, removal_mask
from vireid.evaluation.sets import EvalSet

def camera_pair_metrics(query: EvalSet, gallery: EvalSet, distmat: np.ndarray,
                        protocol: str) -> dict[tuple[int, int], tuple[float, float, int]]:
    """``{(query cam, gallery cam): (R1, mAP, valid queries)}`` of one trial: the queries of
    one camera ranked against the gallery images of one camera. A pair where no query has a
    true match (or the protocol removes the whole camera) is left out."""
    out = {}
    for qcam in np.unique(query.cams):
        rows = np.flatnonzero(query.cams == qcam)
        for gcam in np.unique(gallery.cams):
            cols = np.flatnonzero(gallery.cams == gcam)
            try:
                result = evaluate(distmat[np.ix_(rows, cols)], query.pids[rows], gallery.pids[cols],
                                  query.cams[rows], gallery.cams[cols], protocol=protocol, max_rank=1)
            except EvaluationError:
                continue
            out[(int(qcam), int(gcam))] = (float(result.cmc[0]), result.mAP, result.num_valid)
    return out


def swapped_direction(query: EvalSet, gallery: EvalSet, distmat: np.ndarray) -> EvalResult | None:
    """The same trial with gallery images as queries against the query set (no removal:
    the two sets come from different modalities, hence different cameras). None when no
    gallery image has a match among the queries."""
    try:
        return evaluate(np.ascontiguousarray(distmat.T), gallery.pids, query.pids, gallery.cams,
                        query.cams, protocol="regdb", max_rank=min(20, len(query)))
    except EvaluationError:
        return None


def hardest_queries(result: EvalResult, count: int) -> np.ndarray:
    """Indices of the ``count`` valid queries of lowest AP (later first match first on ties)."""
    valid = np.flatnonzero(result.first_rank > 0)
    order = np.lexsort((-result.first_rank[valid], result.ap[valid]))
    return valid[order[:count]]


def ranked_gallery(distmat_row: np.ndarray, removed_row: np.ndarray | None, top: int) -> np.ndarray:
    """Gallery indices of one query, nearest first, without the protocol's removed images."""
    order = np.argsort(distmat_row, kind="stable")
    if removed_row is not None:
        order = order[~removed_row[order]]
    return order[:top]


def removed_rows(protocol: str, query: EvalSet, picks: np.ndarray, gallery: EvalSet) -> np.ndarray | None:
    return removal_mask(protocol, query.pids[picks], query.cams[picks], gallery.pids, gallery.cams)


def pca_2d(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(coords [N, 2], explained variance ratio [2])`` of the rows of ``features``.

    The principal axes come from the eigenvectors of the smaller Gram matrix (N x N or
    D x D) of the centred rows: the same axes as an SVD, at the cost of the smaller side."""
    x = np.asarray(features, dtype=np.float64)
    x = x - x.mean(axis=0, keepdims=True)
    n, d = x.shape
    if n <= d:
        vals, vecs = np.linalg.eigh(x @ x.T)                  # left singular vectors
        order = np.argsort(vals)[::-1][:2]
        coords = vecs[:, order] * np.sqrt(np.clip(vals[order], 0, None))
    else:
        vals, vecs = np.linalg.eigh(x.T @ x)                  # principal axes
        order = np.argsort(vals)[::-1][:2]
        coords = x @ vecs[:, order]
    total = float(np.clip(vals, 0, None).sum())
    ratio = np.clip(vals[order], 0, None) / total if total > 0 else np.zeros(len(order))
    if coords.shape[1] < 2:   # a 1-D feature: pad so the scatter still draws
        coords = np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
        ratio = np.pad(ratio, (0, 2 - len(ratio)))
    return coords, ratio


@dataclass
class Breakdown:
    """Per-camera-pair and per-direction numbers accumulated over a protocol's trials."""

    pairs: dict[str, dict[tuple[int, int], list[tuple[float, float, int]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    directions: dict[tuple[str, str], dict[str, list[tuple[float, float]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    titles: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, title: str, query: EvalSet, gallery: EvalSet, distmat: np.ndarray,
            protocol: str, result: EvalResult, swap: bool) -> None:
        self.titles[key] = title
        for pair, value in camera_pair_metrics(query, gallery, distmat, protocol).items():
            self.pairs[key][pair].append(value)
        direction = (query.modality, gallery.modality)
        self.directions[direction][title].append((float(result.cmc[0]), result.mAP))
        if swap:
            swapped = swapped_direction(query, gallery, distmat)
            if swapped is not None:
                self.directions[(gallery.modality, query.modality)][f"{title}, roles swapped (diagnostic)"].append(
                    (float(swapped.cmc[0]), swapped.mAP))

    def pair_rows(self, key: str) -> list[tuple[int, int, float, float, float, int]]:
        """(query cam, gallery cam, mean R1, mean mAP, trials, mean valid queries) per pair."""
        rows = []
        for (qcam, gcam), values in sorted(self.pairs[key].items()):
            arr = np.array(values, dtype=np.float64)
            rows.append((qcam, gcam, float(arr[:, 0].mean()), float(arr[:, 1].mean()), len(values),
                         int(round(arr[:, 2].mean()))))
        return rows

    def direction_rows(self) -> list[tuple[str, str, float, float, int]]:
        """(direction, setting, mean R1, mean mAP, trials) per direction and setting."""
        rows = []
        for (qmod, gmod), settings in sorted(self.directions.items()):
            for title, values in settings.items():
                arr = np.array(values, dtype=np.float64)
                rows.append((f"{qmod} -> {gmod}", title, float(arr[:, 0].mean()), float(arr[:, 1].mean()),
                             len(values)))
        return rows
