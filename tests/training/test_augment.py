"""Specification of the batched tensor augmentation."""

import pytest
import torch

from vireid.config import from_dict
from vireid.errors import ConfigError
from vireid.training.augment import (
    CAJ_ERASING_VALUE,
    GREY_WEIGHTS,
    SECOND_VIEW_STREAM,
    AugmentConfig,
    adaptive_grey,
    augment_batch,
    channel_exchange,
    eval_batch,
    hflip,
    make_generator,
    pad_crop,
    random_erasing,
    step_seed,
    to_float,
    visible_views,
)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

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


# With every CAJ option at its default, augment_batch is the pipeline it was before those
# options existed (commit 3dae240): pad-crop, flip, channel exchange (visible only), normalise,
# erasing with the mean fill; no infrared grey step. Same draws from the same generator, so
# the outputs are equal in one process, whatever torch's RNG or kernels produce.
def _pre_caj_pipeline(x, cfg, mean, std, gen, visible):
    from vireid.training.augment import normalize

    x = hflip(pad_crop(to_float(x), cfg.pad, gen), cfg.flip, gen)
    if visible:
        x = channel_exchange(x, cfg.channel, gen)
    return random_erasing(normalize(x, mean, std), cfg.erasing, gen, cfg.erasing_area, cfg.erasing_ratio)


@pytest.mark.parametrize("pad, visible", [(10, True), (10, False), (4, True), (4, False)])
def test_defaults_are_the_pipeline_before_the_caj_options(pad, visible):
    x = _batch(8, 32, 16)
    clip_mean, clip_std = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
    cfg = AugmentConfig(pad=pad, channel=0.5, erasing=0.5)
    seed = step_seed(7, 2, 3, 0 if visible else 1)
    out = augment_batch(x, cfg, clip_mean, clip_std, make_generator("cpu", seed), visible=visible)
    assert torch.equal(out, _pre_caj_pipeline(x, cfg, clip_mean, clip_std, make_generator("cpu", seed), visible))
    again = augment_batch(x, cfg, clip_mean, clip_std, make_generator("cpu", seed), visible=visible)
    assert torch.equal(out, again)  # a seed fixes the draws within a process
    other = augment_batch(x, cfg, clip_mean, clip_std, make_generator("cpu", seed + 1), visible=visible)
    assert not torch.equal(out, other)


# -- CAJ options ---------------------------------------------------------------------------------

