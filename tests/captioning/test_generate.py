"""Batched greedy generation gives exactly the captions of one-at-a-time generation."""

import numpy as np
import pytest
from PIL import Image

from vireid.captioning.data import CaptionImages, collate
from vireid.captioning.generate import clean_caption, generate_batch
from vireid.captioning.prompts import build_prompt
from vireid.captioning.tiny import tiny_vocabulary

GENERATION = {"max_new_tokens": 10, "do_sample": False, "num_beams": 1}


@pytest.fixture(scope="module")
def loaded(tiny_captioner):
    return tiny_captioner


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen-images")
    rng = np.random.default_rng(3)
    paths = []
    for i in range(6):
        path = root / f"{i}.png"
        Image.fromarray(rng.integers(0, 256, (40 + 4 * i, 20, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def _captions(loaded, paths, prompts):
    dataset = CaptionImages(paths, prompts, loaded.processor)
    batch = collate([dataset[i] for i in range(len(paths))], loaded.processor.tokenizer.pad_token_id)
    return generate_batch(loaded.model, loaded.processor, batch, GENERATION, loaded.device)


def test_batched_equals_one_at_a_time(loaded, images):
    prompt = build_prompt(loaded.processor, "Please describe the characteristics of the pedestrian image")
    batched = _captions(loaded, images, [prompt] * len(images))
    singles = [_captions(loaded, [p], [prompt])[0] for p in images]
    assert batched == singles
    assert len(set(batched)) > 1  # captions depend on the image


def test_left_padding_with_prompts_of_different_length(loaded, images):
    short = build_prompt(loaded.processor, "describe")
    long = build_prompt(loaded.processor, "please describe the pedestrian image and his bag")
    prompts = [short, long, short, long]
    batched = _captions(loaded, images[:4], prompts)
    singles = [_captions(loaded, [p], [q])[0] for p, q in zip(images[:4], prompts)]
    assert batched == singles


def test_only_new_tokens_are_decoded(loaded, images):
    caption = _captions(loaded, images[:1], [build_prompt(loaded.processor, "describe")])[0]
    words = caption.split()
    assert 0 < len(words) <= GENERATION["max_new_tokens"]
    assert "assistant" not in words[:1] and "<image>" not in caption
    # Every word is from the tiny English vocabulary (re-encoding yields no unknown token).
    ids = loaded.processor.tokenizer(caption, add_special_tokens=False)["input_ids"]
    assert loaded.processor.tokenizer.unk_token_id not in ids
    assert all(0 <= i < len(tiny_vocabulary()) for i in ids)


def test_clean_caption_makes_one_line():
    assert clean_caption("  A man\n wearing\ta coat ") == "A man wearing a coat"
