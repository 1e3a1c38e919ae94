"""A small trained and evaluated run folder shared by the report tests (read-only: copy
before changing it): tiny EEES on the shared synthetic SYSU layout, 2 epochs of 1 batch,
gradient norms every step, the SYSU protocol with 2 gallery trials (no flip), saved features."""

import shutil

import pytest

from tests.conftest import SMALL_PRIOR


@pytest.fixture(scope="session")
def tiny_run(synth_sysu_root, small_prior, tmp_path_factory):
    from vireid.evaluation.checkpoint import checkpoint_features
    from vireid.evaluation.features import FeatureOptions
    from vireid.evaluation.outputs import evaluate_table
    from vireid.evaluation.store import save_features
    from vireid.training.config import resolve_config
    from vireid.training.engine import train

    run = tmp_path_factory.mktemp("report") / "tiny-eees-seed0"
    cfg = resolve_config("tiny-eees", overrides=[
        f"data.root={str(synth_sysu_root)!r}", "data.captions=['reference']", "optim.epochs=2",
        "sampler.max_batches=1", "run.progress=false", "run.validate_every=0", "run.grad_norm_every=1",
        "run.tensorboard=false", "run.selection=last", "data.workers=1", *SMALL_PRIOR])
    train(cfg, run)
    table = checkpoint_features(run / "checkpoints" / "last.pt", "sysu", synth_sysu_root, trials=2,
                                options=FeatureOptions(flip="none"))
    features = save_features(run / "results" / "features.npz", table)
    evaluate_table(table, "sysu", synth_sysu_root, run / "results", trials=2, features_file=features,
                   options=FeatureOptions(flip="none"))
    return run


@pytest.fixture
def run_copy(tiny_run, tmp_path):
    """``run_copy(name)``: a writable copy of the tiny run under ``tmp_path/name``."""

    def make(name="copy"):
        return shutil.copytree(tiny_run, tmp_path / name)

    return make
