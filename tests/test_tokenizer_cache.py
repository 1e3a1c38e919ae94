"""Caption tokenisation: CLIP BPE offline, tokenised once, cached by a caption fingerprint."""

from __future__ import annotations

import pytest
import torch

from vireid.errors import VireidError
from vireid.models import TINY_MODEL_NAME
from vireid.tokenizer import CaptionTokenCache, caption_fingerprint, tokenize

CAPTIONS = ["A short-haired man wearing black clothes.", "A woman in a red coat carrying a bag."]


def test_tokenize_gives_clip_ids_with_start_and_end():
    tokens = tokenize(CAPTIONS)
    assert tokens.shape == (2, 77) and tokens.dtype == torch.long
    assert (tokens[:, 0] == 49406).all()  # start of text
    ends = tokens.argmax(dim=1)
    assert (tokens[torch.arange(2), ends] == 49407).all()  # end of text is the largest id
    import open_clip

    assert torch.equal(open_clip.get_tokenizer("RN50")(CAPTIONS).long(), tokens)  # what RN50 ships with


def test_overlong_caption_is_cut_but_keeps_end_token():
    tokens = tokenize(["person " * 200])
    assert tokens.shape == (1, 77) and tokens[0, -1] == 49407


def test_non_string_caption_is_a_user_error():
    with pytest.raises(VireidError, match="caption 1"):
        tokenize(["fine", None])


def test_cache_rows_follow_caption_order_and_round_trip(tmp_path):
    cache = CaptionTokenCache.build(CAPTIONS)
    torch.testing.assert_close(cache[torch.tensor([1, 0])], tokenize(CAPTIONS[::-1]))
    path = cache.save(tmp_path / "tokens.pt")
    loaded = CaptionTokenCache.load(path)
    assert loaded.fingerprint == cache.fingerprint and torch.equal(loaded.tokens, cache.tokens)


def test_load_or_build_reuses_matching_cache_and_rebuilds_stale(tmp_path, monkeypatch):
    path = tmp_path / "tokens.pt"
    first = CaptionTokenCache.load_or_build(CAPTIONS, path)
    assert path.is_file()

    import vireid.tokenizer as text_module

    calls = []
    real = text_module.tokenize
    monkeypatch.setattr(text_module, "tokenize", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = CaptionTokenCache.load_or_build(CAPTIONS, path)
    assert calls == [] and torch.equal(again.tokens, first.tokens)
    edited = [CAPTIONS[0], "A child in a yellow shirt."]
    rebuilt = CaptionTokenCache.load_or_build(edited, path)
    assert calls == [1] and torch.equal(rebuilt.tokens, real(edited))
    assert CaptionTokenCache.load(path).fingerprint == caption_fingerprint(edited)


def test_fingerprint_depends_on_order_and_text():
    assert caption_fingerprint(CAPTIONS) != caption_fingerprint(CAPTIONS[::-1])
    assert caption_fingerprint(CAPTIONS) != caption_fingerprint([CAPTIONS[0], CAPTIONS[1] + " "])


def test_bad_cache_files_are_clear_errors(tmp_path):
    with pytest.raises(VireidError, match="not found"):
        CaptionTokenCache.load(tmp_path / "missing.pt")
    other = tmp_path / "other.pt"
    torch.save({"tokens": torch.zeros(1, 77)}, other)
    with pytest.raises(VireidError, match="not a vireid caption token cache"):
        CaptionTokenCache.load(other)
    junk = tmp_path / "junk.pt"
    junk.write_text("x")
    with pytest.raises(VireidError, match="unreadable"):
        CaptionTokenCache.load(junk)
    # load_or_build never trusts a broken file: it rebuilds it
    assert len(CaptionTokenCache.load_or_build(CAPTIONS, junk)) == 2
