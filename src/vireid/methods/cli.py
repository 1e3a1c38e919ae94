"""``vireid methods``: every registered method and variant, where it comes from, what it needs.

The listing reads the method declarations only (torch-free, :mod:`vireid.methods.method`), so
it answers as fast as ``vireid --help``."""

from __future__ import annotations

import typer

HELP = """List the registered methods and their variants.

Each method is one package in vireid.methods; its variants are presets of its config (e.g.
the ablation rows of its paper). Presets follow one rule: `vireid train --preset VARIANT`
(paper scale), `VARIANT-DATASET` (for each dataset listed), `tiny-VARIANT` (CPU scale); also
`make train METHOD=VARIANT`. Paper tables listed here run with `vireid reproduce --table KEY`;
published numbers are the literature's, for the method's default variant.
"""


def describe() -> str:
    """The listing printed by ``vireid methods``."""
    from vireid.methods import list_methods, method_config

    lines = []
    for method in list_methods():
        lines.append(f"{method.name}: {method.summary}")
        lines.append(f"  paper: {method.paper}")
        if method.docs:
            lines.append(f"  docs: {method.docs}")
        lines.append(f"  datasets: {', '.join(method.datasets)}")
        if method.published.numbers:
            lines.append(f"  published ({method.published.source}), percent:")
            for dataset, settings in method.published.numbers.items():
                rows = "; ".join(f"{setting} " + " / ".join(f"{metric} {value}" for metric, value in metrics.items())
                                 for setting, metrics in settings.items())
                lines.append(f"    {dataset}: {rows}")
        for table in method.tables:
            rows = ", ".join(row.name for row in table.rows)
            lines.append(f"  table {table.key}: {table.title} (rows: {rows})")
        for variant in method.variants or ():
            needs = method.needs(method_config(variant.name)).captions
            inputs = f"captions of {' + '.join(needs)} images" if needs else "images only"
            lines.append(f"  {variant.name:<24} {variant.summary} [{inputs}]")
        lines.append("")
    return "\n".join(lines).rstrip()


def methods_command() -> None:
    typer.echo(describe())


def register(app: typer.Typer) -> None:
    """Add ``vireid methods`` to the root app."""
    app.command("methods", help=HELP)(methods_command)
