"""Image loading for captioning: decode, pad to a square, preprocess, batch by modality.

All of it runs in DataLoader worker processes, so decoding and preprocessing the next batch
overlap with the model generating captions for the current one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from vireid.datasets.images import ImageReadError, load_rgb


def mean_colour(image_processor: Any) -> tuple[int, int, int]:
    """The processor's normalisation mean as an 8-bit RGB colour (normalises to zero)."""
    mean = getattr(image_processor, "image_mean", None) or (0.5, 0.5, 0.5)
    if len(mean) == 1:
        mean = tuple(mean) * 3
    return tuple(int(round(float(m) * 255)) for m in mean[:3])  # type: ignore[return-value]


def pad_to_square(img: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    """Centre ``img`` on a square canvas of ``colour``.

    Pedestrian crops are about twice as tall as wide; the CLIP processor would resize the
    short side and centre-crop, cutting off head and feet. LLaVA-1.5 itself pads instead.
    """
    width, height = img.size
    if width == height:
        return img
    side = max(width, height)
    canvas = Image.new("RGB", (side, side), colour)
    canvas.paste(img, ((side - width) // 2, (side - height) // 2))
    return canvas


def plan_batches(modalities: Sequence[str], batch_size: int) -> list[list[int]]:
    """Index batches, each of one modality (one prompt -> equal lengths, no padding waste).

    Order within a modality is kept, so the plan is deterministic.
    """
    batches: list[list[int]] = []
    for modality in sorted(set(modalities)):
        indices = [i for i, m in enumerate(modalities) if m == modality]
        batches.extend(indices[s:s + batch_size] for s in range(0, len(indices), batch_size))
    return batches


@dataclass
class Item:
    index: int
    error: str | None = None
    input_ids: torch.Tensor | None = None
    attention_mask: torch.Tensor | None = None
    pixel_values: torch.Tensor | None = None


class CaptionImages(torch.utils.data.Dataset):
    """``paths[i]`` decoded, squared and preprocessed together with ``prompts[i]``."""

    def __init__(self, paths: Sequence[str | Path], prompts: Sequence[str], processor: Any):
        if len(paths) != len(prompts):
            raise ValueError("paths and prompts differ in length")
        self.paths = list(paths)
        self.prompts = list(prompts)
        self.processor = processor
        self.colour = mean_colour(processor.image_processor)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> Item:
        try:
            image = pad_to_square(load_rgb(self.paths[index]), self.colour)
            encoded = self.processor(text=self.prompts[index], images=image, return_tensors="pt")
        except ImageReadError as exc:
            return Item(index=index, error=str(exc))
        except (ValueError, OSError) as exc:  # e.g. an image too small for the processor
            return Item(index=index, error=f"{self.paths[index]}: preprocessing failed ({exc})")
        return Item(index=index, input_ids=encoded["input_ids"][0],
                    attention_mask=encoded["attention_mask"][0],
                    pixel_values=encoded["pixel_values"][0])


@dataclass
class Batch:
    indices: list[int]  # images with model inputs, in row order of the tensors
    errors: list[tuple[int, str]]  # images that could not be read
    input_ids: torch.Tensor | None = None
    attention_mask: torch.Tensor | None = None
    pixel_values: torch.Tensor | None = None

    def model_inputs(self, device: Any, dtype: Any = None) -> dict[str, torch.Tensor]:
        assert self.input_ids is not None
        pixels = self.pixel_values.to(device)
        if dtype is not None:
            pixels = pixels.to(dtype)
        return {"input_ids": self.input_ids.to(device),
                "attention_mask": self.attention_mask.to(device), "pixel_values": pixels}


def collate(items: Sequence[Item], pad_token_id: int) -> Batch:
    """Stack good items, LEFT-padding token ids so every prompt ends at the same column."""
    good = [it for it in items if it.error is None]
    errors = [(it.index, it.error) for it in items if it.error is not None]
    batch = Batch(indices=[it.index for it in good], errors=errors)  # type: ignore[misc]
    if not good:
        return batch
    length = max(int(it.input_ids.shape[0]) for it in good)
    ids = torch.full((len(good), length), pad_token_id, dtype=good[0].input_ids.dtype)
    mask = torch.zeros((len(good), length), dtype=good[0].attention_mask.dtype)
    for row, it in enumerate(good):
        n = int(it.input_ids.shape[0])
        ids[row, length - n:] = it.input_ids
        mask[row, length - n:] = it.attention_mask
    batch.input_ids, batch.attention_mask = ids, mask
    batch.pixel_values = torch.stack([it.pixel_values for it in good])
    return batch


class _Collate:
    # A class, not a lambda, so worker processes can receive it under any start method.
    def __init__(self, pad_token_id: int):
        self.pad_token_id = pad_token_id

    def __call__(self, items: Sequence[Item]) -> Batch:
        return collate(items, self.pad_token_id)


def make_loader(dataset: CaptionImages, batches: list[list[int]], workers: int,
                pad_token_id: int) -> torch.utils.data.DataLoader:
    return torch.utils.data.DataLoader(
        dataset, batch_sampler=batches, num_workers=workers, collate_fn=_Collate(pad_token_id),
        prefetch_factor=4 if workers > 0 else None, persistent_workers=False,
    )
