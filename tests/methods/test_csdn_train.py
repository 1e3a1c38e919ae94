"""CSDN end to end on the small synthetic SYSU set: three stages in one run, stage caching by
fingerprint, a SIGKILL in each stage survived with ``--resume auto``, foreign checkpoints refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vireid.training.config import resolve_config
from vireid.training.engine import train
from vireid.training.train_log import read_jsonl

pytestmark = pytest.mark.slow
SRC = Path(__file__).resolve().parents[2] / "src"


def _config(root, cache, *overrides):
    base = [f"data.root={str(root)!r}", f"data.cache_dir={str(cache)!r}", "optim.epochs=1",
            "sampler.max_batches=2", "run.progress=false", "run.validate_every=1", "data.workers=1",
            "csdn.prompt.epochs=1", "csdn.fusion.epochs=1", "csdn.prompt.batch_size=128",
            "model.pretrained=none"]
    return resolve_config("tiny-csdn", overrides=base + list(overrides))


def test_tiny_csdn_runs_three_stages_and_reuses_stages_whose_inputs_did_not_change(synth_sysu_root, tmp_path):
    run = tmp_path / "run"
    train(_config(synth_sysu_root, tmp_path / "cache"), run)
    (record,) = read_jsonl(run / "logs" / "train.jsonl")
    assert {k.removeprefix("loss/") for k in record if k.startswith("loss/")} == {
        "id", "msel", "wrt", "text_v", "text_r", "total"}
    assert "val/mAP" in record
    assert read_jsonl(run / "logs" / "stage_prompts.jsonl")[0]["loss/prompt"] > 0
    assert read_jsonl(run / "logs" / "stage_fusion.jsonl")[0]["loss/fusion"] > 0
    prompts, fusion = run / "stages" / "prompts.pt", run / "stages" / "fusion.pt"
    stamps = prompts.stat().st_mtime_ns, fusion.stat().st_mtime_ns
    # only a stage-3 setting changes: neither stage runs again
    train(_config(synth_sysu_root, tmp_path / "cache", "csdn.weights.msel=0.5"), run, force=True)
    assert (prompts.stat().st_mtime_ns, fusion.stat().st_mtime_ns) == stamps
    # a stage-2 setting changes: stage 2 is rebuilt, stage 1 reused
    train(_config(synth_sysu_root, tmp_path / "cache", "csdn.fusion.lr=1e-3"), run, force=True)
    assert prompts.stat().st_mtime_ns == stamps[0] and fusion.stat().st_mtime_ns != stamps[1]
    from vireid.models import load_model

    model = load_model(run / "checkpoints" / "last.pt")  # evaluation rebuilds the learnable-GeM network
    assert model.config.gem_learnable and model.config.neck_bias


def _launch(args, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC), "HF_HUB_OFFLINE": "1"}
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-m", "vireid", "train", *args], stdout=out,
                                stderr=subprocess.STDOUT, env=env)


def _kill_when(proc: subprocess.Popen, path: Path, timeout: float = 240) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.is_file():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return
        if proc.poll() is not None:
            pytest.fail(f"the run ended (rc {proc.returncode}) before {path.name} appeared")
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"{path} did not appear within {timeout}s")


def test_vireid_train_survives_a_sigkill_in_each_stage(synth_sysu_root, tmp_path):
    run = tmp_path / "run"
    args = ["--preset", "tiny-csdn", "--dataset", "sysu", "--root", str(synth_sysu_root), "--out", str(run),
            "--cache-dir", str(tmp_path / "cache"), "--epochs", "4", "--workers", "1",
            "--set", "sampler.max_batches=2", "--set", "run.validate_every=0", "--set", "model.pretrained=none",
            "--set", "csdn.prompt.epochs=40", "--set", "csdn.fusion.epochs=40",
            "--set", "csdn.prompt.batch_size=128", "--set", "csdn.fusion.batch_size=128"]
    resume = [*args, "--resume", "auto"]
    stages = run / "stages"
    _kill_when(_launch(args, tmp_path / "1.log"), stages / "prompts.progress.pt")
    _kill_when(_launch(resume, tmp_path / "2.log"), stages / "fusion.progress.pt")
    assert "csdn prompt stage: resumed after epoch" in (tmp_path / "2.log").read_text()
    _kill_when(_launch(resume, tmp_path / "3.log"), run / "checkpoints" / "last.pt")
    third = (tmp_path / "3.log").read_text()
    assert "csdn fusion stage: resumed after epoch" in third and "stage prompts: reusing" in third
    final = _launch(resume, tmp_path / "4.log")
    assert final.wait(timeout=300) == 0, (tmp_path / "4.log").read_text()[-2000:]
    info = json.loads((run / "config.json").read_text())
    assert info["resumed_from"] and info["resumed_from"].endswith("last.pt")  # stage 3 resumed
    assert [r["epoch"] for r in read_jsonl(run / "logs" / "train.jsonl")] == [1, 2, 3, 4]
    assert not list(stages.glob("*.progress.pt"))
    # the same run folder with other training data: refused in one line, no traceback
    other = _launch([*resume, "--set", "data.val_ids=5"], tmp_path / "5.log")
    assert other.wait(timeout=300) != 0
    text = (tmp_path / "5.log").read_text()
    last = text.strip().splitlines()[-1]
    assert "last.pt" in last and ("identities" in last or "training data changed" in last or "other settings" in last), last
    assert "Traceback" not in text
