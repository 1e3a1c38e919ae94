"""A tiny trained checkpoint on the shared synthetic SYSU benchmark, for the inference tests."""

import pytest

from tests.conftest import SMALL_PRIOR


@pytest.fixture(scope="session")
def tiny_checkpoint(synth_sysu_root, small_prior, tmp_path_factory):
    """``best.pt`` of tiny-baseline after one short epoch (2 batches) on the synthetic SYSU layout,
    started from the small synthetic-web prior as the tiny presets start from theirs."""
    from vireid.training.config import resolve_config
    from vireid.training.engine import train

    run = tmp_path_factory.mktemp("tiny_run")
    cfg = resolve_config("tiny-baseline", overrides=[
        f"data.root={str(synth_sysu_root)!r}", "optim.epochs=1", "sampler.max_batches=2",
        "run.progress=false", "run.validate_every=1", "data.workers=1",
        f"data.cache_dir={str(tmp_path_factory.mktemp('tiny_cache'))!r}", *SMALL_PRIOR])
    train(cfg, run)
    checkpoints = run / "checkpoints"
    return checkpoints / "best.pt" if (checkpoints / "best.pt").is_file() else checkpoints / "last.pt"
