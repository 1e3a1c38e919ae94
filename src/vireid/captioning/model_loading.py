"""Finding and loading a LLaVA checkpoint (local directory or hub id), with quantisation."""

from __future__ import annotations

import json
import logging
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vireid.device import resolve_device
from vireid.progress import quiet_library_bars
from vireid.errors import VireidError
from vireid.fingerprint import hash_strings

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
_COMMIT_RE = re.compile(r"[0-9a-f]{40}")
# Seconds for the one metadata request that checks an uncached model can be downloaded.
_HUB_PROBE_TIMEOUT_S = 10.0


class ModelNotFoundError(VireidError):
    """The captioning model's weights cannot be found."""


@dataclass(frozen=True)
class ModelSource:
    """Where a model comes from: ``name`` as given, ``path`` once resolved locally."""

    name: str
    path: Path | None  # None: hub id to be downloaded by from_pretrained (online only)
    revision: str | None

    @property
    def load_from(self) -> str:
        return str(self.path) if self.path is not None else self.name


@dataclass
class LoadedModel:
    model: Any
    processor: Any
    source: ModelSource
    device: Any
    quantization: str


def hub_offline() -> bool:
    return any(os.environ.get(key, "").strip().lower() in ("1", "true", "yes", "on")
               for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _hub_cache_dir() -> str:
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def weights_revision(path: Path) -> str | None:
    """Commit hash of a hub snapshot folder, else a hash of the weight files' names and sizes.

    The hash is cheap (no reading of gigabytes) and changes whenever the weights are replaced.
    """
    resolved = path.resolve()
    parts = resolved.parts
    if len(parts) >= 2 and parts[-2] == "snapshots" and _COMMIT_RE.fullmatch(parts[-1]):
        return parts[-1]
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in _WEIGHT_SUFFIXES)
    if not files:
        return None
    return "files-" + hash_strings(f"{p.name}:{p.stat().st_size}" for p in files)[:16]


# What LlavaForConditionalGeneration + AutoProcessor read from a folder: one of each group.
_LLAVA_FILES = {
    "image processor settings": ("processor_config.json", "preprocessor_config.json"),
    "tokenizer": ("tokenizer.json", "tokenizer.model", "vocab.json"),
}


