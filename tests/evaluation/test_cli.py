"""`vireid eval` end to end: saved-features mode, checkpoint mode (fake model), user errors."""

import json
import sys
import types

import numpy as np
import pytest

from vireid.cli import main
from vireid.evaluation import FeatureTable, load_features, save_features
from vireid.evaluation.runner import plan, required_images

from .fake_model import FakeEncoder


def run_cli(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["vireid", "eval", *map(str, args)])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture()
def sysu_features(tiny_sysu_root, tmp_path):
    paths, mods = required_images(plan("sysu", tiny_sysu_root, trials=10))
    feats = np.random.default_rng(0).standard_normal((len(paths), 32)).astype(np.float32)
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    path = tmp_path / "feats.npz"
    save_features(path, FeatureTable(paths, feats, mods, {"dataset": "sysu", "feature": "concat", "flip": True}))
    return path


def test_features_mode_writes_results_plot_and_ranked_list(monkeypatch, capsys, tiny_sysu_root,
                                                           sysu_features, tmp_path):
    out = tmp_path / "out"
    code, stdout, err = run_cli(monkeypatch, capsys, "--dataset", "sysu", "--root", tiny_sysu_root,
                                "--features", sysu_features, "--out", out, "--ranked-list", 3)
    assert code == 0, err
    assert "all-search single-shot" in stdout and "indoor-search multi-shot" in stdout
    record = json.loads((out / "results.json").read_text())
    assert record["protocol"] == "sysu" and record["feature"] == "concat" and record["flip"] == "mean"
    assert record["interpolation"] == "bicubic"                        # saved flip True = mean
    assert record["provenance"]["vireid_version"] == record["vireid_version"]
    libraries = record["provenance"]["libraries"]  # what a number depends on, for a rerun
    assert {"torch", "transformers", "bitsandbytes", "open_clip_torch", "numpy", "pillow"} <= set(libraries)
    settings = record["results"]["settings"]
    assert set(settings) == {"all_single", "all_multi", "indoor_single", "indoor_multi"}
    assert all(len(s["per_trial"]) == 10 for s in settings.values())
    r1 = settings["all_single"]["mean"]["R1"]
    assert f"{100 * r1:.2f}" in stdout                                 # the table prints percent
    assert (out / "cmc.png").stat().st_size > 0 and (out / "ranked_list.png").stat().st_size > 0


def test_features_missing_a_protocol_image_names_it(monkeypatch, capsys, tiny_sysu_root, tmp_path):
    paths, mods = required_images(plan("sysu", tiny_sysu_root, trials=10))
    path = tmp_path / "partial.npz"
    save_features(path, FeatureTable(paths[1:], np.ones((len(paths) - 1, 4), np.float32), mods[1:]))
    code, _, err = run_cli(monkeypatch, capsys, "--dataset", "sysu", "--root", tiny_sysu_root,
                           "--features", path, "--out", tmp_path / "o")
    assert code == 2 and f"error:   {paths[0]}" in err and "Traceback" not in err


def _fake_checkpoint(monkeypatch, tmp_path):
    # Stand-in for vireid.models.store (heavy to import): same checkpoint contract.
    ckpt = tmp_path / "model.pt"
    ckpt.write_bytes(b"weights")
    fake = types.ModuleType("vireid.models.store")
    fake.load_checkpoint = lambda path, map_location="cpu": {"version": 2, "epoch": 3, "train_config": {}}
    fake.model_from_state = lambda state, path="": FakeEncoder()
    monkeypatch.setitem(sys.modules, "vireid.models.store", fake)
    return ckpt


def test_checkpoint_mode_saves_features_that_reproduce_the_results(monkeypatch, capsys, tiny_regdb_root,
                                                                   tmp_path):
    ckpt = _fake_checkpoint(monkeypatch, tmp_path)
    common = ("--dataset", "regdb", "--root", tiny_regdb_root, "--trial", 1)
    code, _, err = run_cli(monkeypatch, capsys, *common, "--checkpoint", ckpt, "--workers", 0,
                           "--out", tmp_path / "a", "--save-features", tmp_path / "f.npz")
    assert code == 0, err
    code, _, err = run_cli(monkeypatch, capsys, *common, "--features", tmp_path / "f.npz",
                           "--out", tmp_path / "b")
    assert code == 0, err
    a = json.loads((tmp_path / "a" / "results.json").read_text())
    b = json.loads((tmp_path / "b" / "results.json").read_text())
    assert a["results"]["settings"] == b["results"]["settings"]
    assert b["checkpoint_sha256"] == a["checkpoint_sha256"] and len(a["checkpoint_sha256"]) == 64


