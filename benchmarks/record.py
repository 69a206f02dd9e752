"""Write a benchmark's table into its own section of docs/benchmarks.md (between markers)."""

import fcntl
import platform
import re
from pathlib import Path

import torch

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
            f"Python {platform.python_version()}")


def markdown_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def record(section: str, body: str) -> None:
    """Replace the text between <!-- section:start --> and <!-- section:end -->, or append."""
    DOC.parent.mkdir(exist_ok=True)
    # Benchmarks may run side by side: one writer at a time, or one's section could be lost.
    with open(DOC.parent / ".benchmarks.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _replace(section, body)


def record_rows(section: str, rows: list[list], note: str) -> None:
    """Replace, in a recorded table, the rows whose first cell is one of `rows`' first cells
    (all of a preset's rows at once), keep every other row, and add `note` (which command
    re-measured which rows, when) below the table: a rerun of a few presets need not redo a
    table that takes half an hour."""
    with open(DOC.parent / ".benchmarks.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = DOC.read_text()
        start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
        if start not in text:
            raise SystemExit(f"no recorded section {section!r} in {DOC}: record the whole "
                             "table first (without a preset list)")
        body = text[text.index(start) + len(start):text.index(end)].strip("\n")
        lines = body.splitlines()
        rerun = {str(r[0]) for r in rows}
        table = [i for i, line in enumerate(lines) if line.startswith("|")]
        first, last = table[0], table[-1]
        kept = [line for line in lines[first + 2:last + 1]
                if line.split("|")[1].strip() not in rerun]
        new = ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
        ordered = sorted(kept + new, key=lambda line: line.split("|")[1].strip().strip("`"))
        out = lines[:first + 2] + ordered + lines[last + 1:] + ["", note]
        _replace(section, "\n".join(out))


def _replace(section: str, body: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else f"{text.rstrip()}\n\n{block}\n"
    DOC.write_text(text)
    print(f"recorded in {DOC}")
