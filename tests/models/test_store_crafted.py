"""Issue 18 item 20: a foreign or crafted checkpoint fails with one short, safe line."""

import pytest
import torch

from vireid.evaluation.checkpoint import load_checkpoint_model
from vireid.models import TINY_MODEL_NAME, ModelConfig, build_model
from vireid.models.store import CheckpointError, load_model, model_checkpoint_state, save_checkpoint


class Payload:
    def __reduce__(self):
        return (print, ("this would run",))


def test_a_pickle_with_a_custom_class_is_refused_without_the_weights_only_advice(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"format": "vireid-checkpoint", "x": Payload()}, path)
    with pytest.raises(CheckpointError) as err:
        load_model(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and len(message) < 300
    assert "weights_only" not in message and "can still be loaded" not in message and "\x1b" not in message
    assert "objects other than tensors" in message
    assert "this would run" not in capsys.readouterr().out


@pytest.mark.parametrize("loader", [load_model, load_checkpoint_model])
def test_weights_of_another_shape_are_one_line(tmp_path, loader):
    model = build_model(ModelConfig(name=TINY_MODEL_NAME, pretrained="none"), num_classes=4)
    state = model_checkpoint_state(model)
    state["num_classes"] = 9  # the classifier in the file has 4 rows, the rebuilt model 9
    path = save_checkpoint(tmp_path / "wrong.pt", state)
    with pytest.raises(CheckpointError) as err:
        loader(path)
    message = str(err.value)
    assert "\n" not in message and len(message) < 400 and "weights do not match" in message
    assert "in the file" in message
