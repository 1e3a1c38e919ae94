"""Robust image decoding shared by every stage.

Real dataset folders contain the odd CMYK JPEG, 16-bit grey PNG, palette or RGBA file, and now
and then a truncated or zero-byte file. Convertible images become 8-bit RGB; the rest raise
:class:`ImageReadError` naming the path, so callers can record the problem and go on.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from vireid.errors import VireidError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


class ImageReadError(VireidError):
    """An image file is missing, empty, truncated or not an image."""


def is_image_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit / 32-bit grey: rescale by the file's own range instead of clipping at 255.
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        grey = ((arr - lo) * scale).round().astype(np.uint8)
        return Image.fromarray(grey, mode="L").convert("RGB")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def _pixel_limit() -> int | None:
    # Pillow's own threshold (read at call time, so a caller may change it): above it Pillow
    # only warns, above twice it raises; either way decoding would need gigabytes.
    return Image.MAX_IMAGE_PIXELS


def _open_checked(path: Path) -> Image.Image:
    """Open ``path`` lazily, refusing decompression bombs before any pixel is decoded."""
    with warnings.catch_warnings():
        # Our own check below turns the warning range into an error; the warning itself
        # would only add a second, scarier line.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        img = Image.open(path)
    limit = _pixel_limit()
    if limit is not None and img.width * img.height > limit:
        img.close()
        raise ImageReadError(f"{path}: image too large ({img.width}x{img.height} pixels, more "
                             f"than {limit}); refusing to decode a possible decompression bomb")
    return img


def load_rgb(path: str | Path) -> Image.Image:
    """Decode ``path`` fully into an 8-bit RGB image (CMYK, grey, 16-bit, alpha converted).

    Every failure, an oversized image (decompression bomb) included, is an
    :class:`ImageReadError` naming the path, so each stage treats it as one unreadable image.
    """
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise ImageReadError(f"{path}: empty file (0 bytes)")
        with _open_checked(path) as img:
            img.load()  # forces a full decode, so truncated files fail here, not later
            return _to_rgb(img)
    except FileNotFoundError:
        raise ImageReadError(f"{path}: file not found") from None
    except UnidentifiedImageError:
        raise ImageReadError(f"{path}: not an image file (cannot identify format)") from None
    except Image.DecompressionBombError as exc:
        raise ImageReadError(f"{path}: image too large ({exc})") from None
    except MemoryError:
        raise ImageReadError(f"{path}: image too large to decode (out of memory)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"{path}: unreadable or truncated image ({exc})") from None
