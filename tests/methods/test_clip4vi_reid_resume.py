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
            "--set", "run.progress=true", "--set", "model.pretrained=none", *[x for s in sets for x in ("--set", s)], *extra]
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
