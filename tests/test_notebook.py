"""The docs' example notebook runs, top to bottom, and shows each report."""
import os

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..")
NOTEBOOK = os.path.join(ROOT, "docs", "examples", "api.ipynb")


def test_the_api_notebook_runs_and_renders_each_report():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": ROOT}})
    client.execute()
    shown = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", output
            data = output.get("data", {})
            if "text/html" in data and "<b>focal " in data["text/html"]:
                kind = data["text/html"].split("<b>focal ")[1].split("<")[0]
                shown[kind] = data["text/html"]
    assert set(shown) == {"score", "compare", "curve", "explore"}
    assert all("<table" in html for html in shown.values())
    printed = [o.get("text", "") for c in notebook.cells for o in c.get("outputs", [])]
    assert any("<targets>: has 578 targets" in text for text in printed)
