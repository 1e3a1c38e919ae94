"""The manifest schemas are the stages' contract: pin the columns others rely on."""

from vireid.manifests import CAPTION_SCHEMA, IMAGE_INDEX_SCHEMA, MODALITIES, SPLITS


def test_image_index_columns():
    assert IMAGE_INDEX_SCHEMA.names == ["image_id", "dataset", "path", "modality", "pid", "label",
                                        "camera", "split", "trial"]
    assert IMAGE_INDEX_SCHEMA.field("trial").nullable and not IMAGE_INDEX_SCHEMA.field("pid").nullable


def test_caption_columns_join_the_index_on_image_id():
    assert CAPTION_SCHEMA.names[0] == "image_id"
    for name in ("caption", "num_tokens", "truncated", "source", "created_at", "error"):
        assert name in CAPTION_SCHEMA.names
    assert CAPTION_SCHEMA.field("caption").nullable  # null when error is set


def test_vocabularies():
    assert MODALITIES == ("visible", "infrared") and SPLITS == ("train", "val", "test")
