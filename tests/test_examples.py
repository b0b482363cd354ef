"""The examples run, so they never go stale: the loan-approval script and the notebook's code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_loan_approval_script():
    ok = subprocess.run([sys.executable, str(EXAMPLES / "loan_approval.py"), "RC-SPIN=1000000"],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and ok.stdout.startswith("APPROVED RC-SPIN loan 1,000,000 CNY")
    no = subprocess.run([sys.executable, str(EXAMPLES / "loan_approval.py")],
                        capture_output=True, text=True, check=False)
    assert no.returncode == 3 and "DECLINED YP-NMG" in no.stdout


def test_notebook_code_cells_run_in_order():
    nb = json.loads((EXAMPLES / "ningxia_walkthrough.ipynb").read_text(encoding="utf-8"))
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(code) >= 8
    text = "".join(code)
    assert 'policy="cn_cbirc_2018"' in text  # a Chinese policy on the Chinese book (#14.8)
    assert "matplotlib.use" not in text  # nothing stops Jupyter drawing the figures inline
    figures = [o for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(figures) >= 2  # the stored outputs show the charts
    namespace: dict[str, object] = {}
    import matplotlib.pyplot as plt

    for source in code:
        exec(compile(source, "ningxia_walkthrough.ipynb", "exec"), namespace)
    plt.close("all")
    assert namespace["decision"].approved  # type: ignore[attr-defined]
