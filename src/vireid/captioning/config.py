"""Options of a captioning run, validated in one place."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from vireid.captioning.prompts import DEFAULT_INSTRUCTION
from vireid.errors import ConfigError
from vireid.manifests.names import MODALITIES, SPLITS

DEFAULT_MODEL = "llava-hf/llava-1.5-7b-hf"

# CLIP's text encoder reads 77 tokens including its start/end tokens. LLaVA's Llama tokens
# and CLIP's BPE tokens are roughly one-to-one on plain English descriptions, so 60 new
# tokens leaves room for CLIP's two special tokens and the odd word that CLIP splits into
# more pieces than Llama does; longer captions would mostly be cut by CLIP anyway.
DEFAULT_MAX_NEW_TOKENS = 60

Quantization = Literal["4bit", "8bit", "none"]
DType = Literal["auto", "bf16", "fp16", "fp32"]


@dataclass
class CaptionConfig:
    """Everything that decides what a captioning run computes and how."""

    model: str = DEFAULT_MODEL
    quantization: Quantization = "4bit"
    dtype: DType = "auto"  # weights dtype when quantization == "none"
    device: str | None = None  # None: accelerate's device for this process
    batch_size: int = 16
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    prompt_visible: str = DEFAULT_INSTRUCTION
    prompt_infrared: str = DEFAULT_INSTRUCTION
    workers: int = 2
    splits: tuple[str, ...] = ("train", "val")
    # Caption only these modalities (e.g. ("visible",) for methods that read visible captions
    # only, such as clip4vi-reid's captions variant); images of the others are skipped.
    modalities: tuple[str, ...] = MODALITIES
    limit: int | None = None
    num_shards: int | None = None  # None: from accelerate / RANK+WORLD_SIZE, else 1
    shard_index: int | None = None
    flush_every: int = 8  # batches per part file (what a crash can lose at most)
    force: bool = False
    extra_generation: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.splits = tuple(self.splits)
        self.modalities = tuple(self.modalities)
        self.validate()

    def validate(self) -> None:
        if self.quantization not in ("4bit", "8bit", "none"):
            raise ConfigError(f"quantization: must be 4bit, 8bit or none, got {self.quantization!r}")
        if self.dtype not in ("auto", "bf16", "fp16", "fp32"):
            raise ConfigError(f"dtype: must be auto, bf16, fp16 or fp32, got {self.dtype!r}")
        for key in ("batch_size", "max_new_tokens", "flush_every"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{key}: must be at least 1, got {getattr(self, key)}")
        if self.workers < 0:
            raise ConfigError(f"workers: must be 0 or more, got {self.workers}")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"limit: must be at least 1, got {self.limit}")
        bad = [s for s in self.splits if s not in SPLITS]
        if bad or not self.splits:
            raise ConfigError(f"splits: must be a non-empty subset of {', '.join(SPLITS)}, got "
                              f"{','.join(self.splits) or 'nothing'}")
        bad = [m for m in self.modalities if m not in MODALITIES]
        if bad or not self.modalities:
            raise ConfigError(f"modalities: must be a non-empty subset of {', '.join(MODALITIES)}, got "
                              f"{','.join(self.modalities) or 'nothing'}")
        if (self.num_shards is None) != (self.shard_index is None):
            raise ConfigError("num_shards and shard_index: give both or neither")
        if self.num_shards is not None:
            if self.num_shards < 1:
                raise ConfigError(f"num_shards: must be at least 1, got {self.num_shards}")
            if not 0 <= self.shard_index < self.num_shards:
                raise ConfigError(f"shard_index: must be in 0..{self.num_shards - 1}, "
                                  f"got {self.shard_index}")
        for key in ("prompt_visible", "prompt_infrared"):
            if not getattr(self, key).strip():
                raise ConfigError(f"{key}: the instruction must not be empty")

    def generation_params(self) -> dict[str, Any]:
        """Generation settings recorded in every row and in the cache fingerprint.

        Greedy decoding (no sampling, one beam) makes captions deterministic.
        """
        params: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "do_sample": False,
                                  "num_beams": 1}
        params.update(self.extra_generation)
        return params

    def prompt_for(self, modality: str) -> str:
        return self.prompt_infrared if modality == "infrared" else self.prompt_visible

    def replace(self, **changes: Any) -> CaptionConfig:
        return dataclasses.replace(self, **changes)
