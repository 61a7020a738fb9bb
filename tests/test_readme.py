"""The README's transcripts are what the CLI prints now, and its test command is the one CI runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_transcripts_are_current() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "update_readme.py"), "--check"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    command = next(line.split("=", 1)[1].strip('"') for line in ci.splitlines() if line.startswith("TEST_COMMAND="))
    assert command in (ROOT / "README.md").read_text().splitlines()
