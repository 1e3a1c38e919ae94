"""Finding checkpoints offline, clear errors for missing weights, quantised loading."""

import re
import warnings

import pytest

from vireid.captioning.model_loading import (
    ModelNotFoundError,
    load_captioner,
    resolve_model,
    weights_revision,
)
from vireid.errors import VireidError


def test_missing_hub_model_offline_names_model_cache_and_download(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    import huggingface_hub.constants as hc

    monkeypatch.setattr(hc, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model("llava-hf/llava-1.5-7b-hf")
    message = str(info.value)
    assert isinstance(info.value, VireidError)
    assert "llava-hf/llava-1.5-7b-hf" in message
    assert str(tmp_path / "hub-cache") in message
    assert "HF_HUB_OFFLINE" in message and "download" in message


def test_missing_local_directory_is_named(tmp_path):
    with pytest.raises(ModelNotFoundError, match=re.escape(str(tmp_path / "nope"))):
        resolve_model(str(tmp_path / "nope"))


def test_directory_without_config_is_rejected(tmp_path):
    (tmp_path / "weights").mkdir()
    with pytest.raises(ModelNotFoundError, match="config.json"):
        resolve_model(str(tmp_path / "weights"))


def test_revision_of_a_local_folder_is_a_weights_fingerprint(tiny_model, tmp_path):
    source = resolve_model(str(tiny_model))
    assert source.path == tiny_model
    assert source.revision and source.revision.startswith("files-")
    assert weights_revision(tiny_model) == source.revision
    (tmp_path / "config.json").write_text("{}")
    assert weights_revision(tmp_path) is None  # no weights, no revision


def test_revision_of_a_hub_snapshot_is_its_commit(tmp_path):
    commit = "a" * 40
    snapshot = tmp_path / "models--x--y" / "snapshots" / commit
    snapshot.mkdir(parents=True)
    assert weights_revision(snapshot) == commit


def test_tiny_model_loads_with_left_padding(tiny_model):
    loaded = load_captioner(resolve_model(str(tiny_model)), quantization="none", device="cpu")
    assert loaded.processor.tokenizer.padding_side == "left"
    assert loaded.device.type == "cpu"


def test_4bit_nf4_loading_and_generation_on_cpu(tiny_model):
    """bitsandbytes' CPU backend quantises to NF4, computes in bf16, and generation runs.

    The one warning asserted is vireid's own (4-bit on CPU is slow); third-party log lines
    are not this test's business.
    """
    pytest.importorskip("bitsandbytes")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_captioner(resolve_model(str(tiny_model)), quantization="4bit", device="cpu")
    assert any("quantisation on CPU works but is slow" in str(w.message) for w in caught)
    import bitsandbytes.nn as bnb_nn
    import torch

    quantised = [m for m in loaded.model.modules() if isinstance(m, bnb_nn.Linear4bit)]
    assert quantised, "no layer was quantised"
    assert {m.weight.quant_state.quant_type for m in quantised} == {"nf4"}
    assert {m.compute_dtype for m in quantised} == {torch.bfloat16}

    from vireid.captioning.data import CaptionImages, collate
    from vireid.captioning.generate import generate_batch
    from PIL import Image

    image = tiny_model / "probe.png"
    Image.new("RGB", (20, 40), (90, 30, 200)).save(image)
    dataset = CaptionImages([image], ["USER: <image>\ndescribe ASSISTANT:"], loaded.processor)
    batch = collate([dataset[0]], loaded.processor.tokenizer.pad_token_id)
    captions = generate_batch(loaded.model, loaded.processor, batch,
                              {"max_new_tokens": 5, "do_sample": False}, loaded.device)
    assert len(captions) == 1 and captions[0]
    image.unlink()


# A fresh interpreter (bitsandbytes resolves hub kernels once, at import) with a stand-in
# `kernels` package that records every kernel bitsandbytes asks the hub for.
_SPY = """
import sys, types
asked = []
def get_kernel(repo_id, **kwargs):
    asked.append(repo_id)
    raise RuntimeError("hub kernels are not available in this test")
spy = types.ModuleType("kernels")
spy.get_kernel = get_kernel
sys.modules["kernels"] = spy
from vireid.captioning.model_loading import import_bitsandbytes_without_hub_kernels
import_bitsandbytes_without_hub_kernels()
import bitsandbytes
try:
    from bitsandbytes.functional import has_avx512bf16
except ImportError:  # older bitsandbytes: no fused CPU kernel, nothing to ask the hub for
    has_avx512bf16 = lambda: False
assert sys.modules["kernels"] is spy, "the kernels package was not restored"
print(int(bool(has_avx512bf16())))
print(",".join(asked))
"""


def _kernels_asked_for(env):
    import os
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _SPY], env={**os.environ, **env},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    avx, asked = out.stdout.split("\n")[-3:-1]  # the two lines the script prints last
    return avx == "1", [a for a in asked.split(",") if a]


def test_4bit_loading_never_asks_the_hub_for_kernels_unless_allowed():
    pytest.importorskip("bitsandbytes")
    _, asked = _kernels_asked_for({"VIREID_BNB_HUB_KERNELS": "0"})
    assert asked == []
    # the opt-in restores bitsandbytes' own behaviour, which asks only on AVX512-BF16 CPUs
    avx512bf16, asked = _kernels_asked_for({"VIREID_BNB_HUB_KERNELS": "1"})
    if not avx512bf16:
        pytest.skip("this CPU has no AVX512-BF16: bitsandbytes never asks for hub kernels here")
    assert asked == ["kernels-community/quantization-bitsandbytes"]


def _online_with_empty_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    import huggingface_hub.constants as hc

    monkeypatch.setattr(hc, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))


