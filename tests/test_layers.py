"""The package's layers only look down: a module never imports one from a higher layer.

    artifacts, errors, progress, rundir, stats, threads  <-  config, data, models, losses, augment, viz, video
    <-  generator handle, pretrained  <-  metrics  <-  training
    <-  sample, explore, report, robust  <-  cli, api

One edge climbs on purpose: the package's front door (`gankit/__init__.py`) reaches the Python
API (`gankit.api`) lazily, on first use of `gankit.load`/`show`/`train(...)` (PEP 562), so
`import gankit` stays light; that edge is named in ALLOWED, and nothing else may climb.

Every import counts, also one written inside a function (the standard library's `ast` reads
them all), so a loop cannot hide in a function body.
"""

import ast
from pathlib import Path

import gankit

PACKAGE = Path(gankit.__file__).parent
LAYERS = [
    {"__init__", "artifacts", "errors", "progress", "rundir", "stats", "threads"},
    {"config", "data", "models", "losses", "augment", "viz", "video"},
    {"generator", "pretrained"},
    {"metrics"},
    {"training"},
    {"sample", "explore", "report", "robust"},
    {"cli", "__main__", "api"},
]
ALLOWED = {("__init__", "api")}  # lazy, in functions: see the notes above
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def top(module: str) -> str:
    """gankit.training.loop -> training; gankit -> __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, gankit module) for every import of gankit in a file, relative ones resolved."""
    tree = ast.parse(path.read_text())
    here = "gankit." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("gankit")]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = here.split(".")[:-node.level] if path.name != "__init__.py" else \
                    here.split(".")[:len(here.split(".")) - node.level + 1]
                module = ".".join(base + ([module] if module else []))
            if module.startswith("gankit"):
                found.append((node.lineno, module))
    return found


def test_every_top_level_module_has_a_layer():
    names = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py") or (p.is_dir() and (p / "__init__.py").is_file())}
    assert names <= set(RANK), f"put {sorted(names - set(RANK))} in a layer of this test"


def test_no_import_climbs_a_layer():
    climbing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        me = top("gankit." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
        for line, module in imports(path):
            other = top(module)
            if other in RANK and RANK[other] > RANK[me] and (me, other) not in ALLOWED:
                climbing.append(f"{path.relative_to(PACKAGE)}:{line} imports {module}")
    assert not climbing, "imports that climb a layer:\n" + "\n".join(climbing)


def test_the_rule_catches_a_climbing_import(tmp_path, monkeypatch):
    """The check itself can fail: a data module importing the trainer is caught."""
    fake = PACKAGE / "data" / "_layer_probe.py"
    assert not fake.exists()
    try:
        fake.write_text("def f():\n    from gankit.training import loop  # hidden in a function\n")
        with_probe = [m for _, m in imports(fake)]
        assert with_probe == ["gankit.training"]
        assert RANK[top("gankit.training")] > RANK[top("gankit.data._layer_probe")]
    finally:
        fake.unlink()


def test_an_import_inside_a_function_says_why():
    """Imports inside functions are for start-up speed or optional extras only, and say so
    (a comment on the line or on one of the three above, for a group of imports); cli.py is
    made of such functions."""
    silent = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in ("cli.py", "_layer_probe.py"):
            continue
        text = path.read_text()
        lines = text.splitlines()
        for func in ast.walk(ast.parse(text)):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    here = lines[node.lineno - 1]
                    if not any("#" in line for line in lines[max(node.lineno - 4, 0):node.lineno]):
                        silent.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {here.strip()}")
    assert not silent, "imports inside functions without a reason:\n" + "\n".join(silent)
