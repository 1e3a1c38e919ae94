"""The torch-free dataset names are the registry's datasets, in its order."""

from vireid.datasets.names import DATASET_NAMES
from vireid.datasets.registry import DATASETS


def test_dataset_names_are_the_registered_datasets_in_order():
    assert DATASET_NAMES == tuple(DATASETS)
