"""The synthetic "web" corpus: photos of many people with web-style captions (docs/pretrain.md).

A disjoint world: people come from their own random stream (never the benchmark's), photos
from many camera styles, captions from the benchmark's caption model with web-style noise.
Mostly colour photos, some greyscale (captions written for the colour original); nothing
infrared. No identity labels reach the objective; ``person`` is kept only for the held-out
zero-shot retrieval check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from vireid.datasets.synth import SynthConfig
from vireid.datasets.synth.attributes import sample_identities
from vireid.datasets.synth.captions import observed_caption
from vireid.datasets.synth.render import camera_style, render_visible
from vireid.datasets.synth.views import VIEWS, Framing
from vireid.pretraining.config import PretrainConfig
from vireid.progress import progress

# Random-stream tags: the corpus's people and photos never share a stream with a benchmark
# (``vireid data synth`` seeds people with [seed, 1] and images with [seed, pid, ...]).
_PEOPLE_STREAM = 7707
_PHOTO_STREAM = 7708
# Web cameras are numbered far from any benchmark camera (1..9), so their styles differ.
_FIRST_WEB_CAMERA = 1000
# ITU-R BT.601 luma weights: how a colour photo becomes a greyscale one.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass
class WebCorpus:
    """``images`` uint8 [N, H, W, 3]; ``captions`` N strings; ``person`` [N]; ``heldout`` [N] bool;
    ``greyscale`` [N] bool."""

    images: np.ndarray
    captions: list[str]
    person: np.ndarray
    heldout: np.ndarray
    greyscale: np.ndarray

    def subset(self, mask: np.ndarray) -> WebCorpus:
        idx = np.flatnonzero(mask)
        return WebCorpus(self.images[idx], [self.captions[i] for i in idx], self.person[idx],
                         self.heldout[idx], self.greyscale[idx])


def caption_config(cfg: PretrainConfig) -> SynthConfig:
    """The benchmark's caption model with web-style rates (no camera view preference)."""
    return SynthConfig(seed=cfg.seed, view_bias=0.0, feet_crop_rate=cfg.feet_crop_rate,
                       caption_omit_rate=cfg.caption_omit_rate, caption_error_rate=cfg.caption_error_rate,
                       caption_filler_rate=cfg.caption_filler_rate, caption_view_rate=cfg.caption_view_rate)


def build_corpus(cfg: PretrainConfig, *, show_progress: bool = True) -> WebCorpus:
    """Render every photo and write its caption; the same config gives the same corpus."""
    synth = caption_config(cfg)
    total_people = cfg.people + cfg.heldout_people
    people = sample_identities(list(range(1, total_people + 1)),
                               np.random.default_rng([cfg.seed, _PEOPLE_STREAM]))
    height, width = cfg.image_size
    n = total_people * cfg.photos_per_person
    images = np.empty((n, height, width, 3), dtype=np.uint8)
    captions: list[str] = []
    person = np.empty(n, dtype=np.int64)
    greyscale = np.zeros(n, dtype=bool)
    styles: dict[int, object] = {}
    photos = ((p, k) for p in people for k in range(cfg.photos_per_person))
    for i, (who, k) in enumerate(progress(photos, total=n, desc="web corpus", unit="photo",
                                          enabled=show_progress)):
        rng = np.random.default_rng([cfg.seed, _PHOTO_STREAM, who.pid, k])
        camera = _FIRST_WEB_CAMERA + int(rng.integers(cfg.web_cameras))
        style = styles.get(camera)
        if style is None:
            style = styles[camera] = camera_style(camera, False, cfg.seed)
        frame = Framing(VIEWS[int(rng.integers(len(VIEWS)))], bool(rng.random() < cfg.feet_crop_rate))
        pixels = render_visible(who, style, 2 * height, 2 * width, rng, frame)
        img = Image.fromarray(pixels).resize((width, height), Image.Resampling.BICUBIC)
        images[i] = np.asarray(img)
        if rng.random() < cfg.greyscale_rate:
            luma = (images[i].astype(np.float32) @ _LUMA).round().clip(0, 255).astype(np.uint8)
            images[i] = luma[..., None]
            greyscale[i] = True
        captions.append(observed_caption(who, frame, False, synth, rng))
        person[i] = who.pid
    heldout = person > cfg.people
    return WebCorpus(images, captions, person, heldout, greyscale)
