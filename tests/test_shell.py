"""tripkb shell: lines parsed like 'tripkb search' arguments, completion from the vocabulary, and
the command itself driven through a real pseudo-terminal."""

from __future__ import annotations

import codecs
import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest

from conftest import REPO, tripkb_env
from tripkb.errors import QueryError, UsageError
from tripkb.meta.vocab import Vocabulary
from tripkb.query.search import Filters, search
from tripkb.query.session import Session, completions, parse_line

PROMPT = "tripkb>"  # its space is drawn by moving the cursor
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][A-Z0-9]|\x1b[=>]|\r")


def test_a_line_holds_the_query_as_written_and_the_options_of_search():
    line = parse_line('"annual conference" OR 年會 -IFLA --org IFLA --since=2005 -n 3 --country "美國" '
                      '--sector library')
    assert line.query == '"annual conference" OR 年會 -IFLA'
    assert line.filters == Filters(org="IFLA", since=2005, country="美國", sector="library")
    assert line.limit == 3 and line.command is None
    assert parse_line("  ") is None
    assert parse_line(":q").command == ":quit" and parse_line(":help").command == ":help"


@pytest.mark.parametrize("text, message", [("年會 --since", "--since needs a value"),
                                           ("年會 --since 二〇〇五", "whole number"),
                                           ("--org IFLA", "give a word"),
                                           (":nonsense", "unknown command")])
def test_a_line_that_cannot_be_read_is_one_usage_error(text, message):
    with pytest.raises(UsageError, match=message):
        parse_line(text)


def test_completion_offers_the_vocabulary_s_names_options_and_fields():
    vocab = Vocabulary.load()
    assert completions(vocab, "年會 --org IFL")[0] == "IFLA"
    assert "org:IFLA" in completions(vocab, "年會 org:if")
    assert "美利堅合眾國" in completions(vocab, "數位典藏 --country 美利")
    assert "國家圖書館" in completions(vocab, "館藏 --institution 國家圖")
    assert completions(vocab, "年會 --cou") == ["--country"]
    assert completions(vocab, "tit") == ["title:"]
    assert completions(vocab, "國家圖書館") == []


def test_the_session_finds_what_search_finds_and_sees_a_sidecar_edited_between_lines(sample_kb):
    with Session(sample_kb) as session:
        for text in ("圖書館 --org IFLA --since 2005", "國際圖書館協會聯盟", "org:IFLA 年會"):
            line = parse_line(text)
            assert session.search(line).to_json() == search(sample_kb, line.query, line.filters,
                                                            line.limit).to_json()
        sidecar = sample_kb.corpus / "EX0960003.yaml"
        sidecar.write_text(sidecar.read_text(encoding="utf-8").replace("title:", "title: 獨一無二的標題詞彙", 1),
                           encoding="utf-8")
        assert [h.id for h in session.search(parse_line("獨一無二的標題詞彙")).hits] == ["EX0960003"]
        with pytest.raises(QueryError):
            session.search(parse_line("year:abc 年會"))


class Terminal:
    """``python -m tripkb ARGS`` on a pseudo-terminal, read and typed into like a person would."""

    def __init__(self, *args: str, env: dict[str, str]):
        self.fd, child = pty.openpty()
        os.set_blocking(self.fd, False)
        self.process = subprocess.Popen([sys.executable, "-m", "tripkb", *args], stdin=child, stdout=child,
                                        stderr=child, env=env, close_fds=True, start_new_session=True)
        os.close(child)
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")  # a character may come in two reads
        self.raw = ""
        self.read = 0  # how much of the text shown (escape sequences removed) has been read

    def read_until(self, text: str, timeout: float = 120) -> str:
        """Everything shown from what was last read until ``text`` appears (escape sequences
        removed, from the whole output: one may come in two reads)."""
        deadline = time.monotonic() + timeout
        while True:
            shown = _ESCAPES.sub("", self.raw)
            at = shown.find(text, self.read)
            if at >= 0:
                start, self.read = self.read, at + len(text)
                return shown[start:at]
            if time.monotonic() > deadline or self.process.poll() is not None and not select.select([self.fd], [], [], 0)[0]:
                raise AssertionError(f"{text!r} not shown; the terminal shows: {shown[self.read:]!r}")
            if select.select([self.fd], [], [], 0.2)[0]:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:  # the child has gone and the terminal closed
                    data = b""
                self.raw += self.decoder.decode(data)

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode("utf-8"))

    def enter(self, line: str) -> str:
        """Type ``line``, wait for it to be shown (the prompt, with its name, is redrawn at
        every key), then Enter: what is shown until the next prompt."""
        self.type(line)
        self.read_until(line)
        return self.submit()

    def submit(self) -> str:
        """Enter: what the line brought, shown until the next prompt."""
        self.type("\r")
        self.read_until("\n")  # the line drawn once more as entered
        return self.read_until(PROMPT)

    def close(self) -> int:
        try:
            return self.process.wait(timeout=60)
        finally:
            os.close(self.fd)


