"""vireid.device.resolve_device: the one device check every stage uses."""

import pytest
import torch

from vireid.device import resolve_device
from vireid.errors import ConfigError


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def two_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)


def test_auto_and_cpu_resolve_without_a_gpu(no_gpu):
    assert resolve_device("auto") == resolve_device(None) == resolve_device(" CPU ") == "cpu"


@pytest.mark.parametrize("name, message", [
    ("cuda", "'cuda' asked for, but no CUDA device is available here"),
    ("cuda:1", "'cuda:1' asked for, but no CUDA device is available here"),
    ("foo", "'foo' is not a device; use auto, cpu, cuda or cuda:N"),
    ("meta", "'meta' is not supported"),
])
def test_a_device_this_machine_lacks_is_one_line_naming_the_flag(no_gpu, name, message):
    with pytest.raises(ConfigError) as err:
        resolve_device(name, key="--device")
    assert str(err.value).startswith("--device: ") and message in str(err.value) and "\n" not in str(err.value)


def test_a_gpu_index_past_the_last_gpu_names_the_ones_there_are(two_gpus):
    assert resolve_device("auto") == "cuda" and resolve_device("cuda:1") == "cuda:1"
    with pytest.raises(ConfigError, match=r"has 2 CUDA devices \(cuda:0..cuda:1\)"):
        resolve_device("cuda:2")
