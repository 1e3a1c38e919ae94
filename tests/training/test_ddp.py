"""Scale-out: the same command under a 2-process DDP launch (CPU, gloo) shards the batches,
averages the logged losses over processes and writes one set of outputs."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vireid.training.train_log import read_jsonl


@pytest.mark.slow
def test_two_process_launch_shards_batches_and_writes_once(synth_sysu_root, train_cache_dir, tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists() and not shutil.which("torchrun"):
        pytest.skip("torchrun not installed")
    out = tmp_path / "run"
    cmd = [str(torchrun if torchrun.exists() else "torchrun"), "--standalone", "--nproc_per_node", "2",
           "-m", "vireid", "train", "--preset", "tiny-eees", "--root", str(synth_sysu_root),
           "--dataset", "sysu", "--captions", "reference", "--out", str(out), "--epochs", "1",
           "--cache-dir", str(train_cache_dir), "--device", "cpu", "--set", "sampler.max_batches=4",
           "--set", "run.progress=false", "--workers", "1", "--set", "model.pretrained=none"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("trained tiny-eees") == 1  # only rank 0 reports
    info = json.loads((out / "config.json").read_text())
    assert info["processes"] == 2 and info["batches_per_epoch"] == 2  # 4 global batches, 2 each
    (record,) = read_jsonl(out / "logs" / "train.jsonl")
    assert record["steps"] == 2 and record["loss/total"] > 0
    assert (out / "checkpoints" / "last.pt").is_file()
