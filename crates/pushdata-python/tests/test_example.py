"""examples/python/quickstart.py runs as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "python" / "quickstart.py"


def test_quickstart_runs(tmp_path):
    done = subprocess.run([sys.executable, str(EXAMPLE)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "rows in Veracity" in done.stdout
    assert "ApiError: HTTP 404 ERR004" in done.stdout
