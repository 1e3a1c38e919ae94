"""A seconds-long synthetic-web pretraining shared by the pretraining tests."""

import pytest

from vireid.pretraining.config import PretrainConfig

# 20 people x 2 photos, 3 steps of 8 pairs: the whole stage in seconds, every part exercised.
# The schedule is pinned in full, so a change of the defaults does not move the tests' numbers.
SMALL_PRETRAIN = dict(people=16, heldout_people=4, photos_per_person=2, web_cameras=5, batch_size=8,
                      steps=3, warmup_steps=1, lr=1e-3, weight_decay=0.1)


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
