"""The hardest queries of a run: ranked-list strips with correct marks, the captions of the
query and of its first wrong match, and activation maps of the evaluated checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vireid.report import html
from vireid.report.analysis import hardest_queries, ranked_gallery, removed_rows
from vireid.report.inputs import RunFolder
from vireid.report.replay import Replay

TOP = 10


def _captions(run: RunFolder) -> tuple[dict[str, str], str]:
    """path -> caption from the manifests training read; a reason when there are none."""
    from vireid.errors import VireidError
    from vireid.manifests import read_manifest

    manifests = run.caption_manifests()
    if not manifests:
        return {}, "this run trained without captions (no caption manifest in config.json)"
    found: dict[str, str] = {}
    problems = []
    for path in manifests:
        try:
            table = read_manifest(path, "captions")
        except VireidError as exc:
            problems.append(str(exc).splitlines()[0])
            continue
        found.update(zip(table.column("path").to_pylist(), table.column("caption").to_pylist()))
    return found, "; ".join(problems)


def _load_model(run: RunFolder, device: str) -> tuple[Any, str]:
    """The evaluated checkpoint's network, or None and why not."""
    from vireid.errors import VireidError
    from vireid.evaluation.checkpoint import load_checkpoint_model
    from vireid.report.activation import has_feature_map

    record = run.record or {}
    recorded = Path(str(record.get("checkpoint") or ""))
    # The run's own copy first: a moved or copied run folder keeps its checkpoints beside it.
    candidates = [run.path / "checkpoints" / recorded.name, recorded]
    path = next((p for p in candidates if recorded.name and p.is_file()), None)
    if path is None:
        return None, f"the evaluated checkpoint {recorded} is not on disk: no activation maps"
    try:
        model, meta = load_checkpoint_model(path, device)
    except VireidError as exc:
        return None, f"no activation maps: {str(exc).splitlines()[0]}"
    if record.get("checkpoint_sha256") and meta["checkpoint_sha256"] != record["checkpoint_sha256"]:
        return None, (f"{path} changed since it was evaluated (sha256 differs from results.json): "
                      f"no activation maps")
    if not has_feature_map(model):
        return None, f"{type(model).__name__} exposes no feature_map: no activation maps"
    return model, ""


def hardest_section(run: RunFolder, rep: Replay, count: int, device: str) -> str:
    from vireid.report.activation import activation_maps, load_tile
    from vireid.report.figures import ranked_strips

    first = rep.first
    query, gallery, distmat, result = first["query"], first["gallery"], first["distmat"], first["result"]
    setting = first["setting"]
    picks = hardest_queries(result, count)
    if not len(picks):
        return html.note("no valid query: nothing to rank")
    removed = removed_rows(setting.protocol, query, picks, gallery)
    root = Path(run.record["root"])
    model, why_no_maps = _load_model(run, device)
    captions, why_no_captions = _captions(run)
    orders = [ranked_gallery(distmat[qi], None if removed is None else removed[n], TOP)
              for n, qi in enumerate(picks)]
    paths = [p for qi, order in zip(picks, orders) for p in [query.paths[qi], *(gallery.paths[g] for g in order)]]
    mods = [m for order in orders for m in [query.modality, *([gallery.modality] * len(order))]]
    if model is not None:   # one pass over every strip's images
        images, maps = activation_maps(model, root, paths, mods, device)
    else:
        images, maps = [load_tile(root, p, (128, 64)) for p in paths], None
    strips, caption_rows, at = [], [], 0
    for qi, order in zip(picks, orders):
        span = slice(at, at + 1 + len(order))
        at = span.stop
        correct = [bool(gallery.pids[g] == query.pids[qi]) for g in order]
        strips.append({"query": images[span][0], "gallery": images[span][1:],
                       "maps": maps[span] if maps is not None else None, "correct": correct,
                       "query_pid": int(query.pids[qi]), "gallery_pids": [int(gallery.pids[g]) for g in order],
                       "ap": float(result.ap[qi])})
        wrong = next((g for g, ok in zip(order, correct) if not ok), None)
        caption_rows.append((query.paths[qi], int(query.pids[qi]), f"{result.ap[qi]:.3f}", int(result.first_rank[qi]),
                             captions.get(query.paths[qi], "-"),
                             gallery.paths[wrong] if wrong is not None else "-",
                             captions.get(gallery.paths[wrong], "-") if wrong is not None else "-"))
    notes = [f"{setting.title}, trial {first['trial']}: the {len(picks)} valid queries of lowest AP; "
             f"top {TOP} after the protocol's removal; green = same identity, red = another; "
             + ("second row of each: last conv block activation norm (visactmap)" if model is not None else why_no_maps)]
    if not captions:
        notes.append(f"no captions shown: {why_no_captions or 'the manifests hold none of these images'}")
    return (ranked_strips(strips) + "".join(html.note(n) for n in notes)
            + html.table(["query", "id", "AP", "first match rank", "query caption", "first wrong match",
                          "its caption"], caption_rows, left=7))
