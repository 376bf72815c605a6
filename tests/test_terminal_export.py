"""An export printed on a terminal is escaped like everything else shown there; piped, it is data."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO, tripkb_env

# OSC 52 would write the user's clipboard; ESC[2J would clear the screen.
HOSTILE = 'id: H1\ntitle: "年會\\e]52;c;aGk=\\a end"\nabstract: "clear\\e[2J"\n'


def _kb(tmp_path):
    corpus = tmp_path / "kb" / "corpus"
    corpus.mkdir(parents=True)
    (corpus / "h1.yaml").write_text(HOSTILE, encoding="utf-8")
    return tmp_path / "kb"


def _export(kb, *, terminal: bool) -> bytes:
    """``tripkb export --format csv`` with its standard output a pseudo-terminal or a pipe."""
    command = [sys.executable, "-m", "tripkb", "--kb", str(kb), "export", "--format", "csv"]
    env = tripkb_env(PYTHONPATH=str(REPO))
    if not terminal:
        return subprocess.run(command, capture_output=True, env=env, timeout=120, check=True).stdout
    leader, follower = os.openpty()
    try:
        done = subprocess.run(command, stdout=follower, stderr=subprocess.DEVNULL, env=env, timeout=120)
        os.close(follower)
        assert done.returncode == 0
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed and all was read
                break
            if not chunk:
                break
            shown += chunk
        return shown
    finally:
        os.close(leader)


def test_an_export_shown_on_a_terminal_has_no_control_characters(tmp_path):
    shown = _export(_kb(tmp_path), terminal=True)
    assert b"\x1b" not in shown and b"\x07" not in shown
    assert b"\\x1b]52;c;aGk=\\x07" in shown and "年會".encode() in shown


def test_an_export_piped_is_the_data_as_it_is(tmp_path):
    piped = _export(_kb(tmp_path), terminal=False)
    assert "年會\x1b]52;c;aGk=\x07 end".encode() in piped  # a file or a program gets the record unchanged
