"""The modality and split names every manifest uses, without pyarrow (command-line modules
validate options against them before any Parquet file is read)."""

MODALITIES = ("visible", "infrared")
# Row order and integer code of each modality wherever batches carry one (0 visible, 1 infrared).
MODALITY_INDEX = {name: index for index, name in enumerate(MODALITIES)}
SPLITS = ("train", "val", "test")
