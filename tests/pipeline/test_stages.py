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