@pytest.mark.parametrize("args, flip, interpolation, dim", [
    ((), "mean", "bicubic", 10),
    (("--no-flip",), "none", "bicubic", 10),
    (("--flip", "concat", "--interpolation", "bilinear"), "concat", "bilinear", 20),
])
def test_flip_mode_and_interpolation_are_used_and_recorded(monkeypatch, capsys, tiny_regdb_root, tmp_path,
                                                           args, flip, interpolation, dim):
    ckpt = _fake_checkpoint(monkeypatch, tmp_path)
    code, _, err = run_cli(monkeypatch, capsys, "--dataset", "regdb", "--root", tiny_regdb_root, "--trial", 1,
                           "--checkpoint", ckpt, "--workers", 0, "--out", tmp_path / "a",
                           "--save-features", tmp_path / "f.npz", *args)
    assert code == 0, err
    table = load_features(tmp_path / "f.npz")
    assert table.features.shape[1] == dim                               # FakeEncoder concat: 6 + 4
    assert (table.meta["flip"], table.meta["interpolation"]) == (flip, interpolation)
    record = json.loads((tmp_path / "a" / "results.json").read_text())
    assert (record["flip"], record["interpolation"]) == (flip, interpolation)


@pytest.mark.parametrize("args, message", [
    (("--dataset", "sysu", "--features", "f.npz", "--flip", "max"), "--flip must be one of none, mean, concat"),
    (("--dataset", "sysu", "--features", "f.npz", "--flip", "concat", "--no-flip"), "--no-flip contradicts"),
    (("--dataset", "sysu", "--features", "f.npz", "--interpolation", "nearest"),
     "--interpolation must be one of bicubic, bilinear"),
    (("--dataset", "sysu", "--checkpoint", "missing.pt"), "missing.pt: checkpoint not found"),
    (("--dataset", "regdb", "--features", "f.npz"), "--trial is required for regdb"),
    (("--dataset", "sysu", "--features", "nope.npz"), "nope.npz: features file not found"),
    (("--dataset", "market", "--features", "f.npz"), "--dataset must be one of"),
    (("--dataset", "sysu"), "exactly one of --checkpoint"),
])
def test_user_errors_are_one_line_and_exit_2(monkeypatch, capsys, tiny_sysu_root, args, message):
    code, _, err = run_cli(monkeypatch, capsys, "--root", tiny_sysu_root, *args)
    assert code == 2 and message in err and "Traceback" not in err


def _regdb_checkpoint(monkeypatch, tmp_path, trained_trial):
    ckpt = _fake_checkpoint(monkeypatch, tmp_path)
    store = sys.modules["vireid.models.store"]
    store.load_checkpoint = lambda path, map_location="cpu": {
        "version": 2, "epoch": 3, "train_config": {"data": {"dataset": "regdb", "trial": trained_trial}}}
    return ckpt


def test_a_regdb_model_of_another_trial_is_refused_unless_allowed(monkeypatch, capsys, tiny_regdb_root,
                                                                   tmp_path):
    ckpt = _regdb_checkpoint(monkeypatch, tmp_path, trained_trial=1)
    common = ("--dataset", "regdb", "--root", tiny_regdb_root, "--trial", 2, "--checkpoint", ckpt,
              "--workers", 0, "--out", tmp_path / "o")
    code, _, err = run_cli(monkeypatch, capsys, *common)
    assert code == 2 and err.count("error:") == 1 and "trained on RegDB trial 1" in err
    assert "--allow-other-trial" in err
    code, _, err = run_cli(monkeypatch, capsys, *common, "--allow-other-trial")
    assert code == 0, err
    assert "warning:" in err and "trained on RegDB trial 1, evaluated on trial 2" in err
    assert (tmp_path / "o" / "results.json").is_file()


def test_unwritable_outputs_fail_before_any_extraction(monkeypatch, capsys, tiny_regdb_root, tmp_path):
    ckpt = _fake_checkpoint(monkeypatch, tmp_path)
    extracted = []
    import vireid.evaluation.checkpoint as evalckpt
    monkeypatch.setattr(evalckpt, "extract_table", lambda *a, **k: extracted.append(1))
    common = ("--dataset", "regdb", "--root", tiny_regdb_root, "--trial", 1, "--checkpoint", ckpt)
    (tmp_path / "dir").mkdir()
    code, _, err = run_cli(monkeypatch, capsys, *common, "--save-features", tmp_path / "dir",
                           "--out", tmp_path / "o")
    assert code == 2 and "--save-features is a folder" in err
    (tmp_path / "file").write_text("x")
    code, _, err = run_cli(monkeypatch, capsys, *common, "--out", tmp_path / "file")
    assert code == 2 and "--out is a file" in err and "Traceback" not in err
    assert extracted == []


