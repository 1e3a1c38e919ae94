"""Write requirements/verified.txt: the exact versions of vireid's dependency tree in this venv.

``make lock`` runs it with the venv that just passed ``make test``; ``make setup LOCK=1``
installs exactly this set (as pip constraints). Only distributions reachable from vireid's
requirements (with the ``test`` extra) are listed, never whatever else the venv holds.
"""

from __future__ import annotations

import platform
import re
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement

OUT = Path(__file__).with_name("verified.txt")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def dependency_tree(root: str = "vireid", extras: tuple[str, ...] = ("test",)) -> dict[str, str]:
    """Installed version of every distribution ``root[extras]`` needs here, transitively."""
    found: dict[str, str] = {}
    pending = [(root, extras)]
    while pending:
        name, wanted = pending.pop()
        dist = distribution(name)
        for line in dist.requires or []:
            req = Requirement(line)
            environments = [{"extra": e} for e in wanted] or [{"extra": ""}]
            if req.marker and not any(req.marker.evaluate(env) for env in environments):
                continue
            key = _canonical(req.name)
            if key in found:
                continue
            try:
                found[key] = distribution(req.name).version
            except PackageNotFoundError:
                continue  # an optional requirement this platform's markers do not install
            pending.append((req.name, tuple(req.extras)))
    return found


def main() -> None:
    pins = dependency_tree()
    header = (f"# Written by `make lock` (requirements/lock.py) from the venv that passed `make test`.\n"
              f"# Python {platform.python_version()}, {platform.system()}-{platform.machine()}. "
              f"Install exactly this set: make setup LOCK=1\n")
    OUT.write_text(header + "".join(f"{name}=={pins[name]}\n" for name in sorted(pins)))
    print(f"wrote {OUT} ({len(pins)} distributions)", file=sys.stderr)


if __name__ == "__main__":
    main()
