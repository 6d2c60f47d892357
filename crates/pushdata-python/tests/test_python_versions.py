"""The package's Python code runs on every Python it declares (`requires-python`), checked
statically with vermin, since CI has one interpreter (3.11)."""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess
import sys

import pytest

CRATE = pathlib.Path(__file__).resolve().parents[1]


def declared_minimum() -> str:
    text = (CRATE / "pyproject.toml").read_text()
    found = re.search(r'requires-python\s*=\s*">=(\d+\.\d+)"', text)
    assert found, "pyproject.toml declares no requires-python lower bound"
    return found.group(1)


def test_the_python_sources_need_no_newer_python_than_declared():
    vermin = shutil.which("vermin") or shutil.which("vermin", path=str(pathlib.Path(sys.executable).parent))
    if vermin is None:
        pytest.skip("vermin is not installed (pip install vermin)")
    minimum = declared_minimum()
    sources = [CRATE / "python", CRATE / "tests", CRATE.parents[1] / "examples" / "python"]
    run = subprocess.run([vermin, "--no-tips", "--violations", "--eval-annotations",
                          f"--target={minimum}-", *map(str, sources)],
                         capture_output=True, text=True)
    # vermin exits non-zero when a file needs a newer Python than the target.
    assert run.returncode == 0, f"needs a Python newer than {minimum}:\n{run.stdout}{run.stderr}"
