"""clip4vi-reid's TSG stage survives a SIGKILL: `vireid train --resume auto` picks it up mid-stage."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


def _train(root: Path, out: Path, cache: Path, sets: list[str], *extra: str) -> subprocess.Popen:
    args = [sys.executable, "-m", "vireid", "train", "-p", "tiny-clip4vi-reid", "--dataset", "sysu",
            "--root", str(root), "--captions", "reference", "--out", str(out), "--epochs", "1",
            "--workers", "1", "--cache-dir", str(cache), "--set", "sampler.max_batches=1",
            "--set", "run.progress=true", *[x for s in sets for x in ("--set", s)], *extra]
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("source, sets, unit", [
    ("prompts", ["clip4vi-reid.stage.epochs=40", "clip4vi-reid.stage.batch_size=64"], "epoch"),
    ("captions", ["method=clip4vi-reid-captions", "clip4vi-reid.stage.caption_batch_size=1"], "caption chunk"),
])
def test_sigkill_mid_tsg_stage_then_resume_auto_finishes_from_the_saved_progress(
        synth_sysu_root, tmp_path, source, sets, unit):
    out, cache = tmp_path / "run", tmp_path / "cache"
    progress = out / "stages" / "tsg.progress.pt"
    proc = _train(synth_sysu_root, out, cache, sets)
    deadline = time.time() + 240
    while time.time() < deadline and not progress.is_file():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        time.sleep(0.02)
    time.sleep(0.3)  # a little further into the stage
    assert proc.poll() is None, "the stage finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert progress.is_file() and not (out / "stages" / "tsg.pt").exists()
    assert not (out / "checkpoints" / "last.pt").exists()

    again = _train(synth_sysu_root, out, cache, sets, "--resume", "auto")
    stdout, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stderr[-3000:]
    assert f"TSG stage: resumed after {unit}" in stdout + stderr
    assert (out / "stages" / "tsg.pt").is_file() and not progress.exists()
    assert (out / "checkpoints" / "last.pt").is_file()
    info = json.loads((out / "config.json").read_text())
    assert info["config"]["method"] == ("clip4vi-reid" if source == "prompts" else "clip4vi-reid-captions")
    if source == "prompts":
        history = [json.loads(x) for x in (out / "logs" / "stage_tsg.jsonl").read_text().splitlines()]
        assert [r["epoch"] for r in history] == list(range(1, 41))


def test_main_stage_resume_reproduces_the_uninterrupted_run_with_the_hsa_bank(synth_sysu_root, tmp_path):
    import torch

    from vireid.models.store import load_checkpoint
    from vireid.training.config import resolve_config
    from vireid.training.engine import train
    from vireid.training.train_log import read_jsonl

    def cfg(epochs):
        return resolve_config("tiny-clip4vi-reid", overrides=[
            f"data.root={str(synth_sysu_root)!r}", f"data.cache_dir={str(tmp_path / 'cache')!r}",
            f"optim.epochs={epochs}", "sampler.max_batches=2", "run.progress=false", "run.validate_every=0",
            "data.workers=1", "clip4vi-reid.stage.epochs=1"])

    straight = train(cfg(2), tmp_path / "straight")
    train(cfg(1), tmp_path / "resumed")
    resumed = train(cfg(2), tmp_path / "resumed", resume="auto")

    def losses(run):
        return [{k: v for k, v in r.items() if k.startswith("loss/")} for r in read_jsonl(run / "logs" / "train.jsonl")]

    assert losses(tmp_path / "straight") == losses(tmp_path / "resumed")
    assert set(losses(tmp_path / "straight")[0]) == {f"loss/{k}" for k in ("id", "wrt", "tsg", "ife", "hsa", "total")}
    a, b = load_checkpoint(straight.last), load_checkpoint(resumed.last)
    assert set(a["method_state"]) == {"bank", "prompt.ctx"}
    assert all(torch.equal(a["method_state"][k], b["method_state"][k]) for k in a["method_state"])
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