@pytest.mark.parametrize("failure, expected", [
    (ConnectionError("Name or service not known"), r"cannot be reached \(ConnectionError: Name or service"),
    ("missing", r"has no model of that name"),
    ("gated", r"is gated on the hub"),
])
def test_uncached_hub_model_online_fails_at_once_with_the_reason(monkeypatch, tmp_path, failure, expected):
    # a single metadata request replaces minutes of download retries without network
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    _online_with_empty_cache(monkeypatch, tmp_path)
    calls = []

    def model_info(self, repo_id, timeout=None, **kwargs):
        calls.append((repo_id, timeout))
        if failure == "missing":
            raise RepositoryNotFoundError("404", response=_response(404))
        if failure == "gated":
            raise GatedRepoError("403", response=_response(403))
        raise failure

    monkeypatch.setattr(HfApi, "model_info", model_info)
    with pytest.raises(ModelNotFoundError, match=expected) as info:
        resolve_model("llava-hf/llava-1.5-7b-hf")
    assert calls == [("llava-hf/llava-1.5-7b-hf", 10.0)]
    assert str(tmp_path / "hub-cache") in str(info.value)


def test_uncached_hub_model_online_is_left_to_from_pretrained_when_the_hub_knows_it(monkeypatch, tmp_path):
    from huggingface_hub import HfApi

    _online_with_empty_cache(monkeypatch, tmp_path)
    monkeypatch.setattr(HfApi, "model_info", lambda self, repo_id, timeout=None, **kw: object())
    source = resolve_model("llava-hf/llava-1.5-7b-hf")
    assert source.path is None and source.load_from == "llava-hf/llava-1.5-7b-hf"


def _response(status: int):
    from types import SimpleNamespace

    # the two attributes huggingface_hub's HTTP errors read from a response
    return SimpleNamespace(status_code=status, headers={}, request=None)


def _copy_model(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_a_folder_of_another_architecture_is_one_line_naming_folder_and_model_type(tiny_model, tmp_path):
    import json

    folder = _copy_model(tiny_model, tmp_path / "bert")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "bert"}))
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model(str(folder))
    assert str(info.value) == (f"{folder}: not a LLaVA model (config.json has model_type 'bert'; "
                               "expected 'llava', e.g. llava-hf/llava-1.5-7b-hf)")


@pytest.mark.parametrize("removed, missing", [
    (("processor_config.json",), "image processor settings"),
    (("tokenizer.json",), "tokenizer"),
    (("model.safetensors",), "weight files"),
])
def test_an_incomplete_llava_folder_names_what_is_missing(tiny_model, tmp_path, removed, missing):
    folder = _copy_model(tiny_model, tmp_path / "partial")
    for name in removed:
        (folder / name).unlink()
    with pytest.raises(ModelNotFoundError, match=rf"^{re.escape(str(folder))}: incomplete LLaVA checkpoint: no {missing}"):
        resolve_model(str(folder))


def test_an_unreadable_config_is_named(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{not json")
    with pytest.raises(ModelNotFoundError, match=rf"^{re.escape(str(tmp_path / 'm' / 'config.json'))}: unreadable model config"):
        resolve_model(str(tmp_path / "m"))


def test_captions_cli_with_a_non_llava_folder_prints_one_error_line(tiny_model, tmp_path, monkeypatch, capsys):
    import json
    import sys

    from vireid.cli import main

    folder = _copy_model(tiny_model, tmp_path / "clip")
    (folder / "config.json").write_text(json.dumps({"model_type": "clip"}))
    monkeypatch.setattr(sys, "argv", ["vireid", "captions", "--index", str(tmp_path / "missing.parquet"),
                                      "--root", str(tmp_path), "--out", str(tmp_path / "o"),
                                      "--model", str(folder)])
    monkeypatch.setattr("vireid.captioning.cli._load_index", lambda *a: _index(tmp_path))
    with pytest.raises(SystemExit) as info:
        main()
    err = capsys.readouterr().err
    assert info.value.code == 2 and err == f"error: {folder}: not a LLaVA model (config.json has model_type 'clip'; expected 'llava', e.g. llava-hf/llava-1.5-7b-hf)\n"


def _index(tmp_path):
    from tests.captioning.conftest import write_images
    from vireid.manifests import to_table

    return to_table(write_images(tmp_path / "images", 2), "image-index")
