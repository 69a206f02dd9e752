"""Benchmarks rewrite their own section of docs/benchmarks.md and nothing else."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import record  # noqa: E402

DOC = """# Benchmarks

before

<!-- speed-shared:start -->
Command: `python benchmarks/speed.py --shared --record`.

| preset | threads | img/s |
|---|---|---|
| `a` | own | 1 |
| `a` | one | 2 |
| `b` | own | 3 |
| `b` | one | 4 |
| `b-small` | own | 5 |
<!-- speed-shared:end -->

after
"""


def test_record_rows_replaces_one_presets_rows_and_keeps_the_rest(tmp_path, monkeypatch):
    monkeypatch.setattr(record, "DOC", tmp_path / "benchmarks.md")
    record.DOC.write_text(DOC)
    record.record_rows("speed-shared", [["`b`", "own", 30], ["`b`", "one", 40]], "Rows of b rerun.")
    text = record.DOC.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert rows == ["| `a` | own | 1 |", "| `a` | one | 2 |", "| `b` | own | 30 |",
                    "| `b` | one | 40 |", "| `b-small` | own | 5 |"]
    assert "Command: `python benchmarks/speed.py --shared --record`." in text
    assert text.index("Rows of b rerun.") < text.index("<!-- speed-shared:end -->")
    assert text.startswith("# Benchmarks\n\nbefore\n") and text.endswith("after\n")


def test_record_rows_needs_the_whole_table_first(tmp_path, monkeypatch):
    monkeypatch.setattr(record, "DOC", tmp_path / "benchmarks.md")
    record.DOC.write_text("# Benchmarks\n")
    with pytest.raises(SystemExit, match="record the whole table first"):
        record.record_rows("speed-shared", [["`b`", "own", 30]], "note")
    assert record.DOC.read_text() == "# Benchmarks\n"
