"""The custom protocol: query and gallery as the index splits them, one setting per
cross-modality direction, gallery trials from the index, the gallery rule from protocol.toml;
and re-ranked results next to the plain ones in every run of a protocol."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.training.cli_run import run_cli as run_train
from vireid.datasets import check_dataset
from vireid.datasets.synth import generate
from vireid.datasets.synth.config import SynthConfig
from vireid.errors import DatasetError
from vireid.evaluation import FeatureTable, re_ranking
from vireid.evaluation.metrics import evaluate
from vireid.evaluation.rerank import RerankOptions, euclidean_from_cosine
from vireid.evaluation.runner import dataset_settings, plan, required_images, run_protocol

from .test_cli import run_cli as run_eval


def _index(tmp_path: Path, rows: list[str], protocol: str | None = None) -> Path:
    root = tmp_path / "mine"
    for row in rows:
        rel = root / row.split(",")[0]
        rel.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (4, 8)).save(rel)
    (root / "index.csv").write_text("\n".join(["path,pid,camera,modality,split,trial", *rows]) + "\n")
    if protocol is not None:
        (root / "protocol.toml").write_text(protocol)
    return root


ROWS = ["t/a.jpg,1,1,visible,train,", "t/b.jpg,1,2,infrared,train,",
        "q/1.jpg,5,2,infrared,query,", "q/2.jpg,6,2,infrared,query,",
        "g/1.jpg,5,1,visible,gallery,", "g/2.jpg,6,1,visible,gallery,0",
        "g/3.jpg,6,3,visible,gallery,1", "g/4.jpg,5,2,visible,gallery,"]


def test_settings_follow_the_index_directions_trials_and_rule(tmp_path):
    root = _index(tmp_path, ROWS, 'gallery_rule = "same-camera"\n')
    [setting] = dataset_settings("custom", root)                 # no visible queries: one direction
    assert (setting.key, setting.title, setting.protocol) == ("ir2vis", "IR->VIS", "same-camera")
    steps = plan("custom", root)
    assert [t for _, t, _, _ in steps] == [0, 1]
    assert steps[0][2].paths == ["q/1.jpg", "q/2.jpg"]
    assert steps[0][3].paths == ["g/1.jpg", "g/2.jpg", "g/4.jpg"]   # blank trial: every trial
    assert steps[1][3].paths == ["g/1.jpg", "g/3.jpg", "g/4.jpg"]


def test_default_rule_and_a_bad_protocol_file(tmp_path):
    root = _index(tmp_path, ROWS)
    assert dataset_settings("custom", root)[0].protocol == "same-id-same-camera"
    (root / "protocol.toml").write_text('gallery_rule = "same-room"\n')
    with pytest.raises(DatasetError, match="protocol.toml: gallery_rule must be one of"):
        dataset_settings("custom", root)


def test_same_camera_rule_removes_the_query_camera_from_its_gallery(tmp_path):
    feats = {"q/1.jpg": [1, 0], "q/2.jpg": [0, 1], "g/1.jpg": [-1, 0], "g/2.jpg": [0, 1],
             "g/3.jpg": [0.1, 1], "g/4.jpg": [1, 0]}
    r1 = {}
    for rule in ("same-camera", "none"):
        root = _index(tmp_path / rule, ROWS, f'gallery_rule = "{rule}"\n')
        paths, mods = required_images(plan("custom", root))
        table = FeatureTable(paths, np.array([feats[p] for p in paths], dtype=np.float32), mods)
        r1[rule] = [t["R1"] for t in run_protocol("custom", root, table)["settings"]["ir2vis"]["per_trial"]]
    # Query 1 (identity 5, camera 2) has its twin g/4 (identity 5, camera 2): found first
    # without a rule; under same-camera it is removed and identity 6 comes first.
    assert r1 == {"none": [1.0, 1.0], "same-camera": [0.5, 0.5]}


def test_run_protocol_reports_re_ranked_numbers_next_to_the_plain_ones(tiny_sysu_root):
    paths, mods = required_images(plan("sysu", tiny_sysu_root, trials=2))
    rng = np.random.default_rng(0)
    pids = np.array([int(p.split("/")[1]) for p in paths])
    feats = rng.normal(size=(20, 16))[pids % 20] + 0.8 * rng.normal(size=(len(paths), 16))
    table = FeatureTable(paths, feats.astype(np.float32), mods)
    options = RerankOptions(k1=5, k2=2, lambda_value=0.3)
    seen = []
    results = run_protocol("sysu", tiny_sysu_root, table, trials=2, rerank=options,
                           on_trial=lambda s, t, q, g, d, r: seen.append((s, q, g)))
    assert results["rerank"]["k1"] == 5
    setting, query, gallery = seen[0]
    entry = results["settings"][setting.key]
    unit = feats / np.linalg.norm(feats, axis=1, keepdims=True)
    row = {p: i for i, p in enumerate(paths)}
    q, g = unit[[row[p] for p in query.paths]], unit[[row[p] for p in gallery.paths]]
    expected = re_ranking(*(euclidean_from_cosine(1 - a @ b.T) for a, b in ((q, g), (q, q), (g, g))),
                          k1=5, k2=2, lambda_value=0.3)
    again = evaluate(expected, query.pids, gallery.pids, query.cams, gallery.cams, protocol="sysu")
    assert entry["per_trial"][0]["reranked"]["mAP"] == pytest.approx(again.mAP, abs=1e-9)
    assert set(entry["reranked"]) == {"mean", "std", "cmc_mean"}
    assert "R1" in entry["mean"] and "reranked" not in run_protocol("sysu", tiny_sysu_root, table,
                                                                     trials=1)["settings"][setting.key]


@pytest.mark.slow
def test_synthetic_custom_layout_trains_and_evaluates_end_to_end(tmp_path, monkeypatch, capsys):
    root = tmp_path / "mine"
    generate(root, "custom", SynthConfig(ids=12, images_per_camera=1, height=64, width=32, test_fraction=0.33))
    assert (root / "index.csv").read_text().startswith("path,pid,camera,modality,split\n")
    assert check_dataset("custom", root).ok
    run = tmp_path / "run"
    code, out, err = run_train(monkeypatch, capsys, "--preset", "tiny", "--dataset", "custom",
                          "--root", root, "--captions", root / "reference_captions.parquet",
                          "--out", run, "--val-ids", "2", "--epochs", "1", "--workers", "1",
                          "--cache-dir", tmp_path / "cache",
                          "--set", "run.progress=false", "--set", "sampler.max_batches=1",
                          "--set", "model.pretrained=none")
    assert code == 0, err
    code, out, err = run_eval(monkeypatch, capsys, "--dataset", "custom", "--root", root,
                              "--checkpoint", run / "checkpoints" / "last.pt", "--out", tmp_path / "eval",
                              "--workers", "0", "--rerank", "--rerank-k1", "8")
    assert code == 0, err
    assert "IR->VIS re-ranked" in out and "VIS->IR re-ranked" in out and "k1=8" in out
    results = json.loads((tmp_path / "eval" / "results.json").read_text())["results"]
    assert set(results["settings"]) == {"ir2vis", "vis2ir"}
    assert results["settings"]["ir2vis"]["protocol"] == "same-id-same-camera"
    assert 0 < results["settings"]["ir2vis"]["reranked"]["mean"]["mAP"] <= 1


def test_rerank_parameters_without_rerank_are_refused(monkeypatch, capsys, tmp_path):
    root = _index(tmp_path, ROWS)
    code, out, err = run_eval(monkeypatch, capsys, "--dataset", "custom", "--root", root,
                              "--features", tmp_path / "none.npz", "--rerank-k1", "5")
    assert code == 2 and "error: --rerank-k1/--rerank-k2/--rerank-lambda need --rerank" in err
    code, out, err = run_eval(monkeypatch, capsys, "--dataset", "custom", "--root", root,
                              "--features", tmp_path / "none.npz", "--rerank", "--rerank-lambda", "2")
    assert code == 2 and "lambda_value must lie in [0, 1]" in err