@pytest.fixture
def terminal_env(tmp_path):
    return tripkb_env(PYTHONPATH=str(REPO), XDG_DATA_HOME=str(tmp_path / "data"), TERM="xterm",
                      PROMPT_TOOLKIT_NO_CPR="1", COLUMNS="200", LINES="50")


def test_the_shell_on_a_terminal_searches_completes_reports_errors_and_quits(sample_kb, terminal_env, tmp_path):
    term = Terminal("--kb", str(sample_kb.root), "shell", env=terminal_env)
    term.read_until(PROMPT)
    shown = term.enter("國際圖書館協會聯盟 --org IFLA --since 2005")
    expected = search(sample_kb, "國際圖書館協會聯盟", Filters(org="IFLA", since=2005))
    assert f"{expected.total} documents match" in shown
    assert all(f"[{hit.id}]" in shown for hit in expected.hits)
    shown = term.enter("年會 --since")  # a mistake: one line, and the shell goes on
    assert "Error: --since needs a value" in shown and "Traceback" not in shown
    term.type("圖書館 --country 美利\t")  # Tab completes the only country name that starts so
    term.read_until("--country 美利堅合眾國")
    shown = term.submit()
    in_usa = search(sample_kb, "圖書館", Filters(country="美國"))
    assert in_usa.total and f"{in_usa.total} documents match" in shown
    assert "--institution" in term.enter(":help")
    term.type(":quit\r")
    assert term.close() == 0
    history = (tmp_path / "data" / "tripkb" / "shell_history").read_text(encoding="utf-8")
    assert "+國際圖書館協會聯盟 --org IFLA --since 2005" in history
    assert oct((tmp_path / "data" / "tripkb" / "shell_history").stat().st_mode & 0o777) == "0o600"


def test_ctrl_d_leaves_the_shell_and_a_linked_history_is_not_followed(sample_kb, terminal_env, tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("", encoding="utf-8")
    (tmp_path / "data" / "tripkb").mkdir(parents=True)
    (tmp_path / "data" / "tripkb" / "shell_history").symlink_to(target)
    term = Terminal("--kb", str(sample_kb.root), "shell", env=terminal_env)
    assert "history is not kept" in term.read_until(PROMPT)
    assert "documents match" in term.enter("圖書館")
    term.type("\x04")
    assert term.close() == 0
    assert target.read_text(encoding="utf-8") == ""


def test_lines_piped_in_are_searched_one_by_one_without_a_prompt(sample_kb, terminal_env):
    run = subprocess.run([sys.executable, "-m", "tripkb", "--kb", str(sample_kb.root), "shell"], text=True,
                         input="國際圖書館協會聯盟 --org IFLA -n 1\n年會 --since x\n圖書館 --country 美國\n",
                         capture_output=True, env=terminal_env, timeout=300)
    assert run.returncode == 0 and PROMPT not in run.stdout
    first = search(sample_kb, "國際圖書館協會聯盟", Filters(org="IFLA"), limit=1)
    third = search(sample_kb, "圖書館", Filters(country="美國"))
    assert f"{first.total} documents match 國際圖書館協會聯盟 (showing 1)" in run.stdout
    assert f"{third.total} documents match 圖書館" in run.stdout
    assert run.stderr.count("Error: ") == 1 and "--since needs a whole number" in run.stderr
