"""Issue 18 items 2, 8, 21: a failed re-train keeps the previous model; the pipeline names the
checkpoint it evaluates; `pipeline all` takes the captioning options."""

import json
import sys

import pytest
import typer
from typer.testing import CliRunner

from vireid import cli
from vireid.cli import app
from vireid.pipeline.layout import RunLayout

runner = CliRunner()


@pytest.fixture(scope="module")
def train_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def _train(root, run, cache, *extra):
    return runner.invoke(app, ["pipeline", "train", "--root", str(root), "--run", str(run),
                               "--method", "tiny-baseline", "--val-ids", "3",
                               "--set", "run.progress=false", "--set", "sampler.max_batches=1",
                               "--set", "optim.epochs=1", "--set", f"data.cache_dir={str(cache)!r}",
                               "--set", "data.workers=1", "--set", "model.pretrained=none", *extra])


def test_failed_retrain_keeps_the_old_model_and_eval_names_the_checkpoint(synth_sysu_root, train_cache, tmp_path):
    layout = RunLayout(tmp_path)
    result = _train(synth_sysu_root, tmp_path, train_cache)
    assert result.exit_code == 0, result.output
    last = layout.last_checkpoint("tiny-baseline")
    before = last.read_bytes()
    result = _train(synth_sysu_root, tmp_path, train_cache, "--set", "sampler.batch_ids=50")
    assert result.exit_code != 0
    assert last.read_bytes() == before                           # the old model survived the failure
    assert not list(tmp_path.glob(".tiny-baseline*"))            # no staging leftovers
    # best.pt deleted: the pipeline evaluates last.pt and says so
    layout.best_checkpoint("tiny-baseline").unlink(missing_ok=True)
    result = runner.invoke(app, ["pipeline", "eval", "--root", str(synth_sysu_root), "--run", str(tmp_path),
                                 "--method", "tiny-baseline", "--trials", "1"])
    assert result.exit_code == 0, result.output
    assert f"evaluating {last}" in result.output and f"checkpoint: {last}" in result.output
    assert json.loads(layout.results("tiny-baseline").read_text())["checkpoint"] == str(last)


def test_pipeline_all_accepts_the_captioning_options():
    group = typer.main.get_command(app).commands["pipeline"]
    options = {opt for p in group.commands["all"].params for opt in p.opts}
    captions = {opt for p in group.commands["captions"].params for opt in p.opts}
    assert {"--quantization", "--batch-size", "--limit", "--model"} <= options
    assert captions <= options


def test_a_retrain_replaces_only_the_files_training_wrote(synth_sysu_root, train_cache, tmp_path):
    layout = RunLayout(tmp_path)
    assert _train(synth_sysu_root, tmp_path, train_cache).exit_code == 0
    method = layout.last_checkpoint("tiny-baseline").parent.parent
    mine = {"NOTES.md": "mine", "checkpoints/my_important_epoch.pt": "mine", "logs/my_log.txt": "mine"}
    for rel, text in mine.items():
        (method / rel).write_text(text)
    before = layout.last_checkpoint("tiny-baseline").stat().st_mtime_ns
    result = _train(synth_sysu_root, tmp_path, train_cache, "--force")
    assert result.exit_code == 0, result.output
    assert layout.last_checkpoint("tiny-baseline").stat().st_mtime_ns != before   # the model was replaced
    assert {rel: (method / rel).read_text() for rel in mine} == mine
    owned = json.loads((method / ".vireid-owned.json").read_text())["files"]
    assert "checkpoints/last.pt" in owned and not set(owned) & set(mine)


def test_eval_of_a_run_folder_without_its_index_is_one_line(synth_sysu_root, tmp_path, monkeypatch, capsys):
    layout = RunLayout(tmp_path)
    last = layout.last_checkpoint("tiny-baseline")
    last.parent.mkdir(parents=True)
    last.write_bytes(b"not reached: the missing index is reported first")
    monkeypatch.setattr(sys, "argv", ["vireid", "pipeline", "eval", "--root", str(synth_sysu_root),
                                      "--run", str(tmp_path), "--method", "tiny-baseline", "--trials", "1"])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith(f"error: {layout.index}: image index not found")
