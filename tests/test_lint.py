"""ruff over the whole tree, the import layers, and the size of a module,
as part of `make test` (their rules in pyproject.toml)."""
import glob
import os
import shutil
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..")


def test_ruff_finds_nothing():
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "focalcli", "tests", "docs",
                          "peers_tests", "benchmarks", "sample_data"],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_import_layers_hold():
    lint = shutil.which("lint-imports", path=os.path.dirname(sys.executable))
    assert lint, "import-linter is in the dev extra"
    run = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr



def test_no_module_is_past_500_lines():
    sizes = {path: sum(1 for _ in open(path, encoding="utf-8"))
             for path in glob.glob(os.path.join(ROOT, "focalcli", "**", "*.py"),
                                   recursive=True)}
    assert {os.path.relpath(p, ROOT): n for p, n in sizes.items() if n > 500} == {}


def test_no_function_is_past_80_lines():
    import ast
    long = []
    for path in glob.glob(os.path.join(ROOT, "focalcli", "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        long += [f"{os.path.relpath(path, ROOT)}:{n.name} ({n.end_lineno - n.lineno + 1})"
                 for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef,
                                                           ast.AsyncFunctionDef))
                 and n.end_lineno - n.lineno + 1 > 80]
    assert long == []
