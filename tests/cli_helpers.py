"""Running the `rlvr` command in-process in tests."""

from __future__ import annotations

from rlvr.cli import main as rlvr


def one_line_error(capsys, *argv: str) -> str:
    """Run `rlvr ARGV`, assert it failed as a user mistake does (exit 2, one line on stderr), return that line."""
    assert rlvr(list(argv)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err
