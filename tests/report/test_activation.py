"""Activation maps (torchreid's visactmap rule): where the last block fires, the map is hot."""

import numpy as np
import torch
from PIL import Image

from vireid.report.activation import activation_maps, has_feature_map


class _SpotModel:
    """A network whose last block fires only in the top-left quarter of visible images and
    the bottom-right quarter of infrared ones."""

    image_size = (32, 16)
    pixel_mean = (0.5, 0.5, 0.5)
    pixel_std = (0.5, 0.5, 0.5)

    def eval(self):
        return self

    def feature_map(self, images, modality):
        fmap = torch.zeros(images.shape[0], 4, 8, 4)
        if modality == "visible":
            fmap[:, :, :4, :2] = 1.0
        else:
            fmap[:, :, 4:, 2:] = 1.0
        return fmap


def test_the_map_is_hot_where_the_last_block_fires(tmp_path):
    for name in ("v.png", "i.png"):
        Image.new("RGB", (16, 32), (90, 120, 30)).save(tmp_path / name)
    (tmp_path / "unreadable.png").write_bytes(b"not a png")
    model = _SpotModel()
    assert has_feature_map(model) and not has_feature_map(object())
    images, maps = activation_maps(model, tmp_path, ["v.png", "i.png", "unreadable.png"],
                                   ["visible", "infrared", "visible"])
    assert [im.shape for im in images] == [(32, 16, 3)] * 3 and images[0].dtype == np.uint8
    assert (images[2] == 128).all()                       # an unreadable image is a grey tile
    visible, infrared = maps[0], maps[1]
    assert visible.min() == 0.0 and visible.max() == 1.0
    assert visible[:12, :6].mean() > 0.9 and visible[20:, 10:].mean() < 0.1
    assert infrared[20:, 10:].mean() > 0.9 and infrared[:12, :6].mean() < 0.1
