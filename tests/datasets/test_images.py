"""load_rgb, the one decoding function of every stage: each failure is an ImageReadError."""

import struct
import zlib

import pytest
from PIL import Image

from vireid.datasets.images import ImageReadError, load_rgb


def png_header_only(path, width, height):
    """A PNG that declares ``width x height`` pixels (decoding it would need gigabytes)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    return path


def test_a_20000x20000_png_is_an_unreadable_image_not_a_crash(tmp_path):
    path = png_header_only(tmp_path / "bomb.png", 20000, 20000)
    with pytest.raises(ImageReadError, match=r"bomb\.png: image too large \(.*400000000 pixels"):
        load_rgb(path)


def test_an_image_in_pillows_warning_range_is_refused_without_a_warning(tmp_path, monkeypatch,
                                                                        recwarn):
    # Between MAX_IMAGE_PIXELS and twice that Pillow only warns, then decodes gigabytes.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    path = tmp_path / "big.png"
    Image.new("RGB", (40, 30)).save(path)  # 1200 pixels: above the limit, below twice
    with pytest.raises(ImageReadError, match="big.png: image too large"):
        load_rgb(path)
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


def test_a_normal_image_still_decodes_to_rgb(tmp_path):
    path = tmp_path / "ok.png"
    Image.new("L", (16, 32), 128).save(path)
    img = load_rgb(path)
    assert img.mode == "RGB" and img.size == (16, 32)
