"""Specification of the uint8 image cache."""

import os

import numpy as np
import pytest
from PIL import Image

from vireid.datasets.images import ImageReadError
from vireid.training.cache import build_cache, cache_key, decode_resized


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


def _bmp(path, value):
    Image.new("RGB", (20, 40), (value, value, value)).save(path, format="BMP")


def test_replacing_an_image_by_one_of_the_same_size_rebuilds_the_cache(tmp_path):
    # RegDB's BMPs all have one byte size: a key on file sizes alone reused stale pixels.
    paths = [tmp_path / f"{i}.bmp" for i in range(2)]
    for i, path in enumerate(paths):
        _bmp(path, 10 * i)
    first = build_cache(["a", "b"], paths, 16, 8, tmp_path / "c", progress=False)
    assert first.images[1].max() == 10

    replacement = tmp_path / "new.bmp"
    _bmp(replacement, 200)
    assert replacement.stat().st_size == paths[1].stat().st_size
    replacement.replace(paths[1])  # a new inode, same size
    second = build_cache(["a", "b"], paths, 16, 8, tmp_path / "c", progress=False)
    assert second.built and second.key != first.key and second.images[1].min() == 200

    stat = paths[0].stat()
    _bmp(paths[0], 99)  # rewritten in place: same inode and size, later mtime
    os.utime(paths[0], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    third = build_cache(["a", "b"], paths, 16, 8, tmp_path / "c", progress=False)
    assert third.built and third.images[0].min() == 99


def test_a_zeroed_cache_file_is_rebuilt_with_a_one_line_warning(images, tmp_path, capsys):
    ids, paths = images
    first = build_cache(ids, paths, 16, 8, tmp_path / "c", progress=False)
    expected = np.asarray(first.images).copy()
    size = first.path.stat().st_size
    del first
    with open(tmp_path / "c" / f"{cache_key(ids, paths, 16, 8)}.u8", "r+b") as fh:
        fh.write(bytes(size))
    capsys.readouterr()
    again = build_cache(ids, paths, 16, 8, tmp_path / "c", progress=False)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"warning: image cache {again.path} is damaged (row 0")
    assert err[0].endswith("rebuilding it")
    assert again.built and np.array_equal(np.asarray(again.images), expected)


def test_a_truncated_cache_file_is_rebuilt_with_a_warning(images, tmp_path, capsys):
    ids, paths = images
    first = build_cache(ids, paths, 16, 8, tmp_path / "c", progress=False)
    os.truncate(first.path, 100)
    again = build_cache(ids, paths, 16, 8, tmp_path / "c", progress=False)
    assert again.built and "data file has 100 bytes" in capsys.readouterr().err


def test_a_full_disk_is_a_storage_error_and_leaves_no_temp_file(images, tmp_path, monkeypatch):
    import errno

    from vireid.errors import StorageError

    ids, paths = images

    def no_space(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", no_space)
    with pytest.raises(StorageError) as info:
        build_cache(ids, paths, 16, 8, tmp_path / "c", progress=False)
    key = cache_key(ids, paths, 16, 8)
    assert str(info.value) == f"no space left on device writing {tmp_path / 'c' / key}.u8"
    assert list((tmp_path / "c").iterdir()) == []


def test_without_fallocate_support_the_blocks_are_written_and_enospc_still_reported(images, tmp_path,
                                                                                   monkeypatch):
    import errno

    from vireid.errors import StorageError

    ids, paths = images

    def unsupported(fd, offset, length):
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(os, "posix_fallocate", unsupported)
    assert build_cache(ids, paths, 16, 8, tmp_path / "ok", progress=False).built

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(StorageError, match="^no space left on device writing "):
        build_cache(ids, paths, 16, 8, tmp_path / "c", progress=False)
    assert list((tmp_path / "c").iterdir()) == []


def test_temp_files_of_a_killed_build_are_removed_on_the_next_build(images, tmp_path):
    import subprocess

    from vireid.atomic import _host

    ids, paths = images
    cache_dir = tmp_path / "c"
    cache_dir.mkdir()
    killed = subprocess.Popen(["true"])
    killed.wait()
    key = cache_key(ids, paths, 16, 8)
    stale = cache_dir / f".{key}.u8.{_host()}-{killed.pid}.k1ll3d.tmp"
    stale.write_bytes(bytes(1000))
    build_cache(ids, paths, 16, 8, cache_dir, progress=False)
    assert sorted(p.name for p in cache_dir.iterdir()) == [f"{key}.json", f"{key}.u8"]
