"""Specification of the batched tensor augmentation."""

import torch

from vireid.training.augment import (
    AugmentConfig,
    augment_batch,
    channel_exchange,
    eval_batch,
    hflip,
    make_generator,
    pad_crop,
    random_erasing,
    step_seed,
    to_float,
)

MEAN, STD = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)


def _batch(b=8, h=16, w=8):
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (b, h, w, 3), dtype=torch.uint8, generator=g)


def test_augmented_batch_is_float_nchw():
    cfg = AugmentConfig(pad=2, flip=0.5, channel=0.5, erasing=0.5)
    out = augment_batch(_batch(), cfg, MEAN, STD, make_generator("cpu", 1), visible=True)
    assert out.shape == (8, 3, 16, 8) and out.dtype == torch.float32


def test_same_seed_same_batch_other_seed_other_batch():
    cfg = AugmentConfig(pad=2, flip=0.5, channel=0.5, erasing=0.5)
    x = _batch()
    a = augment_batch(x, cfg, MEAN, STD, make_generator("cpu", step_seed(0, 1, 2)), visible=True)
    b = augment_batch(x, cfg, MEAN, STD, make_generator("cpu", step_seed(0, 1, 2)), visible=True)
    c = augment_batch(x, cfg, MEAN, STD, make_generator("cpu", step_seed(0, 1, 3)), visible=True)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_step_seeds_differ_across_epoch_step_and_stream():
    seeds = {step_seed(0, e, s, m) for e in range(3) for s in range(3) for m in range(2)}
    assert len(seeds) == 18


def test_pad_crop_is_a_shifted_window_of_the_zero_padded_image():
    x = to_float(_batch(4))
    out = pad_crop(x, 3, make_generator("cpu", 5))
    padded = torch.nn.functional.pad(x, (3, 3, 3, 3))
    for i in range(4):
        assert any(torch.equal(out[i], padded[i, :, y:y + 16, xo:xo + 8])
                   for y in range(7) for xo in range(7))


def test_flip_probability_extremes():
    x = to_float(_batch())
    assert torch.equal(hflip(x, 1.0, make_generator("cpu", 0)), x.flip(-1))
    assert torch.equal(hflip(x, 0.0, make_generator("cpu", 0)), x)


def test_channel_exchange_gives_grey_three_channel_images():
    out = channel_exchange(to_float(_batch()), 1.0, make_generator("cpu", 0))
    assert torch.equal(out[:, 0], out[:, 1]) and torch.equal(out[:, 1], out[:, 2])


def test_random_erasing_zeroes_one_rectangle_per_image():
    x = torch.ones(6, 3, 32, 16)
    out = random_erasing(x, 1.0, make_generator("cpu", 3), fill="zero")
    for img in out:
        zero = (img[0] == 0)
        assert zero.any()
        ys, xs = zero.nonzero(as_tuple=True)
        box = zero[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        assert box.all()  # a full rectangle
        assert 0.01 <= zero.float().mean() <= 0.5


def test_eval_batch_only_normalises():
    x = _batch(2)
    out = eval_batch(x, MEAN, STD)
    expected = (x.permute(0, 3, 1, 2).float() / 255 - torch.tensor(MEAN).view(1, 3, 1, 1)) \
        / torch.tensor(STD).view(1, 3, 1, 1)
    assert torch.allclose(out, expected)


# sha256 of augment_batch's float32 output bytes, recorded before the CAJ augmentations were
# added (commit 3dae240): with every new option at its default the output is bit-identical.
_RECORDED = {
    (10, True): "1b0cc95ed7eb908578dcf4a991cc3a3be3469a7156b7705e3844d1deacd3b3aa",
    (10, False): "c9d4c02e545a36a1befaa3f063596c43b4e02248b308b5cb0a48bb18e41697a7",
    (4, True): "b02b7b05435b8648b1d01bb739207fed201f1d9c843a39480e5b5b60142bd4c4",
    (4, False): "d6b2dafa4ef4f54f9a020ff661b76dc58cd75c2290fb77afe4309678605700d2",
}


def test_defaults_reproduce_the_output_recorded_before_the_caj_options():
    import hashlib

    x = _batch(8, 32, 16)
    clip_mean, clip_std = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
    for (pad, visible), digest in _RECORDED.items():
        gen = make_generator("cpu", step_seed(7, 2, 3, 0 if visible else 1))
        out = augment_batch(x, AugmentConfig(pad=pad), clip_mean, clip_std, gen, visible=visible)
        assert hashlib.sha256(out.numpy().tobytes()).hexdigest() == digest, (pad, visible)
