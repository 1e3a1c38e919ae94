"""Specification of the training engine: every preset runs, resume is exact, NaN stops cleanly."""

import json

import pytest
import torch

from vireid.models.store import load_checkpoint
from vireid.training.engine import NonFiniteLossError, ResumeError, train
from vireid.models.store import load_model
from vireid.methods.eees import EEESObjective
from vireid.training.train_log import read_jsonl

def test_a_run_writes_checkpoints_logs_stage_logs_and_its_config(tiny_config, tmp_path):
    # What the trainer writes does not depend on the method (every variant's step, state and
    # resume: tests/methods/test_contract.py); a variant with a preparatory stage shows it all.
    preset = "tiny-ise"
    cfg = tiny_config(preset, "eees.prompt.epochs=1")
    result = train(cfg, tmp_path / "run")
    run = tmp_path / "run"
    for name in ("checkpoints/last.pt", "checkpoints/best.pt", "config.json", "logs/train.csv",
                 "logs/train.jsonl", "logs/loss_curve.png"):
        assert (run / name).is_file(), name
    assert list((run / "logs" / "tb").glob("events.out.tfevents.*"))
    (record,) = read_jsonl(run / "logs" / "train.jsonl")
    terms = {k.removeprefix("loss/") for k in record if k.startswith("loss/")}
    assert terms == {"id", "wrt", "ise", "total"}
    assert record["steps"] == 2 and record["images_per_s"] > 0 and 0 <= record["data_share"] <= 1
    assert "val/mAP" in record  # validated on split=val (held-out training ids)
    assert read_jsonl(run / "logs" / "stage_prompts.jsonl")[0]["loss/prompt"] > 0  # the stage ran first
    state = load_checkpoint(result.last)
    assert state["epoch"] == 1 and state["train_config"]["method"] == cfg.method
    assert {"optimizer", "scheduler", "sampler", "rng", "fingerprints"} <= set(state)
    model = load_model(result.best)  # the evaluation side can rebuild it
    assert model.num_classes == state["num_classes"]
    info = json.loads((run / "config.json").read_text())
    assert info["seed"] == 0 and "index" in info["fingerprints"] and info["provenance"]["vireid_version"]


def test_resume_reproduces_the_uninterrupted_run_exactly(tiny_config, tmp_path):
    straight = train(tiny_config("tiny-eees", epochs=2, batches=3), tmp_path / "straight")
    interrupted = tiny_config("tiny-eees", epochs=1, batches=3)
    train(interrupted, tmp_path / "resumed")
    resumed = train(tiny_config("tiny-eees", epochs=2, batches=3), tmp_path / "resumed", resume="auto")

    def losses(run):
        return [{k: v for k, v in r.items() if k.startswith(("loss/", "lr/"))}
                for r in read_jsonl(run / "logs" / "train.jsonl")]

    assert len(losses(tmp_path / "straight")) == 2
    assert losses(tmp_path / "straight") == losses(tmp_path / "resumed")
    a, b = load_checkpoint(straight.last)["model"], load_checkpoint(resumed.last)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_refuses_changed_method_naming_both_presets(tiny_config, tmp_path):
    train(tiny_config("tiny-baseline", batches=1), tmp_path / "run")
    with pytest.raises(ResumeError) as err:
        train(tiny_config("tiny-eees", epochs=2, batches=1), tmp_path / "run", resume="auto")
    message = str(err.value)
    assert "trained with method 'baseline' (preset 'tiny-baseline')" in message
    assert "--preset tiny-baseline" in message and "caption" not in message and "data changed" not in message


