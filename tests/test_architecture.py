"""The package's import direction, read from the source (lazy imports inside functions too).

foundation -> datasets / manifests -> models / losses -> methods -> {captioning, training,
evaluation} -> report -> pipeline / reproduce -> cli. Evaluation never imports training or methods;
training may use evaluation's pure feature and metric functions for validation only.
Pretraining (the synthetic-web prior) sits beside evaluation, whose checks it runs; training
takes only its config and the location of its cached weights.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "vireid"
FOUNDATION = {"__init__", "errors", "config", "atomic", "fingerprint", "tokenizer", "progress", "rng", "lazy",
              "shards", "device", "owned", "schedules"}
ALLOWED: dict[str, set[str]] = {
    "foundation": {"foundation"},
    "manifests": {"foundation", "manifests"},
    "datasets": {"foundation", "manifests", "datasets"},
    "models": {"foundation", "manifests", "models"},
    "losses": {"foundation", "losses"},
    "methods": {"foundation", "manifests", "datasets", "models", "losses", "methods"},
    "captioning": {"foundation", "manifests", "datasets", "captioning"},
    "evaluation": {"foundation", "manifests", "datasets", "models", "evaluation"},
    "pretraining": {"foundation", "manifests", "datasets", "models", "losses", "evaluation", "pretraining"},
    "training": {"foundation", "manifests", "datasets", "models", "losses", "methods", "training",
                 "evaluation", "pretraining"},
    "inference": {"foundation", "manifests", "datasets", "models", "evaluation", "inference"},
    # report reads run folders; it rebuilds networks (activation maps) through evaluation/models
    "report": {"foundation", "manifests", "datasets", "models", "evaluation", "report"},
    "pipeline": {"foundation", "manifests", "datasets", "models", "methods", "captioning", "training",
                 "evaluation", "pretraining", "report", "pipeline"},
    "reproduce": {"foundation", "manifests", "datasets", "models", "methods", "captioning", "training",
                  "evaluation", "pretraining", "report", "pipeline", "reproduce"},
    "cli": set(),  # the root command may import anything
}
# What training may take from evaluation: pure feature composition and metrics (validation).
# The root package re-exports the Python API (``vireid.load``), lazily, on attribute access.
ROOT_EXPORTS = {"vireid.inference.api"}
TRAINING_FROM_EVALUATION = {"vireid.evaluation.features", "vireid.evaluation.retrieval",
                            "vireid.evaluation.metrics", "vireid.evaluation.ranking"}
# What training may take from pretraining: which prior a config names and where its file is.
TRAINING_FROM_PRETRAINING = {"vireid.pretraining.config", "vireid.pretraining.cache"}


def layer(module: str) -> str:
    """``vireid.training.engine`` -> ``training``; top-level foundation modules -> ``foundation``."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in FOUNDATION:
        return "foundation"
    if parts[1] in ("cli", "__main__"):
        return "cli"
    return parts[1]


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m == "vireid" or m.startswith("vireid.")}


def modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        out.append((".".join(rel.parts).removesuffix(".__init__"), path))
    return out


def stage_cli(module: str) -> bool:
    # A stage's own cli.py registers commands; it sits at the command layer of its package.
    return module.endswith(".cli") and module.count(".") == 2


@pytest.mark.parametrize("module, path", modules(), ids=[m for m, _ in modules()])
def test_imports_follow_the_layering(module, path):
    own = layer(module)
    if own == "cli":
        return
    allowed = ALLOWED[own]
    bad = []
    for target in imports_of(path):
        other = layer(target)
        if stage_cli(module) and other in ("foundation", "cli"):
            continue
        if module == "vireid" and target in ROOT_EXPORTS:
            continue
        if other not in allowed:
            bad.append(target)
        elif own == "training" and other == "evaluation" and target not in TRAINING_FROM_EVALUATION:
            bad.append(target)
        elif own == "training" and other == "pretraining" and target not in TRAINING_FROM_PRETRAINING:
            bad.append(target)
    assert not bad, f"{module} ({own}) must not import {sorted(bad)}"


def test_there_are_no_cycles_between_layers():
    graph: dict[str, set[str]] = {}
    for module, path in modules():
        src = layer(module)
        targets = imports_of(path) - (ROOT_EXPORTS if module == "vireid" else set())
        graph.setdefault(src, set()).update(layer(t) for t in targets if layer(t) != src)
    state: dict[str, int] = {}

    def visit(node, trail):
        state[node] = 1
        for nxt in graph.get(node, ()):
            assert state.get(nxt) != 1, f"import cycle: {' -> '.join(trail + [nxt])}"
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [node])


def module_imports(path: Path, known: set[str]) -> set[str]:
    """The vireid modules ``path`` imports: ``from a.b import c`` is ``a.b.c`` when that is a module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{alias.name}" for alias in node.names} & known
            found.update(subs or {node.module})
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in known}


def test_there_are_no_cycles_between_modules():
    known = {m for m, _ in modules()}
    # The root package only re-exports lazily (ROOT_EXPORTS, on attribute access), so the
    # modules that import ``vireid`` for its version do not close a cycle through it.
    graph = {m: module_imports(p, known) - {m} for m, p in modules() if m != "vireid"}
    state: dict[str, int] = {}

    def visit(node, trail):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            assert state.get(nxt) != 1, f"import cycle: {' -> '.join(trail[trail.index(nxt):] + [nxt])}"
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