def _images(n=4000, h=8, w=4, seed=0, device="cpu"):
    """Float images whose R, G, B and grey planes all differ (so the source of a copy is known)."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, h, w, generator=g).to(device)


def _grey(x):
    r, g, b = GREY_WEIGHTS
    return r * x[:, 0] + g * x[:, 1] + b * x[:, 2]


def _sources(x, out):
    """Per image: 0/1/2 = that channel copied to all three, 3 = grey, -1 = unchanged."""
    src = torch.full((x.shape[0],), -2)
    src[(out == x).flatten(1).all(1)] = -1
    equal = (out[:, 0] == out[:, 1]).flatten(1).all(1) & (out[:, 1] == out[:, 2]).flatten(1).all(1)
    for k, plane in enumerate([x[:, 0], x[:, 1], x[:, 2], _grey(x)]):
        src[equal & torch.isclose(out[:, 0], plane, atol=1e-6).flatten(1).all(1)] = k
    assert (src != -2).all(), "every image is either unchanged or a single-plane copy"
    return src


def _frequencies(src, values):
    return [float((src == v).float().mean()) for v in values]


def test_config_reads_the_caj_options_from_toml_data():
    cfg = from_dict(AugmentConfig, {"erasing": 0.5, "erasing_area": [0.1, 0.2], "erasing_fill": "random",
                                    "ir_adaptive_grey": "caj", "second_visible_view": True})
    assert cfg.erasing_area == (0.1, 0.2) and cfg.ir_adaptive_grey == "caj" and cfg.second_visible_view
    default = AugmentConfig()
    assert (default.erasing, default.ir_adaptive_grey, default.second_visible_view) \
        == (0.0, "off", False)


@pytest.mark.parametrize("field, value", [
    ("erasing", 1.5), ("channel_exchange", -0.1), ("ir_adaptive_grey_p", 2.0),
    ("erasing_area", (0.5, 0.2)), ("erasing_area", (0.0, 0.4)), ("erasing_area", (0.1, 1.2)),
    ("erasing_area", (0.1,)), ("erasing_ratio", (0.0, 3.0)), ("erasing_ratio", (3.0, 0.3)),
    ("erasing_fill", "noise"), ("erasing_value", (0.1, 0.2)), ("ir_adaptive_grey", "always"),
])
def test_config_rejects_bad_values_naming_the_key(field, value):
    with pytest.raises(ConfigError, match=f"augment.{field}:"):
        AugmentConfig(**{field: value}).validate()


def test_erasing_hits_about_p_of_the_images_with_caj_rectangles_and_mean_fill():
    n, h, w = 3000, 48, 24
    x = torch.full((n, 3, h, w), 7.0)
    out = random_erasing(x, 0.5, make_generator("cpu", 11))
    erased = out[:, 0] != 7.0
    hit = erased.flatten(1).any(1)
    assert abs(hit.float().mean() - 0.5) < 0.03
    fractions, aspects = [], []
    for img, mask in zip(out[hit][:400], erased[hit][:400]):
        ys, xs = mask.nonzero(as_tuple=True)
        eh, ew = int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)
        assert mask.sum() == eh * ew and eh < h and ew < w         # one full rectangle that fits
        for c in range(3):                                          # CAJ's per-channel constants
            assert torch.all(img[c][mask] == torch.tensor(CAJ_ERASING_VALUE[c]))
        fractions.append(eh * ew / (h * w))
        aspects.append(eh / ew)
    # rounding of h and w moves the area a little outside (0.02, 0.4)
    assert 0.01 <= min(fractions) and max(fractions) <= 0.45
    assert min(aspects) < 0.5 and max(aspects) > 2.5


def test_erasing_fills_zero_or_standard_normal_noise():
    x = torch.full((200, 3, 32, 16), 7.0)
    zero = random_erasing(x, 1.0, make_generator("cpu", 1), fill="zero")
    assert set(zero.unique().tolist()) == {0.0, 7.0}
    noisy = random_erasing(x, 1.0, make_generator("cpu", 1), fill="random")
    values = noisy[noisy != 7.0]
    assert values.numel() > 10_000 and abs(values.mean()) < 0.05 and abs(values.std() - 1) < 0.05
    # the same rectangles: the fill draws come after the geometry draws
    assert torch.equal(zero == 0.0, noisy != 7.0)


def test_erasing_skips_an_image_when_no_attempt_fits():
    x = torch.ones(50, 3, 16, 8)
    # the whole area with height < H and width < W cannot be; CAJ then leaves the image as it is
    assert torch.equal(random_erasing(x, 1.0, make_generator("cpu", 0), area=(1.0, 1.0)), x)


def test_erasing_keeps_uint8_images_uint8():
    x = torch.full((20, 3, 16, 8), 200, dtype=torch.uint8)
    out = random_erasing(x, 1.0, make_generator("cpu", 0), fill="mean", value=(10, 20, 30))
    assert out.dtype == torch.uint8 and set(out[:, 2].unique().tolist()) == {30, 200}


def test_channel_exchange_caj_copies_r_g_or_b_uniformly_and_never_grey():
    x = _images()
    src = _sources(x, channel_exchange(x, 1.0, make_generator("cpu", 2), grey=False))
    freq = _frequencies(src, [0, 1, 2, 3, -1])
    assert all(abs(f - 1 / 3) < 0.03 for f in freq[:3]) and freq[3] == 0 and freq[4] == 0


def test_channel_exchange_with_grey_and_a_probability():
    x = _images()
    src = _sources(x, channel_exchange(x, 0.6, make_generator("cpu", 3), grey=True))
    freq = _frequencies(src, [0, 1, 2, 3, -1])
    assert all(abs(f - 0.15) < 0.03 for f in freq[:4]) and abs(freq[4] - 0.4) < 0.03


def test_adaptive_grey_caj_gates_only_the_grey_branch():
    x = _images()
    src = _sources(x, adaptive_grey(x, "caj", 0.5, make_generator("cpu", 4)))
    freq = _frequencies(src, [0, 1, 2, 3, -1])
    # CAJ ChannelAdapGray(0.5): R, G, B 1/4 each; grey 1/8; unchanged 1/8
    assert all(abs(f - 0.25) < 0.03 for f in freq[:3])
    assert abs(freq[3] - 0.125) < 0.03 and abs(freq[4] - 0.125) < 0.03
    equal_channels = (freq[0] + freq[1] + freq[2] + freq[3])
    assert abs(equal_channels - 0.875) < 0.03


def test_adaptive_grey_coin_changes_about_p_of_the_images_and_off_none():
    x = _images()
    src = _sources(x, adaptive_grey(x, "coin", 0.5, make_generator("cpu", 5)))
    freq = _frequencies(src, [0, 1, 2, 3, -1])
    assert all(abs(f - 0.125) < 0.03 for f in freq[:4]) and abs(freq[4] - 0.5) < 0.03
    gen = make_generator("cpu", 5)
    state = gen.get_state()
    assert adaptive_grey(x, "off", 0.5, gen) is x and torch.equal(gen.get_state(), state)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.uint8])
def test_channel_ops_keep_dtype_shape_and_device_and_are_seeded(device, dtype):
    x = (_images(64, 16, 8, device=device) * 255).to(dtype)
    ops = {
        "exchange": lambda x, gen: channel_exchange(x, 1.0, gen, grey=True),
        "adaptive": lambda x, gen: adaptive_grey(x, "caj", 0.5, gen),
        "erasing": lambda x, gen: random_erasing(x, 1.0, gen, fill="random"),
    }
    for name, op in ops.items():
        a = op(x, make_generator(device, 1))
        assert a.dtype == dtype and a.shape == x.shape and a.device.type == device, name
        assert torch.equal(a, op(x, make_generator(device, 1))), name
        assert not torch.equal(a, op(x, make_generator(device, 2))), name


def test_infrared_adaptive_grey_runs_after_erasing_and_leaves_visible_alone():
    x = _batch(64, 16, 8)
    cfg = AugmentConfig(pad=2, erasing=1.0, ir_adaptive_grey="caj", ir_adaptive_grey_p=1.0)
    ir = augment_batch(x, cfg, MEAN, STD, make_generator("cpu", 0), visible=False)
    # p = 1: every infrared image is a single channel or grey copy, the erased box included
    assert torch.equal(ir[:, 0], ir[:, 1]) and torch.equal(ir[:, 1], ir[:, 2])
    vis = augment_batch(x, cfg, MEAN, STD, make_generator("cpu", 0), visible=True)
    plain = augment_batch(x, AugmentConfig(pad=2, erasing=1.0), MEAN, STD, make_generator("cpu", 0),
                          visible=True)
    assert torch.equal(vis, plain)


def test_visible_views_are_view_one_and_an_exchanged_second_draw():
    x = _batch(32, 16, 8)
    cfg = AugmentConfig(pad=2, erasing=0.5, second_visible_view=True)
    seeds = step_seed(0, 1, 2, 0), step_seed(0, 1, 2, SECOND_VIEW_STREAM)
    one, two = visible_views(x, cfg, MEAN, STD, *(make_generator("cpu", s) for s in seeds))
    assert torch.equal(one, augment_batch(x, cfg, MEAN, STD, make_generator("cpu", seeds[0]), visible=True))
    assert torch.equal(two[:, 0], two[:, 1]) and torch.equal(two[:, 1], two[:, 2])
    # view 2 draws its own crop/flip/erasing: not a channel copy of view 1
    single = [one[:, k:k + 1].expand_as(one) for k in range(3)]
    assert not any(torch.equal(two, s) for s in single)
    again = visible_views(x, cfg, MEAN, STD, *(make_generator("cpu", s) for s in seeds))
    assert torch.equal(one, again[0]) and torch.equal(two, again[1])
    other = visible_views(x, cfg, MEAN, STD, make_generator("cpu", seeds[0]), make_generator("cpu", 99))
    assert torch.equal(one, other[0]) and not torch.equal(two, other[1])
