"""Issue 14 in the trainer: recipes merge under presets, selection=last trains on every id,
per-term gradient norms reach train.jsonl, the authors' recipe trains (second view on)."""

import pytest

from vireid.errors import ConfigError
from vireid.evaluation.features import FeatureOptions
from vireid.training.config import preset_names, recipe_eval_options, recipe_names, resolve_config
from vireid.training.train_log import read_jsonl


def test_recipes_are_listed_and_merge_under_the_preset():
    assert recipe_names() == ["authors", "paper"]
    assert not any(p.startswith("recipe-") for p in preset_names())
    cfg = resolve_config("tiny-eees", overrides=["recipe=authors"])
    assert cfg.recipe == "authors"
    assert cfg.method_config.positives == "identity" and cfg.method_config.text_space == "raw"
    assert cfg.augment.second_visible_view and cfg.model.pixel_stats == "imagenet"
    assert cfg.optim.epochs == 20 and cfg.augment.pad == 4  # tiny.toml wins over the recipe
    assert cfg.run.selection == "last" and cfg.data.val_ids == 0
    full = resolve_config("ese", overrides=["recipe=authors", "eees.positives=pair"])
    assert full.optim.lr_heads == 2 * full.optim.lr_visual and full.optim.warmup_factor == 0.01
    assert full.method_config.positives == "pair"  # overrides win over the recipe
    assert not full.method_config.use_cvsc  # the variant still decides the terms
    assert (recipe_eval_options("authors").flip, recipe_eval_options("authors").interpolation) == ("concat", "bilinear")
    assert recipe_eval_options("paper").flip == "none"
    assert recipe_eval_options("") == FeatureOptions()  # no recipe: the defaults
    with pytest.raises(ConfigError):
        resolve_config("eees", overrides=["recipe=nope"])
    with pytest.raises(ConfigError):
        resolve_config("eees", overrides=["run.selection=best"])


def test_defaults_are_unchanged_without_a_recipe():
    cfg = resolve_config("tiny-eees")
    assert cfg.recipe == "" and cfg.run.selection == "val" and cfg.data.val_ids is None
    assert (cfg.method_config.positives, cfg.method_config.text_space, cfg.method_config.kd_reduction) == (
        "pair", "normalized", "sum")


def test_selection_last_trains_all_ids_and_logs_grad_norms(tiny_config, tmp_path):
    from vireid.training.engine import train

    cfg = tiny_config("tiny-eees", "recipe=authors", "run.grad_norm_every=1", "run.tensorboard=false")
    result = train(cfg, tmp_path / "run")
    assert result.best is None and result.last.is_file()  # nothing held out, no best.pt
    rec = read_jsonl(tmp_path / "run" / "logs" / "train.jsonl")[-1]
    assert not any(k.startswith("val/") for k in rec)
    for term in ("id", "wrt", "con_o", "con_m", "kd", "cmsp"):
        assert f"grad/{term}" in rec and rec[f"grad/{term}"] >= 0.0
    assert rec["grad/con_o"] > 0
