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
    lines = [table_row(header), "|" + "---|" * len(header)] + [table_row(r) for r in rows]
    return "\n".join(lines)


def table_row(cells: list) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def first_cell(line: str) -> str:
    return line.split("|")[1].strip()


def record(section: str, body: str) -> None:
    """Replace the text between <!-- section:start --> and <!-- section:end -->, or append."""
    DOC.parent.mkdir(exist_ok=True)
    # Benchmarks may run side by side: one writer at a time, or one's section could be lost.
    with open(DOC.parent / ".benchmarks.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _replace(section, body)


def markers(section: str) -> tuple[str, str]:
    return f"<!-- {section}:start -->", f"<!-- {section}:end -->"


def section_body(section: str) -> str | None:
    """The text between a section's markers in docs/benchmarks.md; None where it has none."""
    text = DOC.read_text() if DOC.is_file() else ""
    start, end = markers(section)
    if start not in text:
        return None
    return text.split(start, 1)[1].split(end, 1)[0].strip("\n")


def key_of(line: str, cells: int) -> tuple[str, ...]:
    return tuple(c.strip() for c in line.split("|")[1:1 + cells])


def record_rows(section: str, rows: list[list], note: str, key_cells: int = 1) -> None:
    """Replace, in a recorded table, the rows whose first `key_cells` cells are those of one
    of `rows` (with 1, all of a preset's rows at once), keep every other row, and add `note`
    (which command re-measured which rows, when) below the table: a rerun of a few presets
    need not redo a table that takes half an hour. A note "X rerun on DATE: ..." replaces an
    earlier note on the same X, whose rows it has replaced."""
    with open(DOC.parent / ".benchmarks.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        body = section_body(section)
        if body is None:
            raise SystemExit(f"no recorded section {section!r} in {DOC}: record the whole "
                             "table first (without a preset list)")
        lines = body.splitlines()
        table = [i for i, line in enumerate(lines) if line.startswith("|")]
        first, last = table[0], table[-1]                  # header, separator, rows..., last row
        new = [table_row(r) for r in rows]
        rerun = {key_of(line, key_cells) for line in new}
        kept = [line for line in lines[first + 2:last + 1]
                if key_of(line, key_cells) not in rerun]
        ordered = sorted(kept + new, key=lambda line: [int(c) if c.isdigit() else c.strip("`")
                                                       for c in key_of(line, key_cells)])
        after = lines[last + 1:]
        if " rerun on " in note:
            same = note.split(" rerun on ")[0] + " rerun on "
            after = [line for line in after if not line.startswith(same)]
        while after and not after[-1].strip():
            after.pop()
        _replace(section, "\n".join(lines[:first + 2] + ordered + after + ["", note]))


def _replace(section: str, body: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    start, end = markers(section)
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else f"{text.rstrip()}\n\n{block}\n"
    DOC.write_text(text)
    print(f"recorded in {DOC}")
