"""The synthetic benchmark is a cross-modality task, not a colour-matching one.

On the shared SYSU-layout fixture (all 24 identities), a colour histogram retrieves
identities within the visible cameras but is at chance from infrared to visible, while a
crude colour-blind edge-layout feature does clearly better than chance across modalities:
the cues that cross are shape, hair, bag and pattern.
"""

import numpy as np
import pytest
from PIL import Image

from vireid.datasets import build_index


def mean_ap(query, query_pids, gallery, gallery_pids) -> float:
    """Mean average precision of cosine-similarity rankings (features L2-normalised)."""
    order = np.argsort(-(query @ gallery.T), axis=1, kind="stable")
    matches = gallery_pids[order] == query_pids[:, None]
    precision = np.cumsum(matches, axis=1) / np.arange(1, matches.shape[1] + 1)
    return float(np.mean((precision * matches).sum(axis=1) / matches.sum(axis=1)))


def test_mean_ap_of_a_perfect_and_a_worst_ranking():
    gallery = np.eye(4)
    pids = np.array([0, 1, 2, 3])
    assert mean_ap(gallery, pids, gallery, pids) == 1.0
    # the only match ranked last of four: AP = 1/4
    assert mean_ap(gallery[:1], pids[:1], -np.eye(4), pids) == 0.25


def colour_histogram(img: np.ndarray) -> np.ndarray:
    bins = (img // 64).astype(int)
    hist = np.bincount((bins[..., 0] * 16 + bins[..., 1] * 4 + bins[..., 2]).ravel(), minlength=64)
    root = np.sqrt(hist / hist.sum())
    return root / np.linalg.norm(root)


def edge_layout(img: np.ndarray) -> np.ndarray:
    grey = img.astype(np.float32).mean(axis=2)
    gy, gx = np.gradient(grey)
    small = np.asarray(Image.fromarray(np.hypot(gx, gy)).resize((8, 16), Image.BILINEAR)).ravel()
    small = small - small.mean()
    return small / np.linalg.norm(small)


@pytest.fixture(scope="module")
def features(synth_sysu_root):
    rows = build_index("sysu", synth_sysu_root, val_ids=0).to_pylist()
    images = [np.asarray(Image.open(synth_sysu_root / r["path"]).convert("RGB")) for r in rows]
    return {
        "colour": np.stack([colour_histogram(i) for i in images]),
        "edges": np.stack([edge_layout(i) for i in images]),
        "pid": np.array([r["pid"] for r in rows]),
        "camera": np.array([r["camera"] for r in rows]),
    }


def _chance(q_pids, g_pids, trials=20):
    rng = np.random.default_rng(0)
    return np.mean([mean_ap(rng.normal(size=(len(q_pids), 16)), q_pids,
                            rng.normal(size=(len(g_pids), 16)), g_pids) for _ in range(trials)])


def _split(features, query_cams, gallery_cams):
    q = np.isin(features["camera"], query_cams)
    g = np.isin(features["camera"], gallery_cams)
    return q, g


def test_colour_is_near_chance_from_infrared_to_visible(features):
    q, g = _split(features, (3, 6), (1, 2, 4, 5))
    chance = _chance(features["pid"][q], features["pid"][g])
    colour = mean_ap(features["colour"][q], features["pid"][q], features["colour"][g], features["pid"][g])
    assert colour < 1.5 * chance, (colour, chance)


def test_colour_identifies_people_within_the_visible_cameras(features):
    q, g = _split(features, (1,), (2, 4, 5))
    chance = _chance(features["pid"][q], features["pid"][g])
    colour = mean_ap(features["colour"][q], features["pid"][q], features["colour"][g], features["pid"][g])
    assert colour > 2 * chance, (colour, chance)


def test_colour_blind_shape_cues_carry_across_modalities(features):
    q, g = _split(features, (3, 6), (1, 2, 4, 5))
    chance = _chance(features["pid"][q], features["pid"][g])
    edges = mean_ap(features["edges"][q], features["pid"][q], features["edges"][g], features["pid"][g])
    assert edges > 1.8 * chance, (edges, chance)
