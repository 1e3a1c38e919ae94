"""run_protocol: every setting and trial, feature lookup by path, one extraction call."""

import numpy as np
import pytest

from vireid.errors import VireidError
from vireid.evaluation import EvaluationError, FeatureTable, run_protocol
from vireid.evaluation.runner import plan, required_images


def identity_features(paths, modalities):
    """Features that encode the identity folder: a perfect model."""
    pids = [int(p.split("/")[-2]) for p in paths]
    return np.eye(16, dtype=np.float32)[pids]


def test_sysu_runs_four_settings_times_trials_with_one_feature_call(tiny_sysu_root):
    calls = []

    def source(paths, modalities):
        calls.append(len(paths))
        assert len(set(paths)) == len(paths)
        return identity_features(paths, modalities)

    res = run_protocol("sysu", tiny_sysu_root, source, trials=3)
    assert len(calls) == 1 and res["trials"] == [0, 1, 2]
    assert list(res["settings"]) == ["all_single", "all_multi", "indoor_single", "indoor_multi"]
    for entry in res["settings"].values():
        assert [r["trial"] for r in entry["per_trial"]] == [0, 1, 2]
        assert entry["mean"]["R1"] == 1 and entry["mean"]["mAP"] == pytest.approx(1)
        assert entry["std"]["mAP"] == pytest.approx(0) and entry["chance"]["R1"] < 0.5


def test_regdb_requires_the_model_trial(tiny_regdb_root):
    with pytest.raises(VireidError, match="one model per trial"):
        run_protocol("regdb", tiny_regdb_root, identity_features)
    res = run_protocol("regdb", tiny_regdb_root, lambda p, m: np.random.default_rng(0).random((len(p), 8)),
                       regdb_trial=1)
    assert res["trials"] == [1] and set(res["settings"]) == {"vis2ir", "ir2vis"}
    assert res["settings"]["vis2ir"]["num_query"] == 12


def test_feature_table_lookup_lists_missing_paths(tiny_llcm_root):
    paths, mods = required_images(plan("llcm", tiny_llcm_root, trials=2))
    table = FeatureTable(paths[1:], np.ones((len(paths) - 1, 4), np.float32), mods[1:])
    with pytest.raises(EvaluationError, match=paths[0]):
        run_protocol("llcm", tiny_llcm_root, table, trials=2)
    full = FeatureTable(paths, identity_features(paths, mods), mods)
    res = run_protocol("llcm", tiny_llcm_root, full, trials=2)
    assert res["settings"]["vis2ir"]["mean"]["R1"] == 1


def test_llcm_runs_both_directions_on_the_synthetic_llcm_layout(synth_llcm_root):
    def features(paths, modality):                 # identity-coded: every true match ranks first
        pids = np.array([int(p.split("/")[2]) for p in paths])
        return np.eye(64)[pids]

    res = run_protocol("llcm", synth_llcm_root, features, trials=2)
    assert set(res["settings"]) == {"ir2vis", "vis2ir"}
    for setting in res["settings"].values():
        assert setting["mean"]["R1"] == 1.0 and setting["mean"]["mAP"] == 1.0
        assert setting["chance"]["R1"] < 0.25
