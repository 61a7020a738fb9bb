"""Scale benchmark: paramscope on a DeepSeek-V3-shaped checkpoint (91,991 tensors in 163 shards) against the floor.

Run with the venv that has paramscope installed:  python bench/bench_scale.py [--runs N] [--baseline-src DIR] [--keep]

The checkpoint is written by make_deepseek_fp8.py into a fresh tempfile.mkdtemp folder (sparse shards: about 690 GB
of apparent size on about 25 MB of disk), removed at the end unless --keep. Measured side by side, each command in a
fresh process, once unmeasured and then --runs times (default 5; median wall time, highest peak RSS):

- floor: a bare standard-library parse of the same index and 163 headers (struct + json; the number of tensors
  and the sum of their shapes' products), the least any header-only reader written in Python can do;
- the safetensors library (if installed): ``safe_open(shard, "numpy")`` on every shard, ``keys()`` and each
  tensor's ``get_slice(name).get_shape()``;
- ``paramscope show INDEX --format json`` and ``paramscope show INDEX`` (the table), given the index file;
- ``paramscope show FOLDER --format json``, given the folder (config.json says model_type deepseek_v3);
- with --baseline-src DIR, the same paramscope commands with PYTHONPATH=DIR first, e.g. another checkout's src,
  to compare two versions in one run.

Peak RSS is read as in bench_checkpoints.py (a bare launcher that posix_spawns the command and reads its
ru_maxrss with os.wait4()). Targets, printed as met or MISSED: paramscope show INDEX --format json within 2x the
floor's wall time and at most 100 MB peak RSS. The exit status is non-zero only if the script itself fails.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_checkpoints import PY, fmt_bytes, fmt_rss, fmt_time, measure, sizes  # noqa: E402
from make_deepseek_fp8 import write  # noqa: E402

FLOOR = (  # argv: the index file; prints tensors and parameters
    "import json, math, os, struct, sys\n"
    "index = sys.argv[1]\n"
    "folder = os.path.dirname(index)\n"
    "with open(index, 'rb') as f:\n"
    "    weight_map = json.loads(f.read())['weight_map']\n"
    "tensors = parameters = 0\n"
    "for shard in dict.fromkeys(weight_map.values()):\n"
    "    with open(os.path.join(folder, shard), 'rb') as f:\n"
    "        (n,) = struct.unpack('<Q', f.read(8))\n"
    "        header = json.loads(f.read(n))\n"
    "    header.pop('__metadata__', None)\n"
    "    for info in header.values():\n"
    "        tensors += 1\n"
    "        parameters += math.prod(info['shape'])\n"
    "print(tensors, parameters)\n"
)
SAFETENSORS_LIB = (  # argv: the index file; prints tensors and parameters
    "import json, math, os, sys\n"
    "from safetensors import safe_open\n"
    "index = sys.argv[1]\n"
    "folder = os.path.dirname(index)\n"
    "with open(index, 'rb') as f:\n"
    "    weight_map = json.loads(f.read())['weight_map']\n"
    "tensors = parameters = 0\n"
    "for shard in dict.fromkeys(weight_map.values()):\n"
    "    with safe_open(os.path.join(folder, shard), 'numpy') as f:\n"
    "        for name in f.keys():\n"
    "            tensors += 1\n"
    "            parameters += math.prod(f.get_slice(name).get_shape())\n"
    "print(tensors, parameters)\n"
)
TARGET_RATIO, TARGET_MB = 2, 100


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="measured runs per command (default 5)")
    ap.add_argument("--baseline-src", type=Path, help="also run paramscope from this src folder (PYTHONPATH)")
    ap.add_argument("--keep", action="store_true", help="keep the generated checkpoint and print where it is")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    script = Path(PY).parent / "paramscope"
    if not script.is_file():
        sys.exit(f"error: no paramscope console script next to {PY}; run this with the project's venv python")

    print("paramscope scale benchmark: a DeepSeek-V3-shaped checkpoint against a bare standard-library parse")
    print(f"date      {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"python    {platform.python_version()} ({PY})")
    print(f"machine   {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}")
    print(f"runs      {args.runs} per command after one unmeasured warm-up; median wall time, highest peak RSS")
    print(f"bytecode  PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '(unset)')}")
    load_start = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="paramscope-scale-"))
    try:
        folder = tmp / "deepseek-v3-fp8"
        figures = write(folder)
        index = folder / "model.safetensors.index.json"
        print(f"shards    {figures['tensors']:,} tensors, {figures['parameters']:,} parameters, "
              f"{figures['apparent']:,} bytes in {figures['shards']} shards ({figures['headers']:,} of headers); "
              f"allocated on disk: {sizes(folder)[1] // 1024:,} kB{f'; kept in {folder}' if args.keep else ''}")
        env = dict(os.environ)
        rows: list[tuple[str, list[str], dict[str, str] | None, bool]] = [
            ("floor: struct + json, standard library", [PY, "-c", FLOOR, str(index)], None, False),
        ]
        if importlib.util.find_spec("safetensors") is not None:
            rows.append(("safetensors library: safe_open", [PY, "-c", SAFETENSORS_LIB, str(index)], None, False))
        versions = [("", env)]
        if args.baseline_src is not None:
            base_env = {**env, "PYTHONPATH": str(args.baseline_src.resolve())}
            versions.insert(0, (f" [{args.baseline_src}]", base_env))
        for tag, e in versions:
            rows += [
                (f"paramscope show INDEX --format json{tag}", [PY, str(script), "show", str(index), "--format", "json"],
                 e, True),
                (f"paramscope show INDEX (table){tag}", [PY, str(script), "show", str(index)], e, False),
                (f"paramscope show FOLDER --format json{tag}", [PY, str(script), "show", str(folder), "--format",
                                                                 "json"], e, True),
            ]
        results = []
        for label, cmd, e, is_json in rows:
            m = measure(cmd, args.runs, e)
            results.append((label, m, is_json))
        floor = results[0][1]
        print(f"\n{'command':<58} | {'wall time':>9} | {'x floor':>7} | {'peak RSS':>9} | count")
        print("-" * 59 + "+" + "-" * 11 + "+" + "-" * 9 + "+" + "-" * 11 + "+" + "-" * 30)
        counts = {}
        for label, m, is_json in results:
            if "error" in m:
                print(f"{label:<58} | {'error':>9} | {'':>7} | {'':>9} | {m['error'][:100]}")
                continue
            if is_json:
                totals = json.loads(m["stdout"])["totals"]
                count = f"{totals['parameters']:,} parameters"
                counts[label] = totals["parameters"]
            elif label.startswith(("floor", "safetensors")):
                n, p = map(int, m["stdout"].split())
                count = f"{n:,} tensors, {p:,}"
                counts[label] = p
            else:
                count = "(table)"
            ratio = m["time"] / floor["time"] if "error" not in floor else float("nan")
            print(f"{label:<58} | {fmt_time(m['time']):>9} | {ratio:>6.1f}x | {fmt_rss(m['rss']):>9} | {count}")
        agree = len(set(counts.values())) == 1 and counts.get(results[0][0]) == figures["parameters"]
        print(f"\ncounts    {'all agree' if agree else 'DIFFER'} ({figures['parameters']:,} computed from the shapes "
              "written)")
        ours = next(m for label, m, _ in results if label == "paramscope show INDEX --format json")
        print("\ntargets (paramscope show INDEX --format json)")
        if "error" in ours or "error" in floor:
            print("  not measured: a command failed")
        else:
            ratio = ours["time"] / floor["time"]
            print(f"  within {TARGET_RATIO}x the floor's wall time: {ratio:.1f}x, "
                  f"{'met' if ratio <= TARGET_RATIO else 'MISSED'}")
            print(f"  at most {TARGET_MB} MB peak RSS: {fmt_rss(ours['rss'])}, "
                  f"{'met' if ours['rss'] / 1024 <= TARGET_MB else 'MISSED'}")
        print(f"\nload      1-min load average {load_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end, "
              f"{os.cpu_count()} CPUs: this script's children make about 1; more means other work shared the CPUs")
        print(f"size      {fmt_bytes(sizes(folder)[0])} apparent")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