def test_a_setting_changed_on_resume_is_recorded_with_the_epoch_it_took_effect(tiny_config, tmp_path, capsys):
    train(tiny_config("tiny-baseline", batches=1), tmp_path / "run")
    lr = tiny_config("tiny-baseline").optim.lr_visual
    train(tiny_config("tiny-baseline", "optim.lr_visual=0.1", epochs=2, batches=1), tmp_path / "run",
          resume="auto")
    warning = [ln for ln in capsys.readouterr().err.splitlines() if "changed settings" in ln]
    assert len(warning) == 1 and "from epoch 2 on" in warning[0] and "optim.lr_visual" in warning[0]
    info = json.loads((tmp_path / "run" / "config.json").read_text())
    assert info["config_history"] == [{"from_epoch": 2, "changes": {
        "optim.epochs": {"was": 1, "now": 2}, "optim.lr_visual": {"was": lr, "now": 0.1}}}]
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["config_history"] == info["config_history"]


def test_non_finite_values_stop_training_and_keep_the_last_good_checkpoint(
        tiny_config, tmp_path, monkeypatch):
    real_forward = EEESObjective.forward
    calls = {"n": 0}

    def poisoned(self, *args, **kwargs):
        result = real_forward(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 3:  # first step of epoch 2
            result.total = result.total * float("nan")
            result.terms["total"] = result.total.detach()
        return result

    monkeypatch.setattr(EEESObjective, "forward", poisoned)
    run = tmp_path / "run"
    with pytest.raises(NonFiniteLossError, match=r"epoch 2, step 1 .*total=nan.*last good checkpoint") as err:
        train(tiny_config("tiny-eees", epochs=2, batches=2), run)
    assert str(run / "checkpoints" / "last.pt") in str(err.value)
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    assert state["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
    assert [r["epoch"] for r in read_jsonl(run / "logs" / "train.jsonl")] == [1]


def test_resuming_a_layout_1_checkpoint_is_refused_with_the_version(tiny_config, tmp_path):
    run = tmp_path / "run"
    train(tiny_config("tiny-baseline", batches=1), run)
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    torch.save({**state, "version": 1}, run / "checkpoints" / "last.pt")
    with pytest.raises(ResumeError, match="layout version 1; this vireid resumes version 2"):
        train(tiny_config("tiny-baseline", epochs=2, batches=1), run, resume="auto")


def test_a_cached_stage_is_reused_and_the_run_continues_identically(tiny_config, tmp_path, monkeypatch):
    import shutil

    from vireid.methods.eees.prompts import ISEStage

    first = train(tiny_config("tiny-ise", "eees.prompt.epochs=1", batches=1), tmp_path / "run")
    stages = tmp_path / "run" / "stages"
    assert (stages / "prompts.pt").is_file() and not (stages / "prompts.progress.pt").exists()
    shutil.copytree(stages, tmp_path / "again" / "stages")  # what the pipeline's staging does

    def must_not_run(self, context, previous):
        raise AssertionError("the cached stage output should have been reused")

    monkeypatch.setattr(ISEStage, "run", must_not_run)
    again = train(tiny_config("tiny-ise", "eees.prompt.epochs=1", batches=1), tmp_path / "again")
    assert [r["loss/total"] for r in first.history] == [r["loss/total"] for r in again.history]
    monkeypatch.undo()
    changed = train(tiny_config("tiny-ise", "eees.prompt.epochs=2", batches=1), tmp_path / "other")
    assert len(read_jsonl(tmp_path / "other" / "logs" / "stage_prompts.jsonl")) == 2
    assert changed.history[0]["loss/total"] != first.history[0]["loss/total"]


def test_a_nan_learning_rate_never_writes_or_calls_good_a_checkpoint_with_nan_weights(tiny_config, tmp_path):
    # issue 18 item 4: the loss of the first step is finite, the weights after it are not
    run = tmp_path / "run"
    with pytest.raises(NonFiniteLossError) as err:
        train(tiny_config("tiny-baseline", "optim.lr_visual=nan", epochs=2, batches=1), run)
    message = str(err.value)
    assert "not finite" in message and "no checkpoint with finite weights was written" in message
    assert "last good checkpoint" not in message
    assert not (run / "checkpoints" / "last.pt").exists() and not (run / "checkpoints" / "best.pt").exists()
