"""Progress that suits where the output goes.

On a terminal (``sys.stderr.isatty()``) a tqdm bar; otherwise (a log file, ``nohup``, a pipe)
no carriage-return noise: at most one plain line every ``every`` seconds (default 60), so a
long run's log grows by a few lines a minute instead of hundreds of bytes per batch.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

LOG_EVERY_S = 60.0


def interactive(stream: TextIO | None = None) -> bool:
    """True when ``stream`` (default stderr) is a terminal."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Ticker:
    """Prints ``"<desc>: n/total unit (k/s) key=value ..."`` at most once per ``every`` seconds."""

    def __init__(self, desc: str, total: int | None = None, unit: str = "it", *, enabled: bool = True,
                 every: float = LOG_EVERY_S, stream: TextIO | None = None):
        self.desc, self.total, self.unit, self.enabled = desc, total, unit, enabled
        self.every, self.stream = every, stream
        self.n = 0
        self.start = self.last = time.monotonic()

    def update(self, n: int = 1, **postfix: Any) -> None:
        self.n += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < self.every:
            return
        self.last = now
        rate = self.n / max(now - self.start, 1e-9)
        of = f"/{self.total}" if self.total else ""
        extra = "".join(f" {k}={v}" for k, v in postfix.items())
        print(f"{self.desc}: {self.n}{of} {self.unit} ({rate:.1f} {self.unit}/s){extra}",
              file=self.stream or sys.stderr, flush=True)


def quiet_library_bars() -> None:
    """Off a terminal, silence the bars that libraries draw themselves (transformers' "Loading
    weights" / "Writing model shards", huggingface_hub downloads, plain tqdm).

    Their environment switches (``TQDM_DISABLE``, ``HF_HUB_DISABLE_PROGRESS_BARS``) are read
    once, when the library is first imported, which may have happened before the command
    started; so the code about to call such a library calls this, and the libraries already
    imported are switched off directly.
    """
    if interactive():
        return
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    if "transformers" in sys.modules:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()


class Bar:
    """A count-up progress display for work done in chunks: a tqdm bar on a terminal, else a
    :class:`Ticker` line at most every ``every`` seconds; nothing when not ``enabled``."""

    def __init__(self, desc: str, total: int | None = None, unit: str = "it", *, enabled: bool = True,
                 every: float = LOG_EVERY_S):
        self._bar = None
        self._ticker = Ticker(desc, total, unit, enabled=enabled and not interactive(), every=every)
        if enabled and interactive():
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit, dynamic_ncols=True)

    def update(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)
        self._ticker.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def progress(iterable: Iterable, *, total: int | None = None, desc: str = "", unit: str = "it",
             enabled: bool = True, every: float = LOG_EVERY_S) -> Iterator:
    """``iterable`` with a tqdm bar on a terminal, else with a :class:`Ticker` line per ``every`` s."""
    if enabled and interactive():
        from tqdm.auto import tqdm

        yield from tqdm(iterable, total=total, desc=desc, unit=unit, leave=False)
        return
    ticker = Ticker(desc, total, unit, enabled=enabled, every=every)
    for item in iterable:
        yield item
        ticker.update()
