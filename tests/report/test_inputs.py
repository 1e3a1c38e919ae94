"""Reading run folders: what is found, what is missing and why, what is refused."""

import json

import pytest

from vireid.report.inputs import ReportError, collect, load_run


def test_a_finished_run_has_every_piece(tiny_run):
    run = load_run(tiny_run)
    assert run.missing == []
    assert run.name == "tiny-eees-seed0" and run.row == "tiny-eees" and run.seed == 0
    assert run.epochs_done == run.planned_epochs == 2
    assert run.record["results"]["dataset"] == "sysu" and run.features is not None
    assert [p.name for p in run.caption_manifests()] == ["reference_captions.parquet"]


def test_a_run_killed_midway_says_what_is_missing(run_copy):
    path = run_copy("killed")
    log = path / "logs" / "train.jsonl"
    first = log.read_text().splitlines()[0]
    log.write_text(first + "\n" + '{"epoch": 2, "loss/to')           # torn while writing epoch 2
    (path / "results" / "results.json").unlink()
    run = load_run(path)
    assert run.epochs_done == 1 and run.record is None
    text = "\n".join(run.missing)
    assert "line 2 is not JSON" in text
    assert "training stopped after epoch 1 of 2" in text
    assert "not evaluated" in text


def test_a_folder_of_runs_yields_each_run_and_the_reproduce_table(run_copy, tmp_path):
    run_copy("parent/a-seed0")
    run_copy("parent/a-seed1")
    (tmp_path / "parent" / "_data").mkdir()              # reproduce's data folder is not a run
    (tmp_path / "parent" / "tiny-llava").mkdir()         # nor the demo's model folder with its HF config.json
    (tmp_path / "parent" / "tiny-llava" / "config.json").write_text(json.dumps({"model_type": "llava"}))
    (tmp_path / "parent" / "table3.json").write_text(json.dumps({"table": "3", "rows": []}))
    inputs = collect([tmp_path / "parent"])
    assert [r.name for r in inputs.runs] == ["a-seed0", "a-seed1"]
    assert [r.row for r in inputs.runs] == ["a", "a"] and [r.seed for r in inputs.runs] == [0, 1]
    assert inputs.tables[0]["table"] == "3"


def test_a_folder_that_is_no_run_is_one_error_naming_it(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.txt").write_text("x")
    with pytest.raises(ReportError, match=r"photos: not a vireid run folder"):
        collect([tmp_path / "photos"])
    with pytest.raises(ReportError, match=r"nothing-here: not a folder"):
        collect([tmp_path / "nothing-here"])


def test_a_corrupt_results_file_is_an_error_naming_it(run_copy):
    path = run_copy("corrupt")
    (path / "results" / "results.json").write_text("{not json")
    with pytest.raises(ReportError, match=r"results\.json: unreadable results file"):
        load_run(path)
    (path / "results" / "results.json").write_text(json.dumps({"results": {}}))
    with pytest.raises(ReportError, match="not a vireid results file"):
        load_run(path)
