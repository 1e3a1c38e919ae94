"""What evaluation relies on in a trained network (the model <-> evaluation contract)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class ReIDNetwork(Protocol):
    """A network evaluation can extract test features from.

    ``encode_image(images, modality)`` takes normalised images [B, 3, H, W] of one modality
    (``"visible"`` | ``"infrared"``) and returns a dict with at least ``"pooled"``, ``"bn"``
    and ``"proj"`` [B, D_*] (``vireid.evaluation.features`` composes the test feature).
    ``num_classes`` and ``config`` (a ModelConfig) are stored with the weights.
    """

    num_classes: int

    @property
    def image_size(self) -> tuple[int, int]: ...

    @property
    def pixel_mean(self) -> tuple[float, float, float]: ...

    @property
    def pixel_std(self) -> tuple[float, float, float]: ...

    def encode_image(self, images: torch.Tensor, modality: str) -> dict[str, torch.Tensor]: ...

    def config_dict(self) -> dict: ...
