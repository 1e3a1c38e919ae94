"""Cross-modality retrieval on arbitrary arrays, e.g. the trainer's validation on held-out
training identities: infrared queries against the visible gallery, standard protocol
(no removal, no de-duplication), cosine distance on L2-normalised features."""

from __future__ import annotations

import numpy as np

from vireid.evaluation.errors import EvaluationError
from vireid.evaluation.metrics import evaluate


def cosine_distance(query: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """1 - cosine similarity, [Q, G]; rows are L2-normalised here (idempotent if they are)."""
    q = query / np.maximum(np.linalg.norm(query, axis=1, keepdims=True), 1e-12)
    g = gallery / np.maximum(np.linalg.norm(gallery, axis=1, keepdims=True), 1e-12)
    return 1.0 - q @ g.T


def cross_modality_map(feats, pids, cams, modalities, max_rank: int = 20) -> dict[str, float]:
    """mAP, mINP and R1/R5/R10/R20 (fractions) of infrared->visible retrieval, plus counts.

    ``modalities`` holds ``"visible"`` / ``"infrared"`` per row (torch tensors are accepted).
    """
    feats = np.asarray(feats.detach().cpu() if hasattr(feats, "detach") else feats, dtype=np.float32)
    pids = np.asarray(pids.cpu() if hasattr(pids, "cpu") else pids)
    cams = np.asarray(cams.cpu() if hasattr(cams, "cpu") else cams)
    modalities = np.asarray(modalities)
    query, gallery = modalities == "infrared", modalities == "visible"
    if not query.any() or not gallery.any():
        raise EvaluationError(f"cross-modality retrieval needs infrared and visible rows, got "
                              f"{int(query.sum())} infrared and {int(gallery.sum())} visible")
    result = evaluate(cosine_distance(feats[query], feats[gallery]), pids[query], pids[gallery],
                      cams[query], cams[gallery], protocol="regdb", max_rank=max_rank)
    return {**result.summary(), "num_query": int(query.sum()), "num_gallery": int(gallery.sum()),
            "num_valid": result.num_valid}
