"""vireid export: each graph gives PyTorch's features within the tolerance it reports."""

from __future__ import annotations

import json

import numpy as np
import pytest

import vireid
from vireid.errors import VireidError
from vireid.inference.export import export_model


@pytest.fixture(scope="module")
def exported(tiny_checkpoint, synth_sysu_root, tmp_path_factory):
    """``export(fmt) -> (model, folder, checks)``, each format exported once per module."""
    model = vireid.load(tiny_checkpoint)
    images = sorted(synth_sysu_root.glob("cam*/*/*.jpg"))[:5]
    done = {}

    def export(fmt):
        if fmt not in done:
            folder = tmp_path_factory.mktemp(fmt)
            done[fmt] = (model, folder, export_model(model, folder, fmt, check_images=images, batch=5))
        return done[fmt]

    return export


@pytest.mark.parametrize("fmt, suffix", [("onnx", ".onnx"), ("torchscript", ".pt")])
def test_exported_graphs_match_pytorch_on_a_larger_batch_than_traced(exported, fmt, suffix):
    model, tmp_path, checks = exported(fmt)
    assert [c.modality for c in checks] == ["visible", "infrared"]
    for check in checks:
        assert check.file.name == check.modality + suffix and check.batch == 5
        # Measured about 1e-7 (ONNX) and 0 (TorchScript) on unit-norm features.
        assert check.ok and check.max_abs_diff <= 1e-5
    meta = json.loads((tmp_path / "preprocessing.json").read_text())
    assert meta["image_size"] == list(model.image_size) and meta["dim"] == model.dim
    assert meta["mean"] == list(model.network.pixel_mean) and meta["interpolation"] == "bicubic"
    assert meta["files"] == {"visible": "visible" + suffix, "infrared": "infrared" + suffix}


def test_the_onnx_graph_runs_alone_with_the_recorded_preprocessing(exported, synth_sysu_root):
    import onnxruntime as ort
    from PIL import Image

    model, tmp_path, _ = exported("onnx")
    meta = json.loads((tmp_path / "preprocessing.json").read_text())
    path = sorted(synth_sysu_root.glob("cam3/*/*.jpg"))[0]
    h, w = meta["image_size"]
    img = Image.open(path).convert("RGB").resize((w, h), Image.BICUBIC)
    x = (np.asarray(img, dtype=np.float32) / 255 - meta["mean"]) / meta["std"]
    x = x.transpose(2, 0, 1)[None].astype(np.float32)
    session = ort.InferenceSession(str(tmp_path / meta["files"]["infrared"]), providers=["CPUExecutionProvider"])
    out = session.run(["features"], {"images": x})[0]
    np.testing.assert_allclose(out, model.embed(path, "infrared"), atol=1e-5)


def test_an_unknown_format_is_refused(tiny_checkpoint, tmp_path):
    with pytest.raises(VireidError, match="--format must be one of onnx, torchscript"):
        export_model(vireid.load(tiny_checkpoint), tmp_path, "tensorrt")
