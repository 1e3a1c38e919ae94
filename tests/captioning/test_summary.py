"""The run summary counts errors, truncated captions and caption lengths."""

from vireid.captioning.summary import format_summary, manifest_summary
from vireid.manifests import to_table, write_manifest

from .test_writer import row


def test_summary_counts(tmp_path):
    long = row("d:c", "word " * 80)
    long["num_tokens"], long["truncated"] = 82, True
    rows = [row("d:a"), row("d:b", None, "d/b.jpg: empty file (0 bytes)"), long]
    path = write_manifest(to_table(rows, "captions"), tmp_path / "captions.parquet", "captions")
    summary = manifest_summary(path)
    assert (summary["images"], summary["captioned"], summary["errors"], summary["truncated"]) == (3, 2, 1, 1)
    assert summary["mean_tokens"] == 43.0
    assert summary["error_images"] == [{"image_id": "d:b", "path": "b", "error": "d/b.jpg: empty file (0 bytes)"}]
    text = format_summary(summary)
    assert "errors 1" in text and "empty file" in text
