"""Suite-wide settings: offline hubs, small thread counts, deterministic seeds."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

# Small synthetic benchmarks shared by every stage's tests: 24 identities, 3 images per
# camera, 64x32 pixels. Session-scoped and read-only: copy before modifying.
SMALL_SYNTH = dict(ids=24, images_per_camera=3, height=64, width=32, seed=0, test_fraction=0.33)


@pytest.fixture(scope="session", autouse=True)
def _private_vireid_cache(tmp_path_factory):
    """Point VIREID_CACHE (decoded images, pretrained weights) at a session folder: tests never
    read or fill the user's cache, and a test that trains a tiny preset without pinning
    ``model.pretrained=none`` (or pretraining a small config first) fails at once with the
    "run `vireid pretrain`" error instead of pretraining for minutes."""
    old = os.environ.get("VIREID_CACHE")
    os.environ["VIREID_CACHE"] = str(tmp_path_factory.mktemp("vireid_cache"))
    yield
    if old is None:
        os.environ.pop("VIREID_CACHE", None)
    else:
        os.environ["VIREID_CACHE"] = old


# A seconds-long synthetic-web pretraining (20 people x 2 photos, 3 steps of 8 pairs): the
# prior the tiny presets start from, at test scale. Its schedule is pinned in full, so a change
# of the defaults does not move the tests' numbers. SMALL_PRIOR selects it in a training config.
SMALL_PRETRAIN = dict(people=16, heldout_people=4, photos_per_person=2, web_cameras=5, batch_size=8,
                      steps=3, warmup_steps=1, lr=1e-3, weight_decay=0.1)
SMALL_PRIOR = tuple(f"pretrain.{key}={value}" for key, value in SMALL_PRETRAIN.items())


@pytest.fixture(scope="session")
def small_prior(_private_vireid_cache):
    """Pretrain SMALL_PRETRAIN into the session's VIREID_CACHE, where a training config with
    SMALL_PRIOR finds it; returns the pretraining summary (``weights``: the OpenAI-format file)."""
    from vireid.pretraining.config import PretrainConfig
    from vireid.pretraining.runner import run_pretrain

    return run_pretrain(PretrainConfig(**SMALL_PRETRAIN), show_progress=False, echo=lambda s: None)


@pytest.fixture(scope="session")
def synth_sysu_root(tmp_path_factory):
    """A SYSU-MM01-layout synthetic dataset (cam1..cam6, exp/*_id.txt, reference captions)."""
    from vireid.datasets.synth import SynthConfig, generate

    return generate(tmp_path_factory.mktemp("synth_sysu"), "sysu", SynthConfig(**SMALL_SYNTH),
                    force=True)


@pytest.fixture(scope="session")
def synth_regdb_root(tmp_path_factory):
    """A RegDB-layout synthetic dataset (Visible/, Thermal/, idx/ with trials 1..10)."""
    from vireid.datasets.synth import SynthConfig, generate

    return generate(tmp_path_factory.mktemp("synth_regdb"), "regdb", SynthConfig(**SMALL_SYNTH),
                    force=True)


@pytest.fixture(scope="session")
def synth_llcm_root(tmp_path_factory):
    """An LLCM-layout synthetic dataset ({train,test}_{vis,nir}/camN/, idx/ lists)."""
    from vireid.datasets.synth import SynthConfig, generate

    return generate(tmp_path_factory.mktemp("synth_llcm"), "llcm", SynthConfig(**SMALL_SYNTH),
                    force=True)
