"""Vectorised renderers: one person, one camera, one image, as a numpy array.

A person is a stack of boolean part masks computed on the pixel grid in *body units*
(1.0 = the person's full height), so every part is a handful of array comparisons. The
same masks are painted with colours by the visible renderer and with per-garment thermal
values by the infrared renderer: the silhouette, hair, bag and top pattern are shared
between modalities, colour is not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from vireid.datasets.synth.attributes import COLOURS, HAIR_COLOURS, SKIN_TONES, Identity
from vireid.datasets.synth.views import Framing

_BUILD_HALF_WIDTH = {"slim": 0.092, "average": 0.118, "broad": 0.148}
_HEIGHT_FRACTION = {"short": 0.78, "medium": 0.86, "tall": 0.94}

# Painting order: later parts cover earlier ones.
PART_ORDER = ("legs_skin", "bottom", "shoes", "arms_skin", "sleeves", "top", "neck", "head",
              "hair", "bag")


@dataclass(frozen=True)
class CameraStyle:
    """What one camera does to every image it takes."""

    camera: int
    infrared: bool
    gain: tuple[float, float, float]  # visible colour cast; infrared uses gain[0] as contrast
    offset: float
    background: tuple[float, float, float]  # base colour (visible) or ambient temperature
    floor: tuple[float, float, float]
    blur: float
    noise: float


def camera_style(camera: int, infrared: bool, seed: int) -> CameraStyle:
    rng = np.random.default_rng([seed, camera, 9001])
    if infrared:
        ambient = float(rng.uniform(0.18, 0.34))
        return CameraStyle(camera, True, (float(rng.uniform(0.85, 1.15)),) * 3,
                           float(rng.uniform(-0.05, 0.05)), (ambient,) * 3,
                           (ambient + float(rng.uniform(-0.08, 0.08)),) * 3,
                           blur=float(rng.uniform(0.7, 1.1)), noise=0.03)
    gain = tuple(float(g) for g in rng.uniform(0.75, 1.2, size=3))
    base = tuple(float(c) for c in rng.uniform(0.25, 0.75, size=3))
    floor = tuple(float(c) for c in rng.uniform(0.2, 0.6, size=3))
    return CameraStyle(camera, False, gain, float(rng.uniform(-0.06, 0.06)), base, floor,
                       blur=float(rng.uniform(0.3, 0.6)), noise=0.02)


# Feet-cropped framing: the person is drawn this much larger and placed so that the frame's
# bottom edge cuts the shins (at this fraction of the body height), above any shoe or boot.
_CROP_ZOOM = 1.25
_CROP_BOTTOM = 0.82


def person_masks(person: Identity, height: int, width: int, rng: np.random.Generator,
                 frame: Framing | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Boolean part masks and the top's pattern mask for one posed instance of ``person``.

    Pose jitter (scale, position, stride, mirroring) is drawn from ``rng``; the attributes
    fix the proportions. ``frame`` (benchmark version 2) turns the person to a view and may
    crop the feet; without it (version 1) the person faces the camera, drawn exactly as
    version 1 always has, random draws included.
    """
    frac = _HEIGHT_FRACTION[person.height] * rng.uniform(0.95, 1.03)
    unit = frac * height
    y0 = (height - unit) * rng.uniform(0.2, 0.8)
    if frame is not None and frame.feet_cropped:
        unit = frac * _CROP_ZOOM * height
        y0 = height - _CROP_BOTTOM * unit
    cx = width / 2 + rng.normal(0.0, 0.05 * width)
    side = person.bag_side * (1 if rng.random() < 0.5 else -1)
    stride = rng.uniform(-1.0, 1.0)

    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    u = (xx - cx) / unit
    v = (yy - y0) / unit
    au = np.abs(u)
    bw = _BUILD_HALF_WIDTH[person.build]
    scale = bw / 0.118

    m: dict[str, np.ndarray] = {}
    head = (u / 0.058) ** 2 + ((v - 0.075) / 0.07) ** 2 <= 1.0
    m["head"] = head
    m["neck"] = (au < 0.026) & (v >= 0.13) & (v < 0.17)
    torso_half = bw - 0.025 * np.clip((v - 0.15) / 0.37, 0, 1)
    m["top"] = (au < torso_half) & (v >= 0.155) & (v < 0.53)
    arm = (au >= bw + 0.004) & (au < bw + 0.046) & (v >= 0.165) & (v < 0.52)
    sleeve_end = 0.30 if person.sleeves == "short" else 0.49
    m["sleeves"] = arm & (v < sleeve_end)
    m["arms_skin"] = arm

    leg_gap = 0.048 * scale
    leg_half = 0.043 * scale
    shift = stride * 0.02 * np.clip((v - 0.52) / 0.42, 0, 1)
    legs = ((np.abs(u - leg_gap - shift) < leg_half) | (np.abs(u + leg_gap + shift) < leg_half))
    legs &= (v >= 0.52) & (v < 0.95)
    hips = (au < bw * 0.92) & (v >= 0.5) & (v < 0.58)
    m["legs_skin"] = legs
    if person.bottom == "trousers":
        m["bottom"] = hips | legs
    elif person.bottom == "shorts":
        m["bottom"] = hips | (legs & (v < 0.68))
    else:  # skirt: a flared trapezoid over the thighs
        m["bottom"] = (au < bw * 0.88 + (v - 0.5) * 0.42) & (v >= 0.5) & (v < 0.73)
    shoe_top = 0.83 if person.shoes == "boots" else 0.935
    feet = ((np.abs(u - leg_gap - stride * 0.02) < leg_half + 0.012)
            | (np.abs(u + leg_gap + stride * 0.02) < leg_half + 0.012))
    m["shoes"] = feet & (v >= shoe_top) & (v < 0.995)

    hair_cap = ((u / 0.066) ** 2 + ((v - 0.068) / 0.076) ** 2 <= 1.0)
    if person.hair == "short":
        m["hair"] = hair_cap & (v < 0.05)
    elif person.hair == "medium":
        m["hair"] = hair_cap & ((v < 0.055) | (au > 0.038)) & (v < 0.12)
    else:
        m["hair"] = (hair_cap & ((v < 0.055) | (au > 0.036))) | (
            (au >= 0.034) & (au < 0.082) & (v >= 0.06) & (v < 0.31))

    su = u * side  # bag geometry in the carrying side's coordinates
    if person.bag == "backpack":
        m["bag"] = (su >= bw - 0.03) & (su < bw + 0.075) & (v >= 0.17) & (v < 0.44)
    elif person.bag == "shoulder bag":
        # strap from the far shoulder to the near hip, then a box at the hip
        a = np.array([-bw * 0.6, 0.16])
        b = np.array([bw + 0.03, 0.47])
        d = b - a
        t = np.clip(((su - a[0]) * d[0] + (v - a[1]) * d[1]) / float(d @ d), 0, 1)
        dist = np.hypot(su - (a[0] + t * d[0]), v - (a[1] + t * d[1]))
        box = (su >= bw - 0.01) & (su < bw + 0.085) & (v >= 0.45) & (v < 0.57)
        m["bag"] = (dist < 0.012) | box
    elif person.bag == "handbag":
        box = (su >= bw + 0.01) & (su < bw + 0.09) & (v >= 0.52) & (v < 0.61)
        handle = (np.abs(su - (bw + 0.05)) < 0.03) & (np.abs(su - (bw + 0.05)) > 0.015) \
            & (v >= 0.48) & (v < 0.52)
        m["bag"] = box | handle
    else:
        m["bag"] = np.zeros_like(head)

    period = person.pattern_period
    phase = person.pattern_phase
    if person.pattern == "horizontal stripes":
        pattern = ((v - 0.155) / period + phase) % 1.0 < 0.5
    elif person.pattern == "vertical stripes":
        pattern = (u / period + phase) % 1.0 < 0.5
    elif person.pattern == "checked":
        pattern = (((v - 0.155) / (period * 1.4) + phase) % 1.0 < 0.5) ^ (
            (u / (period * 1.4) + phase) % 1.0 < 0.5)
    elif person.pattern == "chest logo":
        pattern = (au < 0.05) & (v >= 0.22) & (v < 0.33)
    else:
        pattern = np.zeros_like(head)
    if frame is not None and frame.view == "front":
        _turn_front(m, person, au, v, bw)
    elif frame is not None and frame.view == "back":
        pattern = _turn_back(m, person, au, v, bw, pattern)
    elif frame is not None and frame.view == "side":
        pattern = _turn_side(m, person, u, v, bw, side, stride, pattern)
    return m, pattern & m["top"]


