"""CLIP token counts recorded in caption manifests."""

from vireid.manifests.schema import CLIP_CONTEXT_LENGTH
from vireid.tokenizer import token_count, token_counts, is_truncated


def test_counts_include_start_and_end_tokens():
    assert token_count("") == 2
    assert token_count("a person") == 4


def test_counts_grow_with_text_and_keep_missing_captions_missing():
    short, long_, missing = token_counts(["a red top", "a red top " * 30, None])
    assert short < long_ and missing is None


def test_truncation_flag_is_about_clips_77_token_context():
    assert CLIP_CONTEXT_LENGTH == 77
    assert is_truncated(77) is False and is_truncated(78) is True and is_truncated(None) is None
    assert is_truncated(token_count("word " * 80)) is True
