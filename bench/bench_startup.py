"""Start-up, formula-time and memory benchmark for paramscope, against the usual transformers + torch way.

Run with the interpreter that has paramscope installed:  python bench/bench_startup.py [--runs N] [--usual-runs M]

What is measured, in one run:
1. CLI start-up: wall time of ``python -c pass`` (the interpreter's floor), ``python -c "import paramscope.cli"``,
   ``paramscope --version`` and ``paramscope bert-base-uncased``, each a fresh subprocess of this same python
   (the console script is run as ``sys.executable SCRIPT``); median and minimum of --runs runs, and peak RSS.
   Also a check, in a subprocess, that importing paramscope.cli and calling
   ``paramscope.cli.run(["bert-base-uncased"])`` leaves torch, transformers, tensorflow and numpy out of
   sys.modules; if any is loaded the script says "yes" and exits with status 1.
2. Formula time in-process: ``paramscope.inspect(name)`` plus reading .parameters, .tree and .formula_rows,
   a new Anatomy each call (nothing is cached across calls); median of --runs calls after one first call,
   which is reported on its own (it pays for paramscope's lazy imports).
3. The usual way, for comparison: a subprocess that imports transformers and torch, builds
   ``transformers.BertModel(transformers.BertConfig())`` (CPU, real fp32 weights, random init) and counts
   ``sum(p.numel() for p in model.parameters())``; median wall time of --usual-runs runs. Skipped, without
   failing, when transformers or torch cannot be imported.

Each measured child is started by a small launcher, a bare ``python -I -S`` (LAUNCHER below), that times it
(perf_counter around posix_spawn + wait4) and reads that child's own resource usage from os.wait4(): peak RSS
is the child's ru_maxrss (kB on Linux), the figure it would read from getrusage(RUSAGE_SELF) at exit. The
launcher exists because on Linux a child's ru_maxrss never reads below its spawner's RSS (the high-water mark
is carried across fork/exec): spawned from this script (~17 MB after its imports) every small child would read
~17 MB. The launcher's own floor is measured by launching ``true`` and printed.

The numbers are measurements of the machine this runs on, not targets or guarantees.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
HEAVY = ("torch", "transformers", "tensorflow", "numpy")
FORMULA_PRESETS = ("bert-base-uncased", "bert-large-cased", "bert-base-multilingual-cased")
ISOLATION_CHECK = (
    "import sys, paramscope.cli\n"
    "paramscope.cli.run(['bert-base-uncased'])\n"
    f"heavy = [m for m in {HEAVY!r} if any(k == m or k.startswith(m + '.') for k in sys.modules)]\n"
    "print(','.join(heavy))\n"
)
USUAL_WAY = (
    "import transformers, torch\n"
    "model = transformers.BertModel(transformers.BertConfig())\n"
    "print(sum(p.numel() for p in model.parameters()))\n"
)


LAUNCHER = (
    "import os, sys, time\n"
    "t0 = time.perf_counter()\n"
    "pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "seconds = time.perf_counter() - t0\n"
    "print(f'\\n@@launcher {seconds} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}', file=sys.stderr)\n"
)


def run_child(cmd: list[str]) -> tuple[float, int, int, str, str]:
    """Run cmd (cmd[0] an absolute path) once via LAUNCHER: (wall seconds, peak RSS kB, exit code, stdout, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        subprocess.run([PY, "-I", "-S", "-c", LAUNCHER, *cmd], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                       check=True)
        out.seek(0), err.seek(0)
        stderr, _, report = err.read().decode().rpartition("\n@@launcher ")
        seconds, rss, code = report.split()
        rss_kb = int(rss) // 1024 if sys.platform == "darwin" else int(rss)  # macOS reports bytes
        return float(seconds), rss_kb, int(code), out.read().decode(), stderr


def measure(cmd: list[str], runs: int) -> dict:
    results = [run_child(cmd) for _ in range(runs)]
    failed = [r for r in results if r[2] != 0]
    if failed:
        sys.exit(f"error: {' '.join(cmd)} exited with {failed[0][2]}:\n{failed[0][4]}")
    times = [r[0] for r in results]
    return {"median": statistics.median(times), "min": min(times),
            "rss": statistics.median(r[1] for r in results), "stdout": results[-1][3]}


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def fmt_rss(kb: float) -> str:
    return f"{kb / 1024:.1f} MB"


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def formula_time(name: str, runs: int) -> dict:
    import paramscope

    def once() -> tuple[float, int]:
        t0 = time.perf_counter()
        a = paramscope.inspect(name)  # a new Anatomy: its cached properties start empty
        n, _, _ = a.parameters, a.tree, a.formula_rows
        return time.perf_counter() - t0, n

    first, n = once()
    times = [once()[0] for _ in range(runs)]
    return {"first": first, "median": statistics.median(times), "min": min(times), "parameters": n}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10, help="runs per measurement (default 10)")
    ap.add_argument("--usual-runs", type=int, default=3,
                    help="runs of the transformers + torch comparison, several seconds each (default 3)")
    args = ap.parse_args()
    if args.runs < 1 or args.usual_runs < 1:
        ap.error("--runs and --usual-runs must be at least 1")
    script = Path(PY).parent / "paramscope"
    if not script.is_file():
        script = Path(shutil.which("paramscope") or "")
    if importlib.util.find_spec("paramscope") is None or not script.is_file():
        sys.exit(f"error: paramscope is not installed for {PY}; run this with the project's venv python")

    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    true = shutil.which("true")
    floor = fmt_rss(measure([true], 3)["rss"]) if true else "unknown"
    print("paramscope start-up benchmark (measurements of this machine, not targets)")
    print(f"date      {now}")
    print(f"python    {platform.python_version()} ({PY})")
    print(f"machine   {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}")
    print(f"versions  paramscope {version('paramscope')}, transformers {version('transformers')}, "
          f"torch {version('torch')}")
    print(f"runs      {args.runs} per measurement, {args.usual_runs} for the usual way; times are wall-clock")
    print(f"RSS floor {floor} (the launcher's own peak; no child's peak RSS can read below it)", flush=True)

    print("\n1. CLI start-up, fresh subprocess each run")
    print(f"   {'command':<36} {'median':>10} {'min':>10} {'peak RSS':>10}")
    cli = {}
    for label, cmd in [("python -c pass", [PY, "-c", "pass"]),
                       ('python -c "import paramscope.cli"', [PY, "-c", "import paramscope.cli"]),
                       ("paramscope --version", [PY, str(script), "--version"]),
                       ("paramscope bert-base-uncased", [PY, str(script), "bert-base-uncased"])]:
        m = cli[label] = measure(cmd, args.runs)
        print(f"   {label:<36} {fmt_time(m['median']):>10} {fmt_time(m['min']):>10} {fmt_rss(m['rss']):>10}",
              flush=True)
    heavy = measure([PY, "-c", ISOLATION_CHECK], 1)["stdout"].strip()
    print(f"   {', '.join(HEAVY)} in sys.modules after cli.run(['bert-base-uncased']): "
          f"{'yes (' + heavy + ')' if heavy else 'no'}")

    print("\n2. Formula time in-process: inspect(name) + .parameters, .tree, .formula_rows")
    print(f"   {'preset':<36} {'median':>10} {'min':>10} {'1st call':>10} {'parameters':>13}")
    counts = {}
    for name in FORMULA_PRESETS:
        f = formula_time(name, args.runs)
        counts[name] = f["parameters"]
        print(f"   {name:<36} {fmt_time(f['median']):>10} {fmt_time(f['min']):>10} "
              f"{fmt_time(f['first']):>10} {f['parameters']:>13,}")

    print("\n3. The usual way: import transformers, torch; BertModel(BertConfig()); sum(p.numel() ...)", flush=True)
    missing = [m for m in ("transformers", "torch") if importlib.util.find_spec(m) is None]
    probe = None if missing else run_child([PY, "-c", USUAL_WAY])  # also warms the file cache
    if missing or probe[2] != 0:
        why = f"{' and '.join(missing)} not importable" if missing else (probe[4].strip().splitlines() or ["?"])[-1]
        print(f"   skipped: {why}")
        return 1 if heavy else 0
    usual, ps = measure([PY, "-c", USUAL_WAY], args.usual_runs), cli["paramscope bert-base-uncased"]
    count, ps_count = int(usual["stdout"].split()[-1]), counts["bert-base-uncased"]
    print(f"   {'':<36} {'wall time':>10} {'peak RSS':>10} {'parameters':>13}")
    print(f"   {'transformers + torch (subprocess)':<36} {fmt_time(usual['median']):>10} "
          f"{fmt_rss(usual['rss']):>10} {count:>13,}")
    print(f"   {'paramscope bert-base-uncased':<36} {fmt_time(ps['median']):>10} "
          f"{fmt_rss(ps['rss']):>10} {ps_count:>13,}")
    print(f"   {'ratio usual / paramscope':<36} {usual['median'] / ps['median']:>9.0f}x "
          f"{usual['rss'] / ps['rss']:>9.0f}x {'same' if count == ps_count else 'DIFFERENT':>13}")
    return 1 if heavy else 0


if __name__ == "__main__":
    sys.exit(main())
