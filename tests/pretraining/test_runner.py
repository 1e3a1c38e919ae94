"""The pretrain stage: deterministic, cached by fingerprint, its checks beside chance."""

from pathlib import Path

import torch

from vireid.pretraining.cache import pretrain_dir
from vireid.pretraining.config import PretrainConfig
from vireid.pretraining.runner import run_pretrain
from tests.pretraining.conftest import SMALL_PRETRAIN


def test_summary_reports_each_check_beside_its_chance_level(small_pretrain):
    cfg, root, summary = small_pretrain
    r = summary["caption_to_image"]
    assert r["people"] == cfg.heldout_people and r["queries"] == cfg.heldout_people * cfg.photos_per_person
    # 4 people x 2 photos: a random ranking puts a match first with probability 2/8
    assert abs(r["chance"]["R1"] - 0.25) < 1e-9 and 0 <= r["R1"] <= 1 and 0 < r["mAP"] <= 1
    assert summary["corpus"]["training_photos"] == cfg.people * cfg.photos_per_person
    assert len(summary["history"]) == cfg.steps
    assert Path(summary["weights"]).parent == pretrain_dir(cfg, root)


def test_a_second_run_reuses_the_cached_weights(small_pretrain):
    cfg, root, summary = small_pretrain
    weights = Path(summary["weights"])
    stamp = weights.stat().st_mtime_ns
    said = []
    again = run_pretrain(cfg, root=root, show_progress=False, echo=said.append)
    assert weights.stat().st_mtime_ns == stamp and again["fingerprint"] == summary["fingerprint"]
    assert said[0].startswith("pretrain: cached")


def test_a_moved_cache_names_the_weights_where_they_are_now(small_pretrain, tmp_path):
    import shutil

    cfg, root, _ = small_pretrain
    moved = tmp_path / "moved"
    shutil.copytree(root, moved)
    again = run_pretrain(cfg, root=moved, show_progress=False, echo=lambda s: None)
    assert Path(again["weights"]) == pretrain_dir(cfg, moved) / Path(again["weights"]).name
    assert Path(again["weights"]).is_file()


def test_the_same_seed_gives_the_same_weights_and_a_changed_setting_a_new_entry(small_pretrain, tmp_path):
    cfg, _, summary = small_pretrain
    again = run_pretrain(cfg, root=tmp_path, show_progress=False, echo=lambda s: None)
    a = torch.load(summary["weights"], weights_only=True)
    b = torch.load(again["weights"], weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)
    other = PretrainConfig(**{**SMALL_PRETRAIN, "seed": 1})
    assert pretrain_dir(other, tmp_path) != pretrain_dir(cfg, tmp_path)


def test_zero_shot_reid_on_a_benchmark_is_added_once(small_pretrain, synth_sysu_root):
    cfg, root, _ = small_pretrain
    said = []
    summary = run_pretrain(cfg, root=root, benchmark=synth_sysu_root, show_progress=False, echo=said.append)
    check = summary["zero_shot_reid"][str(Path(synth_sysu_root).resolve())]
    single = check["settings"]["all_single"]
    assert check["trials"] == 10 and check["feature"] == "proj" and 0 < single["chance"]["R1"] < 1
    assert "zero-shot re-id, sysu all-search single-shot" in said[-1] and "chance R1" in said[-1]
