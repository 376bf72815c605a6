"""Whole-process lookup time beside its yardsticks, all measured in one run (issue 20).

Prints the median wall and CPU time of ``tripkb search QUERY --json`` on a knowledge base (the
sample one, the checkout itself, by default; with ``--big DIR`` also on a larger one, such as the
2,000 reports ``bench.py --n 2000 --keep`` leaves) and of ``tripkb --help``, beside ``python -c
pass`` and ``python -c "import typer"``, and the ratios. The commands take turns, round after
round, so that a busy machine slows them all alike; CPU time (user + system of the child) moves
less with the load than wall time.

Then the time of one query inside ``tripkb shell`` on each knowledge base: the shell is run on a
pseudo-terminal, each query typed, and the time taken from Enter to the next prompt.

    python bench/lookup_bench.py [--rounds 15] [--kb DIR] [--big DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import pty
import select
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUERIES = ["圖書館", "國際圖書館協會聯盟", "annual conference", "数位典藏", "台北 OR 美國"]


def _env() -> dict[str, str]:
    """The checkout first on the path, and bytecode written as an installed package has it."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "TRIPKB_HOME")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    return env


def _run(args: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """Wall and CPU seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _shell_times(kb: str, env: dict[str, str], cwd: str, rounds: int) -> list[float]:
    """Seconds from Enter to the next prompt for each query typed into ``tripkb shell`` on a
    pseudo-terminal (each query once to warm up, then ``rounds`` times)."""
    fd, child = pty.openpty()
    env = dict(env, TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", COLUMNS="200", LINES="50")
    proc = subprocess.Popen([sys.executable, "-m", "tripkb", "--kb", kb, "shell", "--no-history"], stdin=child,
                            stdout=child, stderr=child, env=env, cwd=cwd, start_new_session=True)
    os.close(child)
    seen = bytearray()

    def until(marker: bytes) -> None:
        start = len(seen)
        while marker not in seen[start:]:
            if not select.select([fd], [], [], 60)[0]:
                raise RuntimeError(f"tripkb shell showed no {marker!r}: {bytes(seen[-300:])!r}")
            seen.extend(os.read(fd, 65536))
        del seen[:seen.index(marker, start) + len(marker)]

    times = []
    try:
        until(b"tripkb>")
        for n in range(rounds + 1):
            for query in QUERIES:
                os.write(fd, query.encode())
                until(query[-2:].encode())  # echoed
                start = time.perf_counter()
                os.write(fd, b"\r")
                until(b"\r\n")  # the line drawn as entered; then the results, then the prompt
                until(b"tripkb>")
                if n:
                    times.append(time.perf_counter() - start)
        os.write(fd, b"\x04")
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(fd)
    return times


def _commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--kb", type=Path, default=REPO, help="the knowledge base searched (default: the checkout)")
    parser.add_argument("--big", type=Path, help="a larger knowledge base, searched too (e.g. 2,000 reports)")
    options = parser.parse_args()
    env, python = _env(), sys.executable
    load_before = os.getloadavg()
    tripkb = [python, "-m", "tripkb"]
    with tempfile.TemporaryDirectory() as cwd:  # so that python -m finds the checkout by PYTHONPATH alone
        kbs = {"sample": str(options.kb.resolve())} | ({"big": str(options.big.resolve())} if options.big else {})
        kb = kbs["sample"]
        subprocess.run([python, "-m", "compileall", "-q", str(REPO / "tripkb")], env=env, check=True)
        for _ in range(3):  # the index built (or brought up to date), its stamps copied, folders recorded
            for where in kbs.values():
                for query in QUERIES:
                    _run(tripkb + ["--kb", where, "search", query, "--json"], env, cwd)
        cases = {
            "python -c pass": [[python, "-c", "pass"]],
            'python -c "import typer"': [[python, "-c", "import typer"]],
        } | {f"tripkb search --json, {label} ({len(QUERIES)} q.)": [tripkb + ["--kb", where, "search", q, "--json"]
                                                                   for q in QUERIES]
             for label, where in kbs.items()} | {"tripkb --help": [tripkb + ["--help"]]}
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for _ in range(options.rounds):
            for name, commands in cases.items():
                times[name] += [_run(command, env, cwd) for command in commands]
        shell = {label: _shell_times(where, env, cwd, max(1, options.rounds // 3)) for label, where in kbs.items()}
    wall = {name: statistics.median(w for w, _ in runs) * 1000 for name, runs in times.items()}
    cpu = {name: statistics.median(c for _, c in runs) * 1000 for name, runs in times.items()}
    base, typer = "python -c pass", 'python -c "import typer"'
    print(f"lookup bench: {options.rounds} rounds, commit {_commit()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")
    print(f"{'command':40} {'wall ms':>8} {'CPU ms':>8} {'wall × pass':>12} {'wall × typer':>13} {'CPU × typer':>12}")
    for name in cases:
        print(f"{name:40} {wall[name]:8.0f} {cpu[name]:8.0f} {wall[name] / wall[base]:12.2f} "
              f"{wall[name] / wall[typer]:13.2f} {cpu[name] / cpu[typer]:12.2f}")
    for label, runs in shell.items():
        print(f"{'tripkb shell, one query, ' + label:40} {statistics.median(runs) * 1000:8.0f} ms median, "
              f"{max(runs) * 1000:.0f} ms slowest of {len(runs)} (Enter to next prompt)")
    print("KBs: " + ", ".join(f"{label} {where}" for label, where in kbs.items()))
    print("load average (1, 5, 15 min) before: " + " ".join(f"{x:.2f}" for x in load_before)
          + "; after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
