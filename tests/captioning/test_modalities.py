"""`modalities` of a captioning run: caption only some modalities (e.g. visible only)."""

import pytest
from typer.testing import CliRunner

from vireid.captioning.cli import captions_app
from vireid.captioning.config import CaptionConfig
from vireid.captioning.runner import select_images
from vireid.errors import ConfigError, VireidError
from vireid.manifests import to_table

from .conftest import index_row


def _index():
    rows = [index_row(f"cam{1 if i % 2 == 0 else 3}/{i:04d}.jpg", "visible" if i % 2 == 0 else "infrared", pid=i)
            for i in range(6)]
    return rows, to_table(rows, "image-index")


def test_default_is_both_modalities_and_visible_only_keeps_visible_rows():
    rows, index = _index()
    assert CaptionConfig().modalities == ("visible", "infrared")
    assert len(select_images(index, ("train",), None, CaptionConfig().modalities)) == 6
    chosen = select_images(index, ("train",), None, ("visible",))
    assert [r["image_id"] for r in chosen] == [r["image_id"] for r in rows if r["modality"] == "visible"]
    assert len(select_images(index, ("train",), None)) == 6  # None = every modality


def test_bad_or_empty_modalities_are_config_errors():
    with pytest.raises(ConfigError, match="modalities"):
        CaptionConfig(modalities=("thermal",))
    with pytest.raises(ConfigError, match="modalities"):
        CaptionConfig(modalities=())
    rows, index = _index()
    only_ir = to_table([r for r in rows if r["modality"] == "infrared"], "image-index")
    with pytest.raises(VireidError, match="modality"):
        select_images(only_ir, ("train",), None, ("visible",))


def test_cli_documents_the_option():
    result = CliRunner().invoke(captions_app, ["--help"])
    assert "--modalities" in result.output
