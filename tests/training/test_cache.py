"""Specification of the uint8 image cache."""

import numpy as np
import pytest
from PIL import Image

from vireid.datasets.images import ImageReadError
from vireid.training.cache import build_cache, decode_resized


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(6):
        arr = rng.integers(0, 255, size=(40 + i, 20 + i, 3), dtype=np.uint8)
        path = tmp_path / "img" / f"{i}.png"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(arr).save(path)
        paths.append(path)
    return [f"x:{i}" for i in range(6)], paths


def test_cache_holds_every_image_resized_in_row_order(images, tmp_path):
    ids, paths = images
    cache = build_cache(ids, paths, 16, 8, tmp_path / "cache", workers=2, progress=False)
    assert cache.built and len(cache) == 6 and cache.size == (16, 8)
    assert cache.images.dtype == np.uint8
    for i, path in enumerate(paths):
        assert np.array_equal(cache.images[i], decode_resized(path, 16, 8))


def test_second_build_reuses_the_cache_without_decoding(images, tmp_path, monkeypatch):
    ids, paths = images
    first = build_cache(ids, paths, 16, 8, tmp_path / "cache", progress=False)
    import vireid.training.cache as cache_mod

    monkeypatch.setattr(cache_mod, "decode_resized", lambda *a: pytest.fail("decoded again"))
    again = build_cache(ids, paths, 16, 8, tmp_path / "cache", progress=False)
    assert not again.built and again.path == first.path
    assert np.array_equal(np.asarray(again.images), np.asarray(first.images))


def test_other_size_or_rows_give_another_cache(images, tmp_path):
    ids, paths = images
    a = build_cache(ids, paths, 16, 8, tmp_path / "c", progress=False)
    b = build_cache(ids, paths, 24, 12, tmp_path / "c", progress=False)
    c = build_cache(ids[:3], paths[:3], 16, 8, tmp_path / "c", progress=False)
    assert len({a.key, b.key, c.key}) == 3 and b.built and c.built


def test_gather_returns_rows_in_the_requested_order(images, tmp_path):
    ids, paths = images
    cache = build_cache(ids, paths, 16, 8, tmp_path / "c", progress=False)
    rows = np.array([4, 1, 4, 0])
    assert np.array_equal(cache.gather(rows), np.asarray(cache.images)[rows])


def test_unreadable_image_names_the_file_and_leaves_no_cache(images, tmp_path):
    ids, paths = images
    paths[2].write_bytes(b"")
    with pytest.raises(ImageReadError, match="2.png"):
        build_cache(ids, paths, 16, 8, tmp_path / "c", progress=False)
    assert not list((tmp_path / "c").glob("*.json"))
