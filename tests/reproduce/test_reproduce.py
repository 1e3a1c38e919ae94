"""`vireid reproduce`: table specs, published numbers, seed statistics, outputs, refit."""

import json
import math

import pytest

from vireid.errors import ConfigError
from vireid.reproduce import ReproduceConfig, Reproducer, published, table_spec
from vireid.reproduce.runner import summarise


def test_table_specs_name_the_paper_rows():
    t3 = table_spec("3")
    assert [r.name for r in t3.rows] == ["baseline", "ise", "ese", "ese-cvsc", "ese-cmsp", "eees"]
    assert [r.preset("tiny") for r in t3.rows][0] == "tiny-baseline" and t3.rows[-1].preset("full") == "eees"
    t4 = table_spec("4")
    assert [r.overrides for r in t4.rows] == [("eees.m=0",), ("eees.m=1",), ("eees.m=2",), ("eees.m=3",)]
    methods = table_spec("methods")
    assert "eees" in [r.name for r in methods.rows]  # every registered method joins
    assert published("sysu", t3.rows[-1])["all_single"] == {"R1": 78.2, "mAP": 75.7}
    eees = next(r for r in methods.rows if r.name == "eees")
    assert published("regdb", eees)["vis2ir"]["R1"] == 93.8
    assert published("regdb", t3.rows[0]) == {}
    with pytest.raises(ConfigError):
        table_spec("5")


def test_summary_is_mean_and_sample_std_over_seeds_of_trial_means():
    spec = table_spec("3")
    units = [{"row": "eees", "seed": s, "values": {"vis2ir": {"R1": v}}} for s, v in
             ((0, 0.5), (0, 0.7), (1, 0.8))]  # seed 0 has two trials -> 60; seed 1 -> 80
    row = [r for r in summarise(spec, "regdb", units) if r["row"] == "eees"][0]
    stat = row["stats"]["vis2ir"]["R1"]
    assert stat["per_seed"] == pytest.approx([60.0, 80.0])
    assert stat["mean"] == pytest.approx(70.0) and stat["std"] == pytest.approx(math.sqrt(200))


def test_run_writes_table_json_and_chart(tmp_path, synth_sysu_root, monkeypatch):
    cfg = ReproduceConfig(table="3", dataset="sysu", root=synth_sysu_root, out=tmp_path / "out",
                          scale="tiny", seeds=2)
    rep = Reproducer(cfg, echo=lambda s: None)
    calls = []

    def fake_unit(row, seed, trial):
        calls.append((row.name, seed))
        value = 0.1 * (1 + seed) + (0.2 if row.name == "eees" else 0.0)
        return {"unit": rep.unit_name(row, seed, trial), "row": row.name, "seed": seed, "trial": trial,
                "selection": "last", "values": {"all_single": {"R1": value, "mAP": value}},
                "chance": {"all_single": {"R1": 0.25, "mAP": 0.3}},
                "test_options": {"feature": "concat", "flip": "concat", "interpolation": "bilinear"}}

    monkeypatch.setattr(rep, "run_unit", fake_unit)
    record = rep.run()
    assert len(calls) == 12
    text = (tmp_path / "out" / "table3.md").read_text()
    # every row is read against the chance level of the same test sets, and against the baseline:
    # baseline 15.0 ± 7.1 over 2 seeds, +20.0 is 2.8x the combined std sqrt(50/2 + 50/2), marked
    assert ("| EEES (ESE + CVSC + CMSP) | 35.0 ± 7.1 | 35.0 ± 7.1 | 25.0 / 30.0 | +20.0 (2.8x) * | +20.0 (2.8x) * "
            "| 78.2 | 75.7 |") in text
    assert "chance R1 / mAP" in text and "random ranking" in text
    assert "selection **last**" in text and "recipe **authors**" in text
    saved = json.loads((tmp_path / "out" / "table3.json").read_text())
    assert saved["rows"][0]["published"]["all_single"]["R1"] == 71.6 and record["seeds"] == 2
    assert (tmp_path / "out" / "table3.png").stat().st_size > 1000


def test_shards_split_the_units_and_leave_the_table_to_an_unsharded_run(tmp_path, synth_sysu_root, monkeypatch):
    trained: dict[tuple[int, int], list[tuple[str, int]]] = {}
    for shard in ((1, 3), (2, 3), (3, 3)):
        rep = Reproducer(ReproduceConfig(table="3", dataset="sysu", root=synth_sysu_root, out=tmp_path / "out",
                                         scale="tiny", seeds=2, shard=shard), echo=lambda s: None)
        calls = trained.setdefault(shard, [])
        monkeypatch.setattr(rep, "run_unit", lambda row, seed, trial, calls=calls: calls.append((row.name, seed)) or {})
        record = rep.run()
        assert record["shard"] == list(shard)
    every = [u for calls in trained.values() for u in calls]
    assert len(every) == 12 and len(set(every)) == 12  # each (row, seed) once, in some shard
    assert [len(c) for c in trained.values()] == [4, 4, 4]
    assert trained[(1, 3)][:2] == [("baseline", 0), ("ise", 1)]  # units 1, 4, ... of the table's order
    assert not (tmp_path / "out" / "table3.md").exists()


