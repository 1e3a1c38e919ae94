"""Pipeline stages: the captions stage captions exactly the modalities asked for and keys its
cache on them."""

from __future__ import annotations

from vireid.pipeline.layout import RunLayout
from vireid.pipeline.stages import captions_stage, index_stage


def test_captions_stage_captions_the_asked_modalities_and_reruns_when_they_change(
        synth_sysu_root, tmp_path, monkeypatch):
    import vireid.captioning.runner as runner

    asked = []

    def fake_captioning(index, root, out, config, log=None, **_):
        asked.append(config.modalities)
        run.captions.parent.mkdir(parents=True, exist_ok=True)
        run.captions.write_text("captions of " + ",".join(config.modalities))
        return {}

    monkeypatch.setattr(runner, "run_captioning", fake_captioning)
    run = RunLayout(tmp_path / "run")
    index_stage(run, "sysu", synth_sysu_root, echo=lambda s: None)
    quiet = dict(model="some/llava", echo=lambda s: None)
    captions_stage(run, synth_sysu_root, "llava", modalities=("visible",), **quiet)
    captions_stage(run, synth_sysu_root, "llava", modalities=("visible",), **quiet)  # cached
    assert asked == [("visible",)]
    captions_stage(run, synth_sysu_root, "llava", **quiet)  # every modality: other inputs, re-runs
    assert asked == [("visible",), ("visible", "infrared")]
    assert run.captions.read_text() == "captions of visible,infrared"


def test_a_training_from_the_prior_retrains_when_the_prior_changes(synth_sysu_root, small_prior, tmp_path,
                                                                   monkeypatch):
    """The weights a run starts from are an input of its stage, although no setting of the
    training config names them: new pretraining code (another PRETRAIN_FORMAT) retrains."""
    import json

    import vireid.pretraining.cache as pretrain_cache
    import vireid.training.engine as engine
    from vireid.pipeline.stages import prior_fingerprint, train_config, train_stage
    from tests.conftest import SMALL_PRIOR

    trained = []

    def fake_train(cfg, out, resume=None):
        trained.append(prior_fingerprint(cfg))
        (out / "checkpoints").mkdir(parents=True, exist_ok=True)
        (out / "checkpoints" / "last.pt").write_bytes(b"weights")

    monkeypatch.setattr(engine, "train", fake_train)
    run = RunLayout(tmp_path / "run")
    index_stage(run, "sysu", synth_sysu_root, val_ids=0, echo=lambda s: None)
    cfg = train_config(run, "tiny-baseline", "sysu", synth_sysu_root, overrides=[*SMALL_PRIOR, "run.selection=last"])
    assert prior_fingerprint(cfg) == small_prior["fingerprint"]
    train_stage(run, cfg, name="baseline", echo=lambda s: None)
    train_stage(run, cfg, name="baseline", echo=lambda s: None)  # cached
    assert trained == [small_prior["fingerprint"]]
    assert json.loads((run.stamps / "train-baseline.json").read_text())["inputs"]["prior"] == trained[0]

    monkeypatch.setattr(pretrain_cache, "PRETRAIN_FORMAT", pretrain_cache.PRETRAIN_FORMAT + 1)
    train_stage(run, cfg, name="baseline", echo=lambda s: None)  # the same settings, a new prior
    assert len(trained) == 2 and trained[1] != trained[0]

    random_init = train_config(run, "tiny-baseline", "sysu", synth_sysu_root, overrides=["model.pretrained=none"])
    assert prior_fingerprint(random_init) is None
