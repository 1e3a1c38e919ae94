"""Specification of `vireid train`: flags, overrides, and user errors as one `error:` line."""

import sys

import pyarrow.compute as pc
import pytest

from vireid.manifests import read_manifest, write_manifest

from tests.training.cli_run import run_cli


@pytest.fixture
def common(synth_sysu_root, train_cache_dir):
    return ["--root", synth_sysu_root, "--dataset", "sysu", "--cache-dir", train_cache_dir,
            "--set", "run.progress=false", "--set", "sampler.max_batches=1", "--epochs", "1",
            "--workers", "1", "--set", "model.pretrained=none"]


def test_train_command_runs_a_tiny_preset(monkeypatch, capsys, common, tmp_path):
    code, out, err = run_cli(monkeypatch, capsys, "--preset", "tiny-baseline", "--out",
                             tmp_path / "run", *common)
    assert code == 0, err
    assert "trained tiny-baseline for 1 epochs" in out
    assert (tmp_path / "run" / "checkpoints" / "last.pt").is_file()


@pytest.mark.parametrize("args,message", [
    (["--set", "optim.lrr=1"], "error: unknown config key optim.lrr"),
    (["--set", "optim.epochs='ten'"], "error: optim.epochs: expected an integer"),
    (["--preset", "nope"], "error: unknown preset 'nope'"),
    (["--preset", "tiny-eees"], "error: this method trains with captions"),
    (["--preset", "tiny-eees", "--captions", "/nonexistent/c.parquet"],
     "error: /nonexistent/c.parquet: caption manifest not found"),
    (["--index", "/nonexistent/index.parquet"], "error: /nonexistent/index.parquet: manifest not found"),
    (["--resume", "/nonexistent/last.pt"], "error: /nonexistent/last.pt: --resume checkpoint not found"),
    # the tiny presets' prior, not pretrained yet in this (empty) VIREID_CACHE: never minutes of
    # pretraining inside `vireid train`, one line naming the command instead
    (["--set", "model.pretrained=synthetic-web"], "run `vireid pretrain` (or `make pretrain`)"),
])
def test_user_errors_exit_2_with_one_error_line(monkeypatch, capsys, common, tmp_path, args, message):
    code, _, err = run_cli(monkeypatch, capsys, "--preset", "tiny-baseline", "--out", tmp_path / "r",
                           *common, *args)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_missing_captions_error_then_template_fallback(monkeypatch, capsys, common, synth_sysu_root,
                                                       tmp_path):
    captions = read_manifest(synth_sysu_root / "reference_captions.parquet", "captions")
    dropped = captions.column("image_id")[0].as_py()
    partial = write_manifest(captions.filter(pc.not_equal(captions.column("image_id"), dropped)),
                             tmp_path / "partial.parquet", "captions")
    args = ["--preset", "tiny-ese", "--out", tmp_path / "run", "--captions", partial, *common]
    code, _, err = run_cli(monkeypatch, capsys, *args)
    if "val" in dropped:  # the image belongs to a held-out id: not a training image
        pytest.skip("first caption row belongs to the val split")
    assert code == 2 and "1 of" in err and dropped in err and "--missing-captions template" in err
    code, out, err = run_cli(monkeypatch, capsys, *args, "--missing-captions", "template")
    assert code == 0, err
    assert "1 training images had no caption" in err + out


def test_regdb_trains_one_model_per_trial(monkeypatch, capsys, synth_regdb_root, train_cache_dir,
                                          tmp_path):
    base = ["--preset", "tiny-baseline", "--root", synth_regdb_root, "--dataset", "regdb",
            "--cache-dir", train_cache_dir, "--set", "run.progress=false",
            "--set", "sampler.max_batches=1", "--epochs", "1", "--workers", "1",
            "--set", "model.pretrained=none"]
    code, _, err = run_cli(monkeypatch, capsys, *base, "--out", tmp_path / "no-trial")
    assert code == 2 and "error: data.trial: RegDB trains one model per trial" in err
    code, out, err = run_cli(monkeypatch, capsys, *base, "--trial", "2", "--out", tmp_path / "t2")
    assert code == 0, err
    info = (tmp_path / "t2" / "config.json").read_text()
    assert '"trial": 2' in info


def test_training_into_a_log_file_writes_no_progress_bars(synth_sysu_root, train_cache_dir, tmp_path):
    # issue 18 item 17: under nohup / a redirect, about one line per epoch, no carriage returns
    import os
    import subprocess
    from pathlib import Path

    import vireid

    src = str(Path(vireid.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "HF_HUB_OFFLINE": "1"}
    log = tmp_path / "train.log"
    with open(log, "w") as fh:
        proc = subprocess.run(
            [sys.executable, "-m", "vireid", "train", "--preset", "tiny-baseline", "--root", str(synth_sysu_root),
             "--dataset", "sysu", "--cache-dir", str(tmp_path / "cache"), "--set", "sampler.max_batches=2",
             "--epochs", "2", "--workers", "1", "--out", str(tmp_path / "run"),
             "--set", "model.pretrained=none"],
            stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, timeout=600)
    text = log.read_text()
    assert proc.returncode == 0, text
    assert "\r" not in text and "\x1b[" not in text
    assert [ln.split(":")[0] for ln in text.splitlines() if ln.startswith("epoch ")] == ["epoch 1", "epoch 2"]
    assert len(text.splitlines()) <= 10, text
