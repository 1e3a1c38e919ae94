"""A tiny trained checkpoint on the shared synthetic SYSU benchmark, for the inference tests."""

import pytest


@pytest.fixture(scope="session")
def tiny_checkpoint(synth_sysu_root, tmp_path_factory):
    """``best.pt`` of tiny-baseline after one short epoch (2 batches) on the synthetic SYSU layout."""
    from vireid.training.config import resolve_config
    from vireid.training.engine import train

    run = tmp_path_factory.mktemp("tiny_run")
    cfg = resolve_config("tiny-baseline", overrides=[
        f"data.root={str(synth_sysu_root)!r}", "optim.epochs=1", "sampler.max_batches=2",
        "run.progress=false", "run.validate_every=1", "data.workers=1",
        f"data.cache_dir={str(tmp_path_factory.mktemp('tiny_cache'))!r}"])
    train(cfg, run)
    checkpoints = run / "checkpoints"
    return checkpoints / "best.pt" if (checkpoints / "best.pt").is_file() else checkpoints / "last.pt"
