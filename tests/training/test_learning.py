"""LEARNING: the tiny EEES preset must learn cross-modality matching that generalises to
unseen identities, scored with the SYSU-MM01 protocol (all-search, single-shot) on the
synthetic TEST identities, which training never sees.

The shared 24-identity fixture leaves only 15 training identities, too few to generalise
from, so this test generates a larger synthetic SYSU layout (60 identities: 40 train incl.
2 held out for validation, 20 test) with the same generator.
"""

import numpy as np
import pytest

from vireid.evaluation import evaluate, sysu_gallery, sysu_query
from vireid.evaluation.chance import chance_level
from vireid.evaluation.features import extract_features
from vireid.evaluation.retrieval import cosine_distance
from vireid.training.config import resolve_config
from vireid.training.engine import train
from vireid.models.store import load_model

TRIALS = range(10)


@pytest.fixture(scope="module")
def synth60(tmp_path_factory):
    from vireid.datasets.synth import SynthConfig, generate

    return generate(tmp_path_factory.mktemp("synth60"), "sysu",
                    SynthConfig(ids=60, images_per_camera=3, height=64, width=32, seed=0,
                                                test_fraction=0.33), force=True)


@pytest.mark.slow
def test_tiny_eees_learns_well_above_chance_on_unseen_test_identities(synth60, train_cache_dir,
                                                                      tmp_path):
    cfg = resolve_config("tiny-eees", overrides=[
        f"data.root={str(synth60)!r}", "data.captions=['reference']",
        f"data.cache_dir={str(train_cache_dir)!r}", "run.progress=false",
        "run.tensorboard=false", "run.validate_every=0", "model.pretrained=none"])
    assert cfg.optim.epochs == 20  # the tiny preset's schedule, unchanged
    result = train(cfg, tmp_path / "run")
    first, last = result.history[0], result.history[-1]
    assert last["loss/total"] < 0.6 * first["loss/total"]

    model = load_model(result.last)
    query = sysu_query(synth60, mode="all")
    q_feats = extract_features(model, synth60, query.paths, [query.modality] * len(query))
    maps, chances = [], []
    for trial in TRIALS:
        gallery = sysu_gallery(synth60, mode="all", trial=trial, shots=1)
        g_feats = extract_features(model, synth60, gallery.paths, [gallery.modality] * len(gallery))
        scores = evaluate(cosine_distance(q_feats, g_feats), query.pids, gallery.pids,
                          query.cams, gallery.cams, protocol="sysu")
        maps.append(scores.mAP)
        chances.append(chance_level(query.pids, gallery.pids, query.cams, gallery.cams, "sysu")["mAP"])
    test_map, chance = float(np.mean(maps)), float(np.mean(chances))
    print(f"\nlearning: SYSU all-search single-shot test mAP {test_map:.3f} (chance {chance:.3f}), "
          f"loss {first['loss/total']:.3f} -> {last['loss/total']:.3f}")
    # Chance (a random ranking, computed exactly for these galleries) is about 0.10 here.
    # On the version-2 benchmark (views, partial and noisy captions) the tiny model reached
    # 0.189 (1.8x chance) when this was written; on version 1 it passed 2x. The bar asks for
    # 1.5x: clearly learning, with room for CPU float differences.
    assert 0.08 < chance < 0.13
    assert test_map > 1.5 * chance, f"test mAP {test_map:.3f} vs chance {chance:.3f}"
