"""Statistics of a caption manifest: what a user checks before training on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vireid.manifests import read_manifest


def manifest_summary(path: str | Path) -> dict[str, Any]:
    """Images, errors (listed), truncated captions and mean caption length in CLIP tokens."""
    table = read_manifest(path, "captions")
    rows = table.select(["image_id", "path", "num_tokens", "truncated", "error"]).to_pylist()
    ok = [r for r in rows if r["error"] is None]
    tokens = [r["num_tokens"] for r in ok if r["num_tokens"] is not None]
    return {
        "manifest": str(path),
        "complete": True,
        "images": len(rows),
        "captioned": len(ok),
        "errors": len(rows) - len(ok),
        "truncated": sum(1 for r in ok if r["truncated"]),
        "mean_tokens": round(sum(tokens) / len(tokens), 2) if tokens else None,
        "error_images": [{"image_id": r["image_id"], "path": r["path"], "error": r["error"]}
                         for r in rows if r["error"] is not None],
    }


def format_summary(summary: dict[str, Any]) -> str:
    """A few human-readable lines for the end of a run."""
    lines = [f"images {summary.get('images', 0)}, captioned {summary.get('captioned', 0)}, "
             f"errors {summary.get('errors', 0)}, truncated (>77 CLIP tokens) "
             f"{summary.get('truncated', 0)}, mean tokens {summary.get('mean_tokens')}"]
    run = summary.get("run")
    if run:
        lines.append(f"this run: {run['images_this_run']} images in {run['wall_s']:.1f} s "
                     f"({run['images_per_s']:.2f} images/s)")
    for err in summary.get("error_images", [])[:20]:
        lines.append(f"  unreadable: {err['error']}")
    extra = len(summary.get("error_images", [])) - 20
    if extra > 0:
        lines.append(f"  ... and {extra} more (see the summary JSON)")
    if summary.get("manifest"):
        lines.append(f"manifest: {summary['manifest']}")
    return "\n".join(lines)
