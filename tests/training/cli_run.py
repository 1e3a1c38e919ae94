"""Running `vireid train` in-process, as a user would from the shell."""

import sys

from vireid import cli


def run_cli(monkeypatch, capsys, *args):
    """``(exit code, stdout, stderr)`` of ``vireid train ARGS``."""
    return run_vireid(monkeypatch, capsys, "train", *args)


def run_vireid(monkeypatch, capsys, *args):
    """``(exit code, stdout, stderr)`` of ``vireid ARGS`` run as from the shell."""
    monkeypatch.setattr(sys, "argv", ["vireid", *map(str, args)])
    code = 0
    try:
        cli.main()
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err
