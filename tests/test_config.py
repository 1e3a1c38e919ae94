"""Typed config loading: unknown keys, wrong types and overrides name the offending key."""

from dataclasses import dataclass, field
from typing import Literal, Optional

import pytest

from vireid.config import apply_overrides, from_dict, load_toml, parse_override, to_dict
from vireid.errors import ConfigError


@dataclass
class Optim:
    lr: float = 3e-4
    milestones: tuple[int, ...] = (40, 70)


@dataclass
class Run:
    name: str = "demo"
    epochs: int = 120
    mode: Literal["train", "eval"] = "train"
    resume: Optional[str] = None
    flip: bool = True
    optim: Optim = field(default_factory=Optim)

    def validate(self):
        if self.epochs <= 0:
            raise ConfigError(f"epochs: must be positive, got {self.epochs}")


def test_missing_keys_take_defaults_and_nested_tables_build_dataclasses():
    run = from_dict(Run, {"optim": {"lr": 1}})
    assert run.optim.lr == 1.0 and isinstance(run.optim.lr, float)
    assert run.epochs == 120 and run.optim.milestones == (40, 70)


def test_unknown_key_is_named_with_its_path_and_the_known_keys():
    with pytest.raises(ConfigError, match=r"unknown config key optim.momentum \(known keys here: lr, milestones\)"):
        from_dict(Run, {"optim": {"momentum": 0.9}})


@pytest.mark.parametrize("data, message", [
    ({"epochs": "ten"}, "epochs: expected an integer"),
    ({"epochs": True}, "epochs: expected an integer"),
    ({"optim": {"lr": "fast"}}, "optim.lr: expected a number"),
    ({"flip": 1}, "flip: expected true or false"),
    ({"mode": "test"}, "mode: must be one of 'train', 'eval'"),
    ({"optim": {"milestones": [40, "x"]}}, r"optim.milestones\[1\]: expected an integer"),
    ({"optim": 3}, "optim: expected a table of Optim fields"),
    ({"resume": 5}, "resume: expected"),
])
def test_wrong_types_name_the_key(data, message):
    with pytest.raises(ConfigError, match=message):
        from_dict(Run, data)


def test_validate_runs_after_construction():
    with pytest.raises(ConfigError, match="epochs: must be positive"):
        from_dict(Run, {"epochs": 0})


def test_overrides_parse_toml_values_and_fall_back_to_strings():
    assert parse_override("optim.lr=1e-3") == (["optim", "lr"], 1e-3)
    assert parse_override("flip=false") == (["flip"], False)
    assert parse_override("name=my run") == (["name"], "my run")
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_override("optim.lr")
    with pytest.raises(ConfigError, match="empty key"):
        parse_override("=3")


def test_overrides_merge_into_nested_tables_without_dropping_siblings():
    data = apply_overrides({"optim": {"lr": 0.1, "milestones": [1, 2]}}, ["optim.lr=0.5", "epochs=3"])
    assert data == {"optim": {"lr": 0.5, "milestones": [1, 2]}, "epochs": 3}
    run = from_dict(Run, data)
    assert to_dict(run)["optim"] == {"lr": 0.5, "milestones": [1, 2]}


def test_override_of_an_unknown_key_is_caught_when_building(tmp_path):
    with pytest.raises(ConfigError, match="unknown config key optim.lrr"):
        from_dict(Run, apply_overrides({}, ["optim.lrr=1"]))


def test_toml_files_load_and_errors_name_the_file(tmp_path):
    good = tmp_path / "run.toml"
    good.write_text('name = "x"\n[optim]\nlr = 0.01\n')
    assert from_dict(Run, load_toml(good)).optim.lr == 0.01
    with pytest.raises(ConfigError, match=f"{tmp_path / 'absent.toml'}: config file not found"):
        load_toml(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(ConfigError, match=f"{bad}: invalid TOML"):
        load_toml(bad)
