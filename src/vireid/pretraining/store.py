"""Pretrained weights in OpenAI's CLIP file format.

OpenAI's ``RN50.pt`` holds the CLIP state dict under the names open_clip's ``CLIP`` keeps,
with convolution, linear, attention and projection weights in float16 (the rest float32).
Writing the same structure means the file is read exactly as a local ``RN50.pt`` is:
``vireid.models.clip_backbone.create_clip`` -> ``open_clip.create_model(pretrained=file)``,
and ``open_clip.model.build_model_from_openai_state_dict`` can rebuild the model from it.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from open_clip.model import convert_weights_to_lp
from torch.nn.utils import parametrize

from vireid.atomic import write_atomic
from vireid.pretraining.model import PretrainCLIP


def openai_format_state(model: PretrainCLIP) -> dict[str, torch.Tensor]:
    """The state dict OpenAI's file would hold for ``model`` (float16 where OpenAI's is)."""
    clip = copy.deepcopy(model.clip).cpu()
    parametrize.remove_parametrizations(clip.visual.attnpool, "positional_embedding", leave_parametrized=False)
    convert_weights_to_lp(clip, torch.float16)
    # contiguous: the file holds plain tensors whatever memory format the model trained in
    return {k: v.detach().clone(memory_format=torch.contiguous_format) for k, v in clip.state_dict().items()}


def save_openai_format(model: PretrainCLIP, path: str | Path) -> Path:
    state = openai_format_state(model)
    return write_atomic(path, lambda tmp: torch.save(state, tmp))
