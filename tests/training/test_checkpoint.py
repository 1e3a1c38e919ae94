"""Specification of checkpoint writing and safe reading."""

import pytest
import torch

from vireid.models.store import CheckpointError, load_checkpoint, save_checkpoint
from vireid.rng import rng_state, set_rng_state
from vireid.training.checkpoint import resolve_resume


def _state(model):
    return {"model_config": {"name": "tiny"}, "num_classes": 3, "model": model.state_dict(),
            "epoch": 2, "metrics": {"val/mAP": 0.5}}


def test_round_trip_with_weights_only_loading(tmp_path):
    model = torch.nn.Linear(3, 2)
    path = save_checkpoint(tmp_path / "c" / "last.pt", _state(model))
    state = load_checkpoint(path)
    assert state["format"] == "vireid-checkpoint" and state["version"] == 2
    assert torch.equal(state["model"]["weight"], model.weight.detach())
    assert state["epoch"] == 2 and state["metrics"] == {"val/mAP": 0.5}
    assert not list(path.parent.glob(".*.tmp"))


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    path = save_checkpoint(tmp_path / "last.pt", _state(torch.nn.Linear(3, 2)))
    before = path.read_bytes()
    with pytest.raises(ValueError):
        save_checkpoint(path, {"model": {}})  # lacks the required keys
    assert path.read_bytes() == before


@pytest.mark.parametrize("content,match", [(None, "not found"), (b"garbage", "unreadable")])
def test_bad_files_raise_errors_naming_the_path(tmp_path, content, match):
    path = tmp_path / "x.pt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CheckpointError, match=match) as err:
        load_checkpoint(path)
    assert str(path) in str(err.value)


def test_foreign_torch_file_is_rejected(tmp_path):
    torch.save({"state_dict": {}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a vireid checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


def test_rng_state_round_trip():
    state = rng_state()
    a = torch.rand(3)
    set_rng_state(state)
    assert torch.equal(torch.rand(3), a)


def test_resume_auto_finds_last_or_starts_fresh(tmp_path):
    assert resolve_resume("auto", tmp_path) is None
    save_checkpoint(tmp_path / "checkpoints" / "last.pt", _state(torch.nn.Linear(1, 1)))
    assert resolve_resume("auto", tmp_path) == tmp_path / "checkpoints" / "last.pt"
    with pytest.raises(CheckpointError, match="nope.pt"):
        resolve_resume(str(tmp_path / "nope.pt"), tmp_path)
