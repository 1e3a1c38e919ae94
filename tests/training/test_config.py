"""Specification of TrainConfig resolution: presets, files, overrides, validation."""

import pytest

from vireid.errors import ConfigError
from vireid.methods import method_names
from vireid.training.config import config_dict, preset_names, resolve_config


def test_every_method_and_variant_has_a_full_and_a_tiny_preset_of_the_same_name():
    names = set(preset_names())
    for method in method_names():
        assert {method, f"tiny-{method}"} <= names
        assert resolve_config(method).method == method
        assert resolve_config(f"tiny-{method}").method == method


def test_defaults_are_the_papers_sysu_setting():
    cfg = resolve_config("eees")
    assert cfg.model.name == "RN50" and tuple(cfg.model.image_size) == (288, 144)
    assert (cfg.sampler.batch_ids, cfg.sampler.per_modality) == (8, 4)
    assert (cfg.optim.lr_visual, cfg.optim.lr_text) == (3e-4, 1e-6)
    assert (cfg.optim.epochs, tuple(cfg.optim.milestones), cfg.optim.gamma) == (120, (40, 70), 0.1)
    w = cfg.method_config.weights
    assert (w.wrt, w.con, w.kd, w.cmsp) == (0.25, 0.2, 0.08, 0.01)
    assert cfg.method_config.m == 1 and cfg.needs.captions == ("visible", "infrared")


def test_method_sets_the_term_switches():
    base = resolve_config("baseline").method_config
    assert not (base.use_ese or base.use_ise or base.use_cvsc or base.use_cmsp)
    assert not resolve_config("baseline").needs.captions and not resolve_config("ise").needs.captions
    cvsc = resolve_config("ese-cvsc").method_config
    assert cvsc.use_ese and cvsc.use_cvsc and not cvsc.use_cmsp
    switched = resolve_config("eees", overrides=["method=ese"]).method_config
    assert switched.use_ese and not switched.use_cvsc and not switched.use_cmsp


def test_the_method_section_is_named_after_the_method_in_files_and_overrides():
    cfg = resolve_config("ese-cvsc", overrides=["eees.m=2"])
    assert cfg.family == "eees" and cfg.method_config.m == 2
    data = config_dict(cfg)
    assert data["method"] == "ese-cvsc" and data["eees"]["m"] == 2 and "method_config" not in data


def test_tiny_presets_combine_method_and_cpu_scale():
    cfg = resolve_config("tiny-eees")
    assert cfg.model.name == "vireid-tiny-rn" and tuple(cfg.model.image_size) == (64, 32)
    assert cfg.method_config.use_cmsp and cfg.preset == "tiny-eees"


def test_overrides_and_user_files(tmp_path):
    user = tmp_path / "my.toml"
    user.write_text('extends = "tiny-ese"\n[optim]\nepochs = 3\n')
    cfg = resolve_config(config_file=user, overrides=["optim.lr_visual=1e-4", "eees.weights.con=0.5"])
    assert cfg.method == "ese" and cfg.optim.epochs == 3
    assert cfg.optim.lr_visual == 1e-4 and cfg.method_config.weights.con == 0.5


@pytest.mark.parametrize("override,match", [
    ("optim.lrr=1", "unknown config key optim.lrr"),
    ("optim.epochs=ten", "optim.epochs: expected an integer"),
    ("sampler.batch_ids=1", "sampler.batch_ids"),
    ("method=magic", "method: unknown 'magic'"),
    ("model.image_size=[100, 50]", "model.image_size"),
    ("eees.use_ise=true", "eees"),
    ("loss.m=2", "unknown config key loss"),
    ("augment.flip=2.0", "augment.flip"),
    ("nosuch=1", "unknown config key nosuch"),
])
def test_bad_keys_and_values_name_the_key(override, match):
    with pytest.raises(ConfigError, match=match):
        resolve_config("tiny-eees", overrides=[override])


def test_unknown_preset_states_the_naming_rule_and_the_variants():
    with pytest.raises(ConfigError, match=r"\[tiny-\]<variant>\[-<dataset>\], variants .*ese-cvsc"):
        resolve_config("nope")
    with pytest.raises(ConfigError, match="unknown preset 'eees-market'"):
        resolve_config("eees-market")


def test_preset_names_follow_one_rule_variant_dataset_and_tiny_variant():
    names = set(preset_names())
    assert {"csdn", "csdn-regdb", "tiny-csdn-no-sii", "mun-no-aux-llcm", "clip4vi-reid-sysu"} <= names
    cfg = resolve_config("csdn-no-sii-llcm")
    assert (cfg.method, cfg.data.dataset, cfg.optim.epochs) == ("csdn-no-sii", "llcm", 120)  # csdn's paper.toml
    tiny = resolve_config("tiny-csdn-no-sii")
    assert (tiny.model.name, tiny.method_config.prompt.epochs) == ("vireid-tiny-rn", 4)  # tiny.toml + csdn's


def test_regdb_presets_never_fix_a_trial():
    for name in (n for n in preset_names() if n.endswith("-regdb")):
        with pytest.raises(ConfigError, match="data.trial"):
            resolve_config(name)


def test_a_renamed_preset_still_works_with_a_one_line_note(capsys):
    cfg = resolve_config("sysu-clip4vi-reid")
    assert (cfg.method, cfg.data.dataset, cfg.preset) == ("clip4vi-reid", "sysu", "clip4vi-reid-sysu")
    note = capsys.readouterr().err.strip().splitlines()
    assert len(note) == 1 and "'sysu-clip4vi-reid' is now 'clip4vi-reid-sysu'" in note[0]


def test_regdb_needs_a_trial():
    with pytest.raises(ConfigError, match="data.trial"):
        resolve_config("eees", overrides=["data.dataset='regdb'"])
    assert resolve_config("eees", overrides=["data.dataset='regdb'", "data.trial=3"]).data.trial == 3


def test_cvsc_partners_beyond_the_sampled_images_per_identity_is_a_config_error():
    with pytest.raises(ConfigError, match=r"sampler.per_modality: .*eees.m=4 .* at least 5 per identity, got 4"):
        resolve_config("eees", overrides=["eees.m=4"])
