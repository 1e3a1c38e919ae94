"""Batched caption generation: one ``generate`` call per batch, decode only the new tokens."""

from __future__ import annotations

import re
from typing import Any

import torch

from vireid.captioning.data import Batch


def pixel_dtype(model: Any) -> torch.dtype:
    """The dtype the vision tower expects (its patch embedding's; quantised models vary)."""
    for name, param in model.named_parameters():
        if "patch_embedding" in name and param.is_floating_point():
            return param.dtype
    return model.dtype


def clean_caption(text: str) -> str:
    """One line, single spaces: captions go into Parquet cells and CLIP's tokenizer."""
    return re.sub(r"\s+", " ", text).strip()


@torch.inference_mode()
def generate_batch(model: Any, processor: Any, batch: Batch, generation: dict[str, Any],
                   device: Any) -> list[str]:
    """Captions for the good images of ``batch``, in the order of ``batch.indices``.

    The prompt tokens are left-padded (see data.collate), so the generated tokens of every
    row start at the same column: everything after the prompt width is the caption.
    """
    if not batch.indices:
        return []
    inputs = batch.model_inputs(device, pixel_dtype(model))
    tokenizer = processor.tokenizer
    output = model.generate(**inputs, **generation, pad_token_id=tokenizer.pad_token_id)
    new_tokens = output[:, inputs["input_ids"].shape[1]:]
    return [clean_caption(t) for t in tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]
