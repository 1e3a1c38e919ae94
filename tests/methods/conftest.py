"""Fixtures shared by the method tests."""

import pytest
import torch


@pytest.fixture
def f64():
    """Double precision, so reference loops and implementations agree to tight tolerances."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)
