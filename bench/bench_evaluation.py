"""Evaluation benchmark: vectorised metrics vs a per-query loop, and the full SYSU protocol.

``run(size)`` measures
1. one :func:`vireid.evaluation.evaluate` call at SYSU multi-shot size (3,803 IR queries x
   3,010 gallery images in ``full``; smaller in ``short``) against :func:`reference_evaluate`,
   a straightforward per-query loop written the way the field's evaluators are; the results
   must be identical (asserted) and the speed-up ratio is reported (target >= 20x);
2. the whole SYSU protocol from saved features (all/indoor x single/multi-shot x 10 trials,
   3,072-d random features on a synthetic SYSU-size id/camera list, distance matrices
   included; target < 10 s on 2 cores).

Run: ``python bench/bench_evaluation.py [--size short|full]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def reference_evaluate(distmat, q_pids, g_pids, q_cams, g_cams, protocol="sysu", max_rank=20):
    """Per-query loop reference with the same rules as ``vireid.evaluation.evaluate``.

    Deliberately simple: one query at a time, explicit removal, ``np.unique`` for the
    de-duplicated CMC. Returns ``(cmc, mAP, mINP, num_valid)``; raises if no query is valid.
    """
    distmat = np.asarray(distmat)
    q_pids, g_pids = np.asarray(q_pids), np.asarray(g_pids)
    q_cams, g_cams = np.asarray(q_cams), np.asarray(g_cams)
    all_cmc, all_ap, all_inp = [], [], []
    for i in range(distmat.shape[0]):
        order = np.argsort(distmat[i], kind="stable")
        if protocol == "sysu":
            remove = (q_cams[i] == 3) & (g_cams[order] == 2)
        elif protocol == "llcm":
            remove = (g_pids[order] == q_pids[i]) & (g_cams[order] == q_cams[i])
        else:
            remove = np.zeros(len(order), dtype=bool)
        kept_pids = g_pids[order][~remove]
        raw = (kept_pids == q_pids[i]).astype(np.int64)
        if not raw.any():
            continue
        if protocol in ("sysu", "llcm"):
            first_idx = np.unique(kept_pids, return_index=True)[1]
            unique_pids = kept_pids[np.sort(first_idx)]
            cmc_list = (unique_pids == q_pids[i]).astype(np.int64)
        else:
            cmc_list = raw
        cmc = np.minimum(np.cumsum(cmc_list), 1)
        if len(cmc) < max_rank:
            cmc = np.concatenate([cmc, np.full(max_rank - len(cmc), cmc[-1])])
        all_cmc.append(cmc[:max_rank])
        hits = np.cumsum(raw)
        positions = np.nonzero(raw)[0]
        all_ap.append(np.mean(hits[positions] / (positions + 1.0)))
        all_inp.append(raw.sum() / (positions[-1] + 1.0))
    if not all_cmc:
        raise ValueError("no valid query")
    return (np.mean(np.asarray(all_cmc, dtype=np.float64), axis=0), float(np.mean(all_ap)),
            float(np.mean(all_inp)), len(all_cmc))
