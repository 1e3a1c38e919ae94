"""Device, precision and process setup: one code path for CPU, one GPU and multi-GPU DDP.

Everything goes through ``accelerate.Accelerator``: a plain ``vireid train`` is a single
process (CPU or the first GPU); ``accelerate launch -m vireid train ...`` (or
``accelerate launch $(which vireid) train ...``) starts one process per GPU with DDP. Mixed
precision is bf16 autocast on CUDA (``run.precision = "auto"``) and fp32 on CPU.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

from vireid.device import resolve_device
from vireid.errors import ConfigError
from vireid.training.config import RunConfig


def resolve_precision(run: RunConfig, device_type: str) -> str:
    """accelerate's mixed_precision value: "bf16" or "no"."""
    if run.precision == "auto":
        return "bf16" if device_type == "cuda" else "no"
    return "bf16" if run.precision == "bf16" else "no"


def make_accelerator(run: RunConfig):
    """The run's Accelerator (created once per process)."""
    from accelerate import Accelerator

    want = resolve_device(run.device, key="run.device (--device)")
    if want.startswith("cuda:"):
        # accelerate places process i on cuda:i; a single-process run on another GPU is
        # expressed the usual way, by making that GPU the only visible one.
        raise ConfigError("run.device: use CUDA_VISIBLE_DEVICES=N with --device cuda to pick a GPU")
    precision = resolve_precision(run, "cuda" if want == "cuda" else "cpu")
    return Accelerator(cpu=want == "cpu", mixed_precision=precision)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (model initialisation; batches use their own generators)."""
    random.seed(seed)
    np.random.seed(seed % (1 << 32))
    torch.manual_seed(seed)


def default_cache_dir() -> Path:
    """Where decoded images are cached when ``data.cache_dir`` is empty."""
    base = os.environ.get("VIREID_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "vireid")
    return Path(base) / "images"
