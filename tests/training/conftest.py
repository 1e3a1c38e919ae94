"""Fixtures of the trainer tests: tiny-preset configs on the shared synthetic SYSU layout."""

import pytest

from vireid.training.config import resolve_config


@pytest.fixture(scope="session")
def train_cache_dir(tmp_path_factory):
    """One decoded-image cache for every training test (reused across runs, as in real use)."""
    return tmp_path_factory.mktemp("train_cache")


@pytest.fixture
def tiny_config(synth_sysu_root, train_cache_dir):
    """``tiny_config(preset, *overrides)``: a short CPU run of a tiny preset on synthetic data."""

    def make(preset="tiny-eees", *overrides, epochs=1, batches=2):
        base = [f"data.root={str(synth_sysu_root)!r}", "data.captions=['reference']",
                f"data.cache_dir={str(train_cache_dir)!r}", f"optim.epochs={epochs}",
                f"sampler.max_batches={batches}", "run.progress=false", "run.validate_every=1",
                "data.workers=1", "model.pretrained=none"]
        return resolve_config(preset, overrides=base + list(overrides))

    return make
