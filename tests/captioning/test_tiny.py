"""Random-weight LLaVA checkpoints: the registry's sizes and the files a real checkpoint has."""

import pytest
import torch

from vireid.captioning.tiny import RANDOM_LLAVA_SIZES, build_random_llava, random_llava_config


def test_the_7b_size_has_llava_1_5_7b_shapes():
    # built on the meta device: shapes and parameter count without allocating 28 GB
    from transformers import LlavaForConditionalGeneration

    config, _ = random_llava_config("llava-1.5-7b")
    with torch.device("meta"):
        model = LlavaForConditionalGeneration(config)
    params = sum(p.numel() for p in model.parameters())
    assert 7.05e9 < params < 7.08e9                    # llava-hf/llava-1.5-7b-hf: 7.06 B
    assert config.vision_config.image_size == 336 and config.vision_config.patch_size == 14
    assert config.text_config.num_hidden_layers == 32 and config.text_config.vocab_size == 32064


def test_tiny_checkpoint_has_the_real_checkpoint_files_and_is_reproducible(tmp_path):
    a = build_random_llava(tmp_path / "a", "tiny", seed=3)
    b = build_random_llava(tmp_path / "b", "tiny", seed=3)
    for name in ("config.json", "model.safetensors", "processor_config.json", "tokenizer.json", "chat_template.jinja"):
        assert (a / name).is_file()
    assert (a / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()


def test_unknown_size_lists_the_registered_ones():
    with pytest.raises(ValueError, match="tiny, llava-1.5-7b"):
        random_llava_config("13b")
    assert set(RANDOM_LLAVA_SIZES) == {"tiny", "llava-1.5-7b"}
