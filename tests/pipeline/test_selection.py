"""Issue 14: the evaluated checkpoint follows the identity-selection policy, and results
tables name the policy and the test-feature options."""

import json

from vireid.evaluation.checkpoint import training_record
from vireid.evaluation.report import describe_model, format_table
from vireid.pipeline.layout import RunLayout


def _run(tmp_path, selection, best=True):
    layout = RunLayout(tmp_path)
    ckpt = layout.method_dir("m") / "checkpoints"
    ckpt.mkdir(parents=True)
    (ckpt / "last.pt").write_bytes(b"x")
    if best:
        (ckpt / "best.pt").write_bytes(b"x")
    (layout.method_dir("m") / "config.json").write_text(json.dumps({"config": {"run": {"selection": selection}}}))
    return layout


def test_model_checkpoint_follows_the_policy(tmp_path):
    assert _run(tmp_path / "a", "val").model_checkpoint("m").name == "best.pt"
    assert _run(tmp_path / "b", "last").model_checkpoint("m").name == "last.pt"
    assert _run(tmp_path / "c", "refit").model_checkpoint("m").name == "last.pt"
    assert _run(tmp_path / "d", "val", best=False).model_checkpoint("m").name == "last.pt"
    assert _run(tmp_path / "e", "last").model_checkpoint("m", "val").name == "best.pt"
    assert RunLayout(tmp_path / "none").selection("m") == "val"


def test_training_record_names_policy_recipe_and_pixel_stats():
    state = {"epoch": 20, "best": {}, "train_config": {
        "method": "eees", "recipe": "authors", "run": {"seed": 1, "selection": "last"},
        "model": {"pixel_stats": "imagenet"}, "data": {"dataset": "sysu"}}}
    rec = training_record(state)
    assert rec["selection"] == "last" and rec["recipe"] == "authors" and rec["pixel_stats"] == "imagenet"
    assert "final epoch 20" in rec["selection_detail"]
    state["best"] = {"metric": "val/mAP", "epoch": 20}
    state["train_config"]["run"]["selection"] = "val"
    assert "held-out" in training_record(state)["selection_detail"]


def test_selection_val_without_held_out_ids_is_reported_as_the_final_epoch():
    state = {"epoch": 2, "best": {}, "train_config": {"method": "baseline", "run": {"selection": "val"}}}
    rec = training_record(state)
    assert rec["selection"] == "last"
    assert rec["selection_detail"] == "final epoch 2; no training ids were held out, so none was selected"


def test_printed_table_names_the_policy_and_test_options():
    results = {"dataset": "sysu", "trials": [0], "settings": {"all_single": {
        "title": "all-search single", "mean": {"R1": 0.5, "mAP": 0.4}, "std": {},
        "chance": {"R1": 0.1, "mAP": 0.1}}}}
    record = {"feature": "concat", "flip": "concat", "interpolation": "bilinear",
              "training": {"method": "eees", "recipe": "authors", "selection": "last",
                           "selection_detail": "final epoch 120, every training id", "pixel_stats": "imagenet"}}
    text = format_table(results, record)
    assert "selection last" in text and "flip concat" in text and "resize bilinear" in text
    assert "pixel stats imagenet" in text and "recipe authors" in text
    assert "selection" not in format_table(results)
    assert describe_model({}).startswith("model: ?")


def test_pipeline_recipe_option_sets_overrides_and_index_hold_out(tmp_path):
    import pytest

    from vireid.errors import VireidError
    from vireid.pipeline.cli import _train_overrides
    from vireid.pipeline.layout import RunLayout

    where = (RunLayout(tmp_path / "run"), "sysu", tmp_path, None)
    cfg, val_ids = _train_overrides("tiny-eees", "authors", ["optim.epochs=3"], None, *where)
    assert (cfg.recipe, cfg.optim.epochs, cfg.run.selection, val_ids) == ("authors", 3, "last", 0)  # every id trains
    cfg, val_ids = _train_overrides("tiny-eees", None, None, None, *where)
    assert (cfg.recipe, cfg.run.selection, val_ids) == ("", "val", None)  # today's default: val
    assert _train_overrides("tiny-eees", "paper", None, 5, *where)[1] == 5  # an explicit count is kept
    with pytest.raises(VireidError, match="reproduce"):
        _train_overrides("tiny-eees", None, ["run.selection=refit"], None, *where)
