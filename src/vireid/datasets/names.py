"""The names of the datasets vireid reads, without their scanners (which need numpy and PIL):
what the torch-free listings (``vireid methods``) name. ``datasets.registry.DATASETS`` holds
one spec per name, in this order."""

DATASET_NAMES = ("sysu", "regdb", "llcm", "custom")