def _turn_front(m: dict[str, np.ndarray], person: Identity, au: np.ndarray, v: np.ndarray,
                bw: float) -> None:
    """Facing the camera: a backpack shows only as two shoulder straps."""
    if person.bag == "backpack":
        m["bag"] = (np.abs(au - bw * 0.55) < 0.012) & (v >= 0.16) & (v < 0.40)


def _turn_back(m: dict[str, np.ndarray], person: Identity, au: np.ndarray, v: np.ndarray,
               bw: float, pattern: np.ndarray) -> np.ndarray:
    """Seen from behind: hair covers the head, a backpack covers the upper back, the chest
    logo and a shoulder bag (carried in front) are hidden. Returns the top's pattern."""
    head = m["head"]
    if person.hair == "short":
        m["hair"] = head & (v < 0.12)
    elif person.hair == "medium":
        m["hair"] = head | ((au < 0.06) & (v >= 0.06) & (v < 0.16))
    else:
        m["hair"] = head | ((au < 0.08) & (v >= 0.06) & (v < 0.31))
    if person.bag == "backpack":
        m["bag"] = (au < bw * 0.85) & (v >= 0.18) & (v < 0.45)
    elif person.bag == "shoulder bag":
        m["bag"] = np.zeros_like(head)
    if person.pattern == "chest logo":
        return np.zeros_like(head)
    return pattern


