"""A seconds-long synthetic-web pretraining shared by the pretraining tests."""

import pytest

from vireid.pretraining.config import PretrainConfig

from tests.conftest import SMALL_PRETRAIN


@pytest.fixture(scope="session")
def small_pretrain_cfg():
    return PretrainConfig(**SMALL_PRETRAIN)


@pytest.fixture(scope="session")
def small_pretrain(small_pretrain_cfg, tmp_path_factory):
    """(config, cache root, summary) of one small pretraining run."""
    from vireid.pretraining.runner import run_pretrain

    root = tmp_path_factory.mktemp("pretrain_cache")
    summary = run_pretrain(small_pretrain_cfg, root=root, show_progress=False, echo=lambda s: None)
    return small_pretrain_cfg, root, summary
