"""Decoding, square padding with the processor's mean colour, modality batches, left padding."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vireid.captioning.data import (
    CaptionImages,
    Item,
    collate,
    make_loader,
    mean_colour,
    pad_to_square,
    plan_batches,
)


@pytest.fixture(scope="module")
def processor(tiny_model):
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(tiny_model, local_files_only=True)


def test_padding_colour_is_the_processor_mean(processor):
    mean = processor.image_processor.image_mean
    colour = mean_colour(processor.image_processor)
    assert colour == tuple(round(m * 255) for m in mean)
    tall = Image.new("RGB", (20, 40), (255, 0, 0))
    square = pad_to_square(tall, colour)
    assert square.size == (40, 40)
    pixels = np.asarray(square)
    assert tuple(pixels[20, 0]) == colour and tuple(pixels[20, 39]) == colour  # side bands
    assert tuple(pixels[0, 20]) == (255, 0, 0) and tuple(pixels[39, 20]) == (255, 0, 0)  # head, feet kept


def test_padding_normalises_to_zero(processor):
    # The pad colour is what the processor maps to ~0: it carries no signal to the model.
    square = pad_to_square(Image.new("RGB", (10, 30), (0, 0, 0)), mean_colour(processor.image_processor))
    pixels = processor.image_processor(square, return_tensors="pt")["pixel_values"][0]
    assert pixels[:, :, 0].abs().max() < 0.02


def test_wide_images_are_padded_top_and_bottom():
    square = pad_to_square(Image.new("RGB", (30, 10), (9, 9, 9)), (1, 2, 3))
    assert square.size == (30, 30)
    assert tuple(np.asarray(square)[0, 15]) == (1, 2, 3)


def test_batches_hold_one_modality_and_keep_order():
    modalities = ["visible", "infrared", "visible", "visible", "infrared"]
    batches = plan_batches(modalities, 2)
    assert sorted(i for b in batches for i in b) == list(range(5))
    for batch in batches:
        assert len({modalities[i] for i in batch}) == 1
        assert batch == sorted(batch)
    assert max(len(b) for b in batches) == 2


def test_collate_pads_on_the_left_and_separates_errors():
    items = [Item(index=0, input_ids=torch.tensor([5, 6, 7]), attention_mask=torch.ones(3, dtype=torch.long),
                  pixel_values=torch.zeros(3, 4, 4)),
             Item(index=1, error="bad.jpg: empty file"),
             Item(index=2, input_ids=torch.tensor([8]), attention_mask=torch.ones(1, dtype=torch.long),
                  pixel_values=torch.ones(3, 4, 4))]
    batch = collate(items, pad_token_id=0)
    assert batch.indices == [0, 2]
    assert batch.errors == [(1, "bad.jpg: empty file")]
    assert batch.input_ids.tolist() == [[5, 6, 7], [0, 0, 8]]
    assert batch.attention_mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    assert batch.pixel_values.shape == (2, 3, 4, 4)


def _odd_images(root: Path) -> dict[str, Path]:
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (40, 20, 3), dtype=np.uint8)
    files = {name: root / name for name in
             ("ok.jpg", "zero.jpg", "truncated.jpg", "cmyk.jpg", "grey16.png", "rgba.png", "text.jpg")}
    Image.fromarray(rgb).save(files["ok.jpg"])
    files["zero.jpg"].write_bytes(b"")
    files["truncated.jpg"].write_bytes(files["ok.jpg"].read_bytes()[:200])
    Image.fromarray(rgb).convert("CMYK").save(files["cmyk.jpg"])
    Image.fromarray(rng.integers(0, 65535, (40, 20), dtype=np.uint16)).save(files["grey16.png"])
    Image.fromarray(rng.integers(0, 256, (40, 20, 4), dtype=np.uint8), mode="RGBA").save(files["rgba.png"])
    files["text.jpg"].write_text("not an image")
    return files


def test_unreadable_images_become_error_items_and_odd_modes_are_converted(processor, tmp_path):
    files = _odd_images(tmp_path)
    names = list(files)
    dataset = CaptionImages([files[n] for n in names], ["USER: <image>\nhi ASSISTANT:"] * len(names), processor)
    assert Image.open(files["grey16.png"]).mode.startswith("I")
    assert Image.open(files["cmyk.jpg"]).mode == "CMYK"
    results = {name: dataset[i] for i, name in enumerate(names)}
    for good in ("ok.jpg", "cmyk.jpg", "grey16.png", "rgba.png"):
        assert results[good].error is None, results[good].error
        assert results[good].pixel_values.shape == (3, 56, 56)
    for bad in ("zero.jpg", "truncated.jpg", "text.jpg"):
        assert results[bad].error is not None and bad in results[bad].error


def test_loader_with_workers_yields_every_image_once(processor, tmp_path):
    files = _odd_images(tmp_path)
    paths = list(files.values())
    dataset = CaptionImages(paths, ["USER: <image>\nhi ASSISTANT:"] * len(paths), processor)
    loader = make_loader(dataset, plan_batches(["visible"] * len(paths), 3), workers=2,
                         pad_token_id=processor.tokenizer.pad_token_id)
    seen = []
    for batch in loader:
        seen += batch.indices + [i for i, _ in batch.errors]
    assert sorted(seen) == list(range(len(paths)))
