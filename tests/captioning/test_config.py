"""Captioning options are validated with messages naming the option."""

import json

import pytest

from vireid.captioning.config import DEFAULT_MAX_NEW_TOKENS, CaptionConfig
from vireid.errors import ConfigError
from vireid.manifests.schema import CLIP_CONTEXT_LENGTH


def test_defaults_follow_the_paper_setup():
    config = CaptionConfig()
    assert config.model == "llava-hf/llava-1.5-7b-hf"
    assert config.quantization == "4bit"
    assert config.splits == ("train", "val")
    assert DEFAULT_MAX_NEW_TOKENS < CLIP_CONTEXT_LENGTH - 2  # room for CLIP's SOT/EOT


def test_generation_is_greedy_and_json_serialisable():
    params = CaptionConfig(max_new_tokens=12).generation_params()
    assert params == {"max_new_tokens": 12, "do_sample": False, "num_beams": 1}
    json.dumps(params)


@pytest.mark.parametrize("changes, key", [
    ({"quantization": "3bit"}, "quantization"),
    ({"dtype": "int8"}, "dtype"),
    ({"batch_size": 0}, "batch_size"),
    ({"splits": ("train", "holdout")}, "splits"),
    ({"num_shards": 2}, "num_shards"),
    ({"num_shards": 2, "shard_index": 2}, "shard_index"),
    ({"prompt_infrared": "  "}, "prompt_infrared"),
])
def test_bad_options_name_the_option(changes, key):
    with pytest.raises(ConfigError, match=key):
        CaptionConfig(**changes)


def test_prompt_per_modality():
    config = CaptionConfig(prompt_visible="colours?", prompt_infrared="shapes?")
    assert config.prompt_for("visible") == "colours?"
    assert config.prompt_for("infrared") == "shapes?"
