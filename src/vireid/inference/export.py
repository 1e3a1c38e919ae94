"""``vireid export``: the inference network as ONNX or TorchScript, checked against PyTorch.

Graph design: **one graph per modality** (``visible.onnx`` and ``infrared.onnx``, or ``.pt``
for TorchScript). The two modalities enter the network through different stems; a modality
input would need a data-dependent branch (an ONNX ``If``) and both stems' weights in one
graph, while two graphs keep each one a straight line that any runtime optimises, and the
shared weights cost disk only. Each graph takes the *normalised* image batch ``images``
float32 [B, 3, H, W] (dynamic B) and returns ``features`` float32 [B, D]: the test feature
(feature kind, flip TTA and the final L2 normalisation inside the graph), equal to
``vireid.load(checkpoint).embed``. Resizing and normalisation happen outside the graph, as
``preprocessing.json`` beside it records (size, mean/std, interpolation, feature options,
which file serves which modality).

After writing, the export runs each graph (onnxruntime for ONNX, torch.jit for TorchScript)
on a batch of real or seeded random images and compares with PyTorch: the largest absolute
difference must stay within ``atol`` (default 1e-5 on unit-norm features; measured on
the tiny test checkpoint: about 1e-7 for ONNX, 0 for TorchScript).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from vireid.atomic import atomic_path, write_json
from vireid.errors import VireidError
from vireid.evaluation.features import encode_batch
from vireid.inference.api import ReIDModel
from vireid.manifests.names import MODALITIES

FORMATS = ("onnx", "torchscript")
DEFAULT_ATOL = 1e-5
OPSET = 17


class ModalityEmbedder(nn.Module):
    """The test feature of one modality as a plain forward: images -> unit-norm features."""

    def __init__(self, network: nn.Module, modality: str, feature: str, flip: str):
        super().__init__()
        self.network, self.modality, self.feature, self.flip = network, modality, feature, flip

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return encode_batch(self.network, images, self.modality, self.feature, self.flip)


@dataclass
class Check:
    modality: str
    file: Path
    batch: int
    max_abs_diff: float
    atol: float

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= self.atol


def preprocessing(model: ReIDModel, files: dict[str, str], fmt: str) -> dict[str, Any]:
    net = model.network
    return {"format": fmt, "files": files, "input": "images: float32 [B, 3, H, W], normalised",
            "output": "features: float32 [B, D], unit L2 norm", "dim": model.dim,
            "image_size": list(model.image_size), "mean": list(net.pixel_mean), "std": list(net.pixel_std),
            "interpolation": model.feature_options.interpolation, "scale": "pixel / 255, then (x - mean) / std",
            "color": "RGB", "feature_options": model.feature_options.record(),
            "modality": "one graph per modality: pick the file of the images' modality",
            "checkpoint": model.info["checkpoint"], "checkpoint_sha256": model.fingerprint, "model": model.info}


def _export_one(embedder: ModalityEmbedder, example: torch.Tensor, path: Path, fmt: str) -> None:
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")   # tracer warnings about Python-side shape checks
        if fmt == "torchscript":
            traced = torch.jit.trace(embedder, example, check_trace=False)
            traced.save(str(tmp))
        else:
            torch.onnx.export(embedder, (example,), str(tmp), input_names=["images"], output_names=["features"],
                              dynamic_axes={"images": {0: "batch"}, "features": {0: "batch"}},
                              opset_version=OPSET, dynamo=False)


def _run_exported(path: Path, fmt: str, images: torch.Tensor) -> np.ndarray:
    if fmt == "torchscript":
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit's deprecation notice
            return torch.jit.load(str(path), map_location="cpu")(images).numpy()
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["features"], {"images": images.numpy()})[0]


def check_batch(model: ReIDModel, images: list[Path] | None, batch: int, seed: int) -> torch.Tensor:
    """The equality-check batch: the given images (preprocessed as embed does), else seeded noise."""
    if images:
        return torch.stack([model.preprocess(p, str(p)) for p in images[:batch]])
    return torch.randn(batch, 3, *model.image_size, generator=torch.Generator().manual_seed(seed))


def export_model(model: ReIDModel, out: Path, fmt: str, *, check_images: list[Path] | None = None,
                 batch: int = 4, atol: float = DEFAULT_ATOL, seed: int = 0) -> list[Check]:
    """Write one graph per modality + ``preprocessing.json`` into ``out``; return the checks."""
    if fmt not in FORMATS:
        raise VireidError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if out.exists() and not out.is_dir():
        raise VireidError(f"{out}: --out is a file; give a folder")
    if model.device.type != "cpu":
        raise VireidError("export runs on the CPU (the graphs are device-independent); use --device cpu")
    out.mkdir(parents=True, exist_ok=True)
    suffix = ".onnx" if fmt == "onnx" else ".pt"
    opts = model.feature_options
    example = check_batch(model, check_images, batch, seed)
    files, checks = {}, []
    for modality in MODALITIES:
        embedder = ModalityEmbedder(model.network, modality, opts.feature, opts.flip).eval()
        path = out / f"{modality}{suffix}"
        _export_one(embedder, example[:2], path, fmt)   # traced on 2, checked on `batch`: dynamic B
        files[modality] = path.name
        reference = model.embed_batch(example, modality).cpu().numpy()
        exported = _run_exported(path, fmt, example)
        checks.append(Check(modality, path, len(example), float(np.abs(exported - reference).max()), atol))
    meta = preprocessing(model, files, fmt)
    meta["equality_check"] = [{"modality": c.modality, "batch": c.batch, "max_abs_diff": c.max_abs_diff,
                               "atol": c.atol, "ok": c.ok,
                               "inputs": "given images" if check_images else f"seeded noise (seed {seed})"}
                              for c in checks]
    write_json(out / "preprocessing.json", meta)
    return checks


def load_preprocessing(folder: Path) -> dict[str, Any]:
    path = folder / "preprocessing.json"
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise VireidError(f"{path}: unreadable ({exc})") from None
