"""Build 44 popular model types at tiny sizes on the meta device and classify every parameter by name.

    PYTHONPATH=src .venv/bin/python scripts/zoo.py            # the table, as Markdown
    PYTHONPATH=src .venv/bin/python scripts/zoo.py llama vit  # some types only

Each row: model type, class, the exact total (the sum of the named parameters' sizes, checked against
``sum(p.numel() for p in model.parameters())``), the share the generic name table leaves unclassified
(of ``named_parameters()``, and of ``state_dict()`` as ``save_pretrained`` writes it), and the groups with
their counts. The configs live in ``tests/zoo.py``; the tests hold the same bound (<= 1%).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

import paramscope  # noqa: E402
from paramscope import tree  # noqa: E402
from paramscope.families import generic  # noqa: E402
from tests import zoo  # noqa: E402


def row(model_type: str) -> tuple[str, ...]:
    model = zoo.build(model_type)
    params = zoo.names(model_type)
    total = sum(n for _, n in params)
    if total != sum(p.numel() for p in model.parameters()):
        raise SystemExit(f"error: {model_type}: named parameters do not add up to the model's total")
    fam = generic.family_for_names([name for name, _ in params], model_type)
    groups: dict[str, int] = {}
    for name, n in params:
        g = str(fam.place(name).group)
        groups[g] = groups.get(g, 0) + n
    saved = zoo.state_dict_names(model_type)
    fam_saved = generic.family_for_names([name for name, _ in saved], model_type)
    lost = sum(n for name, n in saved if str(fam_saved.place(name).group) == "unclassified")
    share = 100 * groups.get("unclassified", 0) / total
    share_saved = 100 * lost / sum(n for _, n in saved)
    shown = ", ".join(f"{g} {groups[g]:,}" for g in map(str, tree.GROUP_ORDER) if g in groups)
    # The same model through the whole pipeline, as a user gets it: the family whose formula is used (or the
    # generic map), the count and the unclassified share of paramscope.inspect(model).
    a = paramscope.inspect(model)
    if a.parameters != total:
        raise SystemExit(f"error: {model_type}: inspect counts {a.parameters:,}, the model {total:,}")
    verdict = ("formula agrees" if a.reconciliation.agrees else "formula DISAGREES") if a.reconciliation else "no formula"
    via = f"{a.inventory.family} ({verdict})"
    return (model_type, zoo.ZOO[model_type][0], f"{total:,}", f"{share:.2f}%", f"{share_saved:.2f}%",
            f"{100 * a.totals['unclassified'] / total:.2f}%", via, shown)


def main(argv: list[str]) -> int:
    types = argv or list(zoo.ZOO)
    unknown = [t for t in types if t not in zoo.ZOO]
    if unknown:
        print(f"error: unknown model type {unknown[0]!r}; choose from {', '.join(zoo.ZOO)}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    print("| type | class | parameters | unclassified | unclassified (state_dict) | unclassified (inspect) | "
          "inspect reads it as | groups |")
    print("|---|---|---:|---:|---:|---:|---|---|")
    worst = 0.0
    for t in types:
        cells = row(t)
        worst = max(worst, *(float(cells[i].rstrip("%")) for i in (3, 4, 5)))
        print("| " + " | ".join(cells) + " |")
    print(f"\n{len(types)} types in {time.perf_counter() - start:.1f} s; worst unclassified share {worst:.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