def _segment(x: np.ndarray, y: np.ndarray, a: tuple[float, float], b: tuple[float, float]) -> np.ndarray:
    """Distance of every pixel (x, y) from the segment a-b (a bag strap)."""
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    t = np.clip(((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy), 0, 1)
    return np.hypot(x - (ax + t * dx), y - (ay + t * dy))


def _turn_side(m: dict[str, np.ndarray], person: Identity, u: np.ndarray, v: np.ndarray,
               bw: float, facing: int, stride: float, pattern: np.ndarray) -> np.ndarray:
    """In profile: a narrower body (depth, not build width), legs in step, one arm in
    front, hair on the back of the head, a backpack behind the back. The chest logo faces
    away from the camera. Returns the top's pattern."""
    fu = u * facing            # > 0 in front of the person
    au = np.abs(u)
    depth = bw * 0.7 + 0.02    # body depth varies less with build than width does
    scale = bw / 0.118
    torso_half = depth - 0.02 * np.clip((v - 0.15) / 0.37, 0, 1)
    m["top"] = (au < torso_half) & (v >= 0.155) & (v < 0.53)
    arm = (fu >= depth - 0.03) & (fu < depth + 0.02) & (v >= 0.165) & (v < 0.52)
    m["arms_skin"] = arm
    m["sleeves"] = arm & (v < (0.30 if person.sleeves == "short" else 0.49))

    leg_half = 0.043 * scale
    step = stride * 0.06 * np.clip((v - 0.52) / 0.42, 0, 1)
    legs = ((np.abs(u - step) < leg_half) | (np.abs(u + step) < leg_half)) & (v >= 0.52) & (v < 0.95)
    hips = (au < depth * 0.95) & (v >= 0.5) & (v < 0.58)
    m["legs_skin"] = legs
    if person.bottom == "trousers":
        m["bottom"] = hips | legs
    elif person.bottom == "shorts":
        m["bottom"] = hips | (legs & (v < 0.68))
    else:
        m["bottom"] = (au < depth * 0.9 + (v - 0.5) * 0.42) & (v >= 0.5) & (v < 0.73)
    shoe_top = 0.83 if person.shoes == "boots" else 0.935
    toe = 0.015 * facing
    feet = ((np.abs(u - stride * 0.06 - toe) < leg_half + 0.015)
            | (np.abs(u + stride * 0.06 - toe) < leg_half + 0.015))
    m["shoes"] = feet & (v >= shoe_top) & (v < 0.995)

    cap = (u / 0.066) ** 2 + ((v - 0.068) / 0.076) ** 2 <= 1.0
    hair = cap & ((v < 0.05) | (fu < 0.0))
    if person.hair == "short":
        hair &= v < 0.1
    elif person.hair == "long":
        hair |= (fu > -0.07) & (fu < -0.01) & (v >= 0.06) & (v < 0.31)
    m["hair"] = hair

    if person.bag == "backpack":
        m["bag"] = (fu < -depth + 0.02) & (fu >= -depth - 0.07) & (v >= 0.17) & (v < 0.44)
    elif person.bag == "shoulder bag":
        strap = _segment(fu, v, (-depth * 0.5, 0.16), (0.02, 0.46)) < 0.012
        box = (fu >= -0.02) & (fu < 0.07) & (v >= 0.45) & (v < 0.57)
        m["bag"] = strap | box
    elif person.bag == "handbag":
        box = (fu >= depth - 0.02) & (fu < depth + 0.06) & (v >= 0.52) & (v < 0.61)
        handle = (np.abs(fu - depth - 0.02) < 0.03) & (np.abs(fu - depth - 0.02) > 0.015) \
            & (v >= 0.48) & (v < 0.52)
        m["bag"] = box | handle
    if person.pattern == "chest logo":
        return np.zeros_like(cap)
    return pattern


def _clutter(canvas: np.ndarray, rng: np.random.Generator, values: np.ndarray) -> None:
    """Paint a few random rectangles (furniture, doors, walls) into the background."""
    h, w = canvas.shape[:2]
    for value in values:
        y1, y2 = np.sort(rng.integers(0, h, size=2))
        x1, x2 = np.sort(rng.integers(0, w, size=2))
        canvas[y1:y2 + 1, x1:x2 + 1] = value


def _background(style: CameraStyle, height: int, width: int,
                rng: np.random.Generator) -> np.ndarray:
    canvas = np.empty((height, width, 3), np.float32)
    horizon = int(height * rng.uniform(0.6, 0.8))
    canvas[:horizon] = style.background
    canvas[horizon:] = style.floor
    if style.infrared:
        values = np.repeat(rng.uniform(0.1, 0.6, size=(int(rng.integers(2, 6)), 1)), 3, axis=1)
    else:
        values = rng.uniform(0.1, 0.9, size=(int(rng.integers(2, 6)), 3))
    _clutter(canvas, rng, values)
    ramp = np.linspace(-0.06, 0.06, height, dtype=np.float32)[:, None, None]
    return canvas + ramp


def _paint(canvas: np.ndarray, masks: dict[str, np.ndarray], pattern: np.ndarray,
           values: dict[str, np.ndarray], pattern_value: np.ndarray) -> None:
    for part in PART_ORDER:
        canvas[masks[part]] = values[part]
        if part == "top":
            canvas[pattern] = pattern_value


def _rgb(name: str, rng: np.random.Generator, table=COLOURS) -> np.ndarray:
    base = np.asarray(table[name], np.float32) / 255.0
    return np.clip(base + rng.normal(0.0, 0.03, size=3), 0, 1).astype(np.float32)


def _finish(img: np.ndarray, style: CameraStyle, rng: np.random.Generator) -> np.ndarray:
    img = img + rng.normal(0.0, style.noise, size=img.shape).astype(np.float32)
    out = Image.fromarray((np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8))
    return np.asarray(out.filter(ImageFilter.GaussianBlur(style.blur)))


def render_visible(person: Identity, style: CameraStyle, height: int, width: int,
                   rng: np.random.Generator, frame: Framing | None = None) -> np.ndarray:
    """An RGB uint8 image [H, W, 3]: attribute colours under the camera's illumination."""
    masks, pattern = person_masks(person, height, width, rng, frame)
    canvas = _background(style, height, width, rng)
    skin = np.asarray(SKIN_TONES[person.skin_tone], np.float32) / 255.0
    top = _rgb(person.top_colour, rng)
    values = {
        "legs_skin": skin, "arms_skin": skin, "neck": skin, "head": skin,
        "bottom": _rgb(person.bottom_colour, rng), "shoes": _rgb(person.shoe_colour, rng),
        "sleeves": top, "top": top, "hair": _rgb(person.hair_colour, rng, HAIR_COLOURS),
        "bag": _rgb(person.bag_colour, rng),
    }
    _paint(canvas, masks, pattern, values, _rgb(person.pattern_colour, rng))
    light = np.asarray(style.gain, np.float32) * rng.uniform(0.85, 1.15)
    canvas = canvas * light + style.offset
    return _finish(canvas, style, rng)


def render_infrared(person: Identity, style: CameraStyle, height: int, width: int,
                    rng: np.random.Generator, frame: Framing | None = None) -> np.ndarray:
    """A grey uint8 image [H, W, 3] (three equal channels, as SYSU-MM01 stores infrared).

    Brightness comes from the per-garment thermal values, never from colour.
    """
    masks, pattern = person_masks(person, height, width, rng, frame)
    canvas = _background(style, height, width, rng)[..., :1].copy()

    def level(x: float) -> np.ndarray:
        return np.float32([x + rng.normal(0.0, 0.02)])

    skin = level(person.thermal_skin)
    top = level(person.thermal_top)
    values = {
        "legs_skin": skin, "arms_skin": skin, "neck": skin, "head": skin,
        "bottom": level(person.thermal_bottom), "shoes": level(0.22), "sleeves": top,
        "top": top, "hair": level(person.thermal_hair), "bag": level(person.thermal_bag),
    }
    _paint(canvas, masks, pattern, values, level(person.thermal_pattern))
    canvas = (canvas - 0.5) * style.gain[0] * rng.uniform(0.9, 1.1) + 0.5 + style.offset
    grey = _finish(np.repeat(canvas, 3, axis=2), style, rng)
    return np.repeat(grey[..., :1], 3, axis=2)