def _write_npz(path, features, meta='{"format": "vireid-features", "version": 1}', n=2):
    np.savez(path, paths=np.array([f"a{i}.jpg" for i in range(n)]), modalities=np.array(["visible"] * n),
             features=features, meta=np.array(meta))


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b""), "unreadable features file"),
    (lambda p: _write_npz(p, np.ones((2, 3), np.float32), meta="[1, 2]"), "meta is a JSON list"),
    (lambda p: _write_npz(p, np.ones((2, 3), np.complex64)), "must be real numbers"),
    (lambda p: _write_npz(p, np.zeros((2, 3), np.float32)), "2 of 2 feature row(s) are all zero"),
    (lambda p: _write_npz(p, np.full((2, 3), np.nan, np.float32)), "hold NaN or inf"),
])
def test_bad_feature_files_are_one_line_errors(monkeypatch, capsys, tiny_sysu_root, tmp_path, make, message):
    path = tmp_path / "f.npz"
    make(path)
    code, out, err = run_cli(monkeypatch, capsys, "--dataset", "sysu", "--root", tiny_sysu_root,
                             "--features", path, "--out", tmp_path / "o")
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert "Aborted" not in out + err and "Traceback" not in err


def test_max_rank_is_capped_at_the_gallery_size(monkeypatch, capsys, tiny_regdb_root, tmp_path):
    ckpt = _fake_checkpoint(monkeypatch, tmp_path)
    code, _, err = run_cli(monkeypatch, capsys, "--dataset", "regdb", "--root", tiny_regdb_root, "--trial", 1,
                           "--checkpoint", ckpt, "--workers", 0, "--out", tmp_path / "o", "--max-rank", 500)
    assert code == 0, err
    assert "capped at 12" in err
    record = json.loads((tmp_path / "o" / "results.json").read_text())
    assert record["results"]["max_rank"] == 12
    assert len(record["results"]["settings"]["vis2ir"]["cmc_mean"]) == 12


def test_two_checkpoints_evaluated_without_out_keep_both_results(monkeypatch, capsys, tiny_regdb_root,
                                                                   tmp_path):
    ckpt = _fake_checkpoint(monkeypatch, tmp_path)
    monkeypatch.chdir(tmp_path)
    firsts = []
    for run in ("run_a", "run_b"):
        (tmp_path / run / "checkpoints").mkdir(parents=True)
        path = tmp_path / run / "checkpoints" / "last.pt"
        path.write_bytes(ckpt.read_bytes())
        code, _, err = run_cli(monkeypatch, capsys, "--dataset", "regdb", "--root", tiny_regdb_root, "--trial", 1,
                               "--checkpoint", path, "--workers", 0, "--trials", 1)
        assert code == 0, err
        firsts.append(tmp_path / "runs" / "eval" / "regdb-trial1" / f"{run}-last" / "results.json")
    assert [json.loads(p.read_text())["checkpoint"] for p in firsts] == [
        str(tmp_path / "run_a" / "checkpoints" / "last.pt"), str(tmp_path / "run_b" / "checkpoints" / "last.pt")]
    # another model whose default folder is taken is refused, not written over
    (tmp_path / "elsewhere" / "run_a" / "checkpoints").mkdir(parents=True)
    other = tmp_path / "elsewhere" / "run_a" / "checkpoints" / "last.pt"
    other.write_bytes(ckpt.read_bytes())
    before = firsts[0].read_bytes()
    code, _, err = run_cli(monkeypatch, capsys, "--dataset", "regdb", "--root", tiny_regdb_root, "--trial", 1,
                           "--checkpoint", other, "--workers", 0, "--trials", 1)
    assert code == 2 and err.count("\n") == 1 and "holds the results of" in err and "--out" in err
    assert firsts[0].read_bytes() == before


@pytest.mark.parametrize("device", ["cuda:7", "foo"])
def test_a_missing_or_unknown_device_is_one_line(monkeypatch, capsys, tiny_regdb_root, tmp_path, device):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    ckpt = _fake_checkpoint(monkeypatch, tmp_path)
    code, _, err = run_cli(monkeypatch, capsys, "--dataset", "regdb", "--root", tiny_regdb_root, "--trial", 1,
                           "--checkpoint", ckpt, "--device", device, "--out", tmp_path / "o")
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"error: --device: {device!r}")
    assert not (tmp_path / "o").exists()


def test_non_finite_features_of_a_checkpoint_name_it(monkeypatch, capsys, tiny_regdb_root, tmp_path):
    import torch

    ckpt = _fake_checkpoint(monkeypatch, tmp_path)
    broken = FakeEncoder()
    with torch.no_grad():
        broken.proj.weight.fill_(float("nan"))
    sys.modules["vireid.models.store"].model_from_state = lambda state, path="": broken
    code, _, err = run_cli(monkeypatch, capsys, "--dataset", "regdb", "--root", tiny_regdb_root, "--trial", 1,
                           "--checkpoint", ckpt, "--workers", 0, "--out", tmp_path / "o")
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"error: {ckpt}: non-finite (NaN/inf) features for ")
    assert not (tmp_path / "o" / "results.json").exists()