def test_config_checks(tmp_path, synth_sysu_root):
    for bad in (dict(scale="huge"), dict(seeds=0), dict(recipe="x"), dict(selection="best"), dict(dataset="x"),
                dict(shard=(3, 2)), dict(shard=(0, 1))):
        with pytest.raises(ConfigError):
            ReproduceConfig(**{"table": "3", "dataset": "sysu", "root": synth_sysu_root, "out": tmp_path,
                               **bad}).validate()


def test_refit_and_selection_policies_pick_layouts(tmp_path, synth_sysu_root):
    """refit: a held-out run picks the epoch count, then an every-id run of that length is evaluated."""
    cfg = ReproduceConfig(table="3", dataset="sysu", root=synth_sysu_root, out=tmp_path / "out", scale="tiny",
                          seeds=1, selection="refit", trials=1, recipe="",
                          overrides=("optim.epochs=2", "sampler.max_batches=1", "run.validate_every=1",
                                     "data.workers=1", "run.tensorboard=false", "model.pretrained=none",
                                     f"data.cache_dir={str(tmp_path / 'cache')!r}"))
    rep = Reproducer(cfg, echo=lambda s: None)
    baseline = table_spec("3").rows[0]
    unit = rep.run_unit(baseline, 0, None)
    assert unit["selection"] == "refit" and unit["refit_epochs"] in (1, 2)
    assert (tmp_path / "out" / "baseline-seed0" / "heldout" / "checkpoints" / "best.pt").is_file()
    assert unit["checkpoint"].endswith("baseline-seed0/checkpoints/last.pt")
    assert unit["training"]["selection"] == "refit" and unit["training"]["epoch"] == unit["refit_epochs"]
    index_all = (tmp_path / "out" / "_data" / "sysu" / "manifests" / "index.parquet")
    from vireid.manifests import read_manifest
    assert "val" not in set(read_manifest(index_all, "image-index").column("split").to_pylist())


def test_an_interrupted_unit_resumes_from_its_last_checkpoint(tmp_path, synth_sysu_root):
    from vireid.pipeline.layout import RunLayout
    from vireid.pipeline.stages import index_stage, train_config, train_stage

    run = RunLayout(tmp_path / "run")
    index_stage(run, "sysu", synth_sysu_root, val_ids=0, echo=lambda s: None)
    overrides = ["optim.epochs=2", "sampler.max_batches=1", "data.workers=1", "run.progress=false",
                 "run.tensorboard=false", f"data.cache_dir={str(tmp_path / 'cache')!r}",
                 "model.pretrained=none"]
    cfg = train_config(run, "tiny-baseline", "sysu", synth_sysu_root, overrides=overrides)
    train_stage(run, cfg, name="tiny-baseline", echo=lambda s: None)
    # As if killed before the stage finished: the run sits in the staging folder, no stamp.
    import shutil

    shutil.copytree(run.method_dir("tiny-baseline"), run.root / ".tiny-baseline.training")
    (run.stamps / "train-tiny-baseline.json").unlink()
    said = []
    train_stage(run, cfg, name="tiny-baseline", echo=said.append)
    assert any("resuming" in s for s in said)
    said.clear()
    reseeded = train_config(run, "tiny-baseline", "sysu", synth_sysu_root, overrides=[*overrides, "run.seed=1"])
    train_stage(run, reseeded, name="tiny-baseline", echo=said.append)
    assert not any("resuming" in s for s in said)  # other inputs start from scratch


def test_rerank_puts_each_settings_re_ranked_row_next_to_the_plain_one():
    from vireid.reproduce.report import format_markdown

    spec = table_spec("3")
    units = [{"row": "eees", "seed": 0, "values": {"ir2vis": {"R1": 0.5}, "ir2vis_reranked": {"R1": 0.6},
                                                  "vis2ir": {"R1": 0.4}, "vis2ir_reranked": {"R1": 0.45}}}]
    rows = [r for r in summarise(spec, "llcm", units, rerank=True) if r["row"] == "eees"]
    assert rows[0]["main_settings"] == ["ir2vis", "ir2vis_reranked", "vis2ir", "vis2ir_reranked"]
    assert rows[0]["stats"]["ir2vis_reranked"]["R1"]["mean"] == pytest.approx(60.0)
    info = {"table": "3", "title": "t", "source": "s", "dataset": "llcm", "root": "r", "scale": "tiny",
            "recipe": "none", "selection": ["val"], "seeds": 1, "captions": "reference",
            "test_options": {}, "wall_s_this_call": 1.0, "vireid_version": "0",
            "rerank": {"k1": 20, "k2": 6, "lambda_value": 0.3}}
    text = format_markdown(info, rows)
    assert "R1 (infrared->visible re-ranked)" in text
    assert "k1=20 k2=6 lambda=0.3" in text


@pytest.mark.parametrize("shard", ["2", "3/2", "a/b"])
def test_a_malformed_shard_is_one_config_error_before_any_work(shard, tmp_path, synth_sysu_root):
    from typer.testing import CliRunner

    from vireid.cli import app

    result = CliRunner().invoke(app, ["reproduce", "--table", "3", "--root", str(synth_sysu_root),
                                      "--out", str(tmp_path / "out"), "--scale", "tiny", "--shard", shard])
    assert isinstance(result.exception, ConfigError) and "--shard" in str(result.exception)
    assert not (tmp_path / "out").exists()