def check_llava_folder(path: Path) -> None:
    """Refuse a folder that is not a complete LLaVA checkpoint, naming what is missing.

    Without this, transformers fails deep inside ``from_pretrained`` with a long traceback
    about some other architecture or an absent file.
    """
    config_path = path / "config.json"
    try:
        config = json.loads(config_path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(f"{config_path}: unreadable model config ({exc})") from None
    model_type = config.get("model_type") if isinstance(config, dict) else None
    if model_type != "llava":
        raise ModelNotFoundError(f"{path}: not a LLaVA model (config.json has model_type "
                                 f"{model_type!r}; expected 'llava', e.g. llava-hf/llava-1.5-7b-hf)")
    for what, names in _LLAVA_FILES.items():
        if not any((path / n).is_file() for n in names):
            raise ModelNotFoundError(f"{path}: incomplete LLaVA checkpoint: no {what} "
                                     f"({' or '.join(names)})")
    if not any(p.suffix in _WEIGHT_SUFFIXES for p in path.iterdir() if p.is_file()):
        raise ModelNotFoundError(f"{path}: incomplete LLaVA checkpoint: no weight files "
                                 f"({', '.join('*' + s for s in _WEIGHT_SUFFIXES)})")


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or os.sep + os.sep in name or name.count("/") > 1


def resolve_model(name: str) -> ModelSource:
    """Find ``name`` as a local directory or in the Hugging Face cache; clear error otherwise."""
    local = Path(name).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise ModelNotFoundError(f"{local}: model directory has no config.json (not a "
                                     "transformers checkpoint)")
        check_llava_folder(local)
        return ModelSource(name=name, path=local, revision=weights_revision(local))
    if _looks_like_path(name):
        raise ModelNotFoundError(f"{name}: model directory not found")

    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(name, "config.json")
    except Exception:  # malformed repo id: report it like a missing model
        cached = None
    if isinstance(cached, str):
        snapshot = Path(cached).parent
        check_llava_folder(snapshot)
        return ModelSource(name=name, path=snapshot, revision=weights_revision(snapshot))
    if hub_offline():
        raise ModelNotFoundError(
            f"model {name!r} not found: no local directory of that name and not in the Hugging "
            f"Face cache ({_hub_cache_dir()}); the hub is not contacted because HF_HUB_OFFLINE "
            f"is set. Download it on a connected machine first (e.g. `huggingface-cli download "
            f"{name}`) and copy the cache, or pass --model DIR with a saved checkpoint."
        )
    _probe_hub(name)
    return ModelSource(name=name, path=None, revision=None)


def _probe_hub(name: str) -> None:
    """Fail in a second, with the reason, when an uncached model cannot be downloaded.

    Without this, ``from_pretrained`` on a machine without network retries for minutes
    (measured: 2 min 27 s) before a generic error; one metadata request tells at once whether
    the hub is unreachable, the repository missing, or gated.
    """
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    not_cached = f"model {name!r} is not in the Hugging Face cache ({_hub_cache_dir()})"
    try:
        HfApi().model_info(name, timeout=_HUB_PROBE_TIMEOUT_S)
    except GatedRepoError:
        raise ModelNotFoundError(f"{not_cached} and is gated on the hub: accept its licence on "
                                 f"huggingface.co and log in (`huggingface-cli login`)") from None
    except RepositoryNotFoundError:
        raise ModelNotFoundError(f"{not_cached} and the hub has no model of that name "
                                 f"(check the spelling, or pass --model DIR)") from None
    except HfHubHTTPError as exc:
        raise ModelNotFoundError(f"{not_cached} and the hub refused: {str(exc).splitlines()[0]}") from None
    except Exception as exc:  # connection errors: the HTTP client's own exception types
        raise ModelNotFoundError(
            f"{not_cached} and the hub cannot be reached ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}). Download it on a connected "
            f"machine (`huggingface-cli download {name}`) and copy the cache, or pass --model DIR "
            f"with a saved checkpoint; set HF_HUB_OFFLINE=1 to never contact the hub.") from None


# Opt back in to bitsandbytes fetching its CPU 4-bit matmul from the Hugging Face hub.
HUB_KERNELS_ENV = "VIREID_BNB_HUB_KERNELS"


def hub_kernels_allowed() -> bool:
    return os.environ.get(HUB_KERNELS_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def import_bitsandbytes_without_hub_kernels() -> None:
    """Import bitsandbytes so that it never downloads or runs kernel code from the hub.

    bitsandbytes >= 0.50 resolves ``kernels-community/quantization-bitsandbytes`` through the
    ``kernels`` package at import time on CPUs with AVX512-BF16: with network that downloads
    and executes code from the hub on every first import. bitsandbytes has no setting for
    this (neither an environment variable nor an API); it guards the ``from kernels import
    get_kernel`` with a fallback to its built-in CPU kernels. Hiding ``kernels`` for the
    duration of that one import selects the fallback; ``VIREID_BNB_HUB_KERNELS=1`` keeps
    bitsandbytes' own behaviour. Too late once bitsandbytes is imported (nothing to undo).
    """
    import sys

    if hub_kernels_allowed() or "bitsandbytes" in sys.modules:
        return
    saved = sys.modules.get("kernels")
    sys.modules["kernels"] = None  # type: ignore[assignment]  # import of it raises ImportError
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        pass  # not installed: transformers says so when 4-bit loading is asked for
    finally:
        if saved is None:
            del sys.modules["kernels"]
        else:
            sys.modules["kernels"] = saved


def _quiet_bitsandbytes() -> None:
    # bitsandbytes logs a warning when its optional hub CPU kernel is unavailable (the
    # `kernels` package missing, or hidden above); its built-in CPU kernels work without it,
    # so the message is noise for users. Real bitsandbytes errors still surface.
    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=r"MatMul8bitLt: inputs will be cast")


def pick_device(device: str | None):
    """``device`` if given, else accelerate's device for this process (GPU i under launch)."""
    import torch

    if device:
        return torch.device(resolve_device(device))
    from accelerate import PartialState

    return PartialState().device


def _dtype(name: str, device) -> Any:
    import torch

    if name == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32  # CPU matmuls in half precision are slow or unsupported
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[name]


def quantization_config(quantization: str):
    """bitsandbytes settings; NF4 + bf16 compute + double quantisation for 4-bit."""
    import torch
    from transformers import BitsAndBytesConfig

    if quantization == "4bit":
        # bitsandbytes' defaults (fp4 weights, fp32 compute) are worse and slower.
        return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                  bnb_4bit_compute_dtype=torch.bfloat16,
                                  bnb_4bit_use_double_quant=True)
    if quantization == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return None


def load_captioner(source: ModelSource, quantization: str = "4bit", dtype: str = "auto",
                   device: str | None = None) -> LoadedModel:
    """Load model + processor from ``source`` the same way for a hub id or a local folder."""
    _quiet_bitsandbytes()  # before anything below imports bitsandbytes and it logs
    if quantization != "none":
        import_bitsandbytes_without_hub_kernels()
    from transformers import AutoProcessor, LlavaForConditionalGeneration

    quiet_library_bars()  # "Loading weights" is transformers' own bar

    dev = pick_device(device)
    local_only = source.path is not None or hub_offline()
    kwargs: dict[str, Any] = {"local_files_only": local_only}
    if quantization != "none":
        if dev.type == "cpu":
            warnings.warn(f"{quantization} quantisation on CPU works but is slow; use "
                          "--quantization none on CPU when memory allows", stacklevel=2)
        kwargs["quantization_config"] = quantization_config(quantization)
        kwargs["device_map"] = {"": str(dev) if dev.type != "cuda" else dev.index or 0}
    else:
        kwargs["dtype"] = _dtype(dtype, dev)
    try:
        processor = AutoProcessor.from_pretrained(source.load_from, local_files_only=local_only)
        model = LlavaForConditionalGeneration.from_pretrained(source.load_from, **kwargs)
    except (OSError, ValueError, KeyError) as exc:
        # transformers reports a broken or foreign checkpoint as any of these.
        where = source.path or f"the Hugging Face hub / cache ({_hub_cache_dir()})"
        raise ModelNotFoundError(f"model {source.name!r}: cannot load from {where}: "
                                 f"{str(exc).splitlines()[0]}") from None
    if quantization == "none":
        model = model.to(dev)
    model.eval()
    # Batched generation with a decoder-only model must pad on the left, so every prompt
    # ends right where generation starts.
    processor.tokenizer.padding_side = "left"
    if processor.tokenizer.pad_token_id is None:
        processor.tokenizer.pad_token = processor.tokenizer.eos_token
    return LoadedModel(model=model, processor=processor, source=source, device=dev,
                       quantization=quantization)
