"""Command line: parse -> library -> render. Bad input: one line ``error: ...`` and exit code 2.

    paramscope bert-base-uncased                 # short for: paramscope show bert-base-uncased
    paramscope show bert-base-chinese --formula
    paramscope compare bert-base-uncased bert-base-chinese
    paramscope presets
    paramscope report bert-base-uncased -o bert.html     # needs paramscope[report]
    paramscope plot bert-base-uncased -o bert.png        # needs paramscope[plot]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from enum import StrEnum
from typing import Sequence

from .version import __version__
from .errors import ParamscopeError

COMMANDS = ("show", "compare", "check", "presets", "report", "plot")
EXIT_BAD_INPUT = 2
MAX_ERROR_CHARS = 2000  # an error line longer than this is shortened in the middle
EXIT_DISAGREES = 1  # check: the checkpoint does not load as the config's model


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    CSV = "csv"


class Color(StrEnum):
    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


class UsageError(ParamscopeError):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise UsageError(f"{message} (see 'paramscope {self.prog.split()[-1]} --help')"
                         if self.prog != "paramscope" else f"{message} (see 'paramscope --help')")


def _model_options(p: argparse.ArgumentParser, *, output: bool = True) -> None:
    from .families import MODULES  # the registry: help lists what the family specs declare

    p.add_argument("--model-class", metavar="CLASS",
                   help="e.g. BertForPreTraining, LlamaForCausalLM; default: the config's architectures[0] when "
                        "its family has a formula for it, else the class a checkpoint's weights show, else the "
                        "family's default (presets: the released model's class)")
    p.add_argument("--family", metavar="MODEL_TYPE",
                   help="read the config or checkpoint as this model type when it does not say (or says "
                        f"otherwise): {', '.join(sorted(MODULES))}")
    p.add_argument("--no-pooler", action="store_true",
                   help="encoders with a pooler (BertModel, ...) built with add_pooling_layer=False")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                   help="what-if: change a config field (repeatable), e.g. --set vocab_size=21128")
    if output:
        _output_options(p)


def _output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=[f.value for f in Format], default=Format.TABLE.value,
                   help="output format (default: table)")
    p.add_argument("--color", choices=[c.value for c in Color], default=Color.AUTO.value,
                   help="colour in table output (default: auto, off when piped or NO_COLOR is set)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="paramscope", description="Exactly where a transformer's parameters live.",
                     epilog="'paramscope NAME' is short for 'paramscope show NAME'.")
    parser.add_argument("--version", action="version", version=f"paramscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    show = sub.add_parser("show", help="one model: tree by component, roles, memory",
                          description="Count a model's parameters from a preset, config.json or folder.")
    show.add_argument("model", help="preset name (see 'paramscope presets'), config.json, a checkpoint file "
                                    "(safetensors, PyTorch, TensorFlow) or a model folder")
    show.add_argument("--formula", action="store_true", help="closed-form formulas, symbolic and with numbers")
    show.add_argument("--tensors", action="store_true", help="every tensor: name, shape, count, group, role")
    show.add_argument("--depth", type=int, default=2, metavar="N",
                      help="tree levels to show (default 2; 0 shows all)")
    _model_options(show)

    compare = sub.add_parser("compare", help="several models side by side",
                             description="Compare models by group and role, counts and shares.")
    compare.add_argument("models", nargs="+", help="preset names, config.json files, checkpoints or folders")
    _model_options(compare)

    check = sub.add_parser("check", help="reconcile a checkpoint with a config; exit 1 when they disagree",
                           description="Compare a checkpoint's tensors with the formula of a config, name by name "
                                       "and shape by shape. Exit 0 when from_pretrained would load every "
                                       "parameter, 1 when not, 2 on bad input.")
    check.add_argument("first", metavar="CONFIG_OR_CHECKPOINT",
                       help="a config (preset, config.json) followed by a checkpoint, or a model folder alone")
    check.add_argument("checkpoint", nargs="?", help="checkpoint file or folder")
    _model_options(check)

    report = sub.add_parser("report", help="an HTML report: charts, formulas, tensors; several models compared",
                            description="Write one self-contained HTML file that works offline: for one model its "
                                        "totals, an interactive chart from groups down to single tensors, roles, "
                                        "layers, formulas, a sortable tensor table and, for a checkpoint, the "
                                        "reconciliation; for several, groups and roles side by side and their "
                                        "differences. Needs paramscope[report].")
    report.add_argument("models", nargs="+", metavar="MODEL",
                        help="preset name, config.json, checkpoint or folder; give several to compare them")
    report.add_argument("-o", "--output", required=True, metavar="FILE.html",
                        help="the HTML file to write (.html or .htm); its folder must exist")
    _model_options(report, output=False)

    plot = sub.add_parser("plot", help="a chart by group and role as PNG, SVG or PDF",
                          description="Draw parameters by group and by role (one model), or stacked bars by group and "
                                      "role, in counts and as shares (several), with matplotlib. Needs "
                                      "paramscope[plot].")
    plot.add_argument("models", nargs="+", metavar="MODEL",
                      help="preset name, config.json, checkpoint or folder; give several for stacked bars")
    plot.add_argument("-o", "--output", required=True, metavar="FILE",
                      help="the file to write; its suffix sets the format: .png, .svg or .pdf")
    _model_options(plot, output=False)

    presets = sub.add_parser("presets", help="built-in configurations with exact and published totals",
                             description="List the built-in presets.")
    _output_options(presets)
    return parser


def _inspect(spec: str, args: argparse.Namespace, *, config: str | None = None):
    from .pipeline import inspect
    from .sources.config import parse_assignment

    overrides = dict(parse_assignment(s) for s in args.overrides)
    return inspect(spec, model_class=args.model_class, overrides=overrides or None, family=args.family,
                   add_pooling_layer=not args.no_pooler, config=config)


REPORT_SUFFIXES = (".html", ".htm")
PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def _output_path(path: str, suffixes: tuple[str, ...], what: str) -> str:
    """Check -o before any work: a known suffix, an existing folder, not a folder itself."""
    from pathlib import Path

    from . import units

    p = Path(path)
    shown = units.safe(path)
    if p.suffix.lower() not in suffixes:
        found = f"'{units.safe(p.suffix)}'" if p.suffix else "no suffix"
        raise UsageError(f"-o {shown}: {what} must end in {', '.join(suffixes[:-1])} or {suffixes[-1]}, got {found}; "
                         f"e.g. -o model{suffixes[0]}")
    if p.is_dir():
        raise UsageError(f"-o {shown}: is a folder; give a file name such as {shown.rstrip('/')}/model{suffixes[0]}")
    folder = p.parent
    if not folder.is_dir():
        raise UsageError(f"-o {shown}: the folder {units.safe(str(folder))} does not exist; create it first")
    return path


def _write(path: str, data: bytes | str) -> int:
    from pathlib import Path

    from . import units

    raw = data.encode() if isinstance(data, str) else data
    try:
        Path(path).write_bytes(raw)
    except OSError as e:
        raise UsageError(f"cannot write {units.safe(path)}: {e.strerror or e}; choose another path") from e
    return len(raw)


class _LazyRenderer:
    """``paramscope.render.<name>``, imported on first attribute access."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str):
        import importlib

        return getattr(importlib.import_module(f"{__package__}.render.{self._name}"), attr)


class Disagreement(str):
    """Output of ``check`` when checkpoint and formula disagree: printed, then exit code 1."""


def _use_color(choice: Color) -> bool:
    if choice == Color.ALWAYS:
        return True
    if choice == Color.NEVER or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def run(argv: Sequence[str]) -> str:
    """Everything but printing: returns the output text or raises ParamscopeError."""
    argv = list(argv)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        argv.insert(0, "show")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return parser.format_help()

    if args.command in ("report", "plot"):
        from . import units

        what = "the report" if args.command == "report" else "the chart"
        out = _output_path(args.output, REPORT_SUFFIXES if args.command == "report" else PLOT_SUFFIXES, what)
        models = [_inspect(spec, args) for spec in args.models]
        if args.command == "report":
            from .render import html

            size = _write(out, html.report(models))
        else:
            from .render import plot

            fmt = out.rsplit(".", 1)[-1].lower()
            size = _write(out, plot.to_bytes(models, fmt=fmt))
        names = (f"{units.safe(models[0].source)}, {units.count(models[0].parameters)} parameters"
                 if len(models) == 1 else f"{len(models)} models")
        return f"wrote {units.safe(out)} ({units.nbytes(size)}): {names}\n"

    fmt, color = Format(args.format), _use_color(Color(args.color))
    # Renderers are imported only for the format asked for (start-up matters).
    json_out = _LazyRenderer("json")
    csv_out = _LazyRenderer("csv")
    views = _LazyRenderer("views")

    def draw(doc) -> str:
        if fmt == Format.MARKDOWN:
            return _LazyRenderer("markdown").render(doc)
        return _LazyRenderer("text").render(doc, color=color)

    if args.command == "presets":
        from .pipeline import inspect
        from .presets import catalogue

        rows = [(p, inspect(p.name)) for p in catalogue().values()]
        if fmt == Format.JSON:
            return json_out.dumps({"schema_version": 1, "presets": [
                {"name": p.name, "aliases": list(p.aliases), "nickname": p.nickname, "family": a.inventory.family,
                 "model_class": a.model_class,
                 "parameters": a.parameters, "published": p.published, "origin": p.origin, "config": dict(p.config)}
                for p, a in rows]})
        if fmt == Format.CSV:
            return csv_out.presets(rows)
        return draw(views.presets(rows))

    if args.command == "compare":
        models = [_inspect(spec, args) for spec in args.models]
        if fmt == Format.JSON:
            return json_out.compare(models)
        if fmt == Format.CSV:
            return csv_out.compare(models)
        return draw(views.compare(models))

    if args.command == "check":
        config, target = (args.first, args.checkpoint) if args.checkpoint else (None, args.first)
        a = _inspect(target, args, config=config)
        if a.reconciliation is None:
            from . import units

            why = next((n for n in a.inventory.notes if "has no formula in paramscope" in n
                        or n.startswith(("no formula:", "the config cannot be used"))), None)
            if why is not None:  # the weights were read, but no family has a formula for them
                raise UsageError(f"{units.safe(target)}: cannot check: {why.split(':')[0]} "
                                 f"({units.count(a.parameters)} parameters read); 'paramscope show "
                                 f"{units.safe(target)}' counts and groups them")
            raise UsageError(f"{units.safe(target)}: nothing to reconcile with; pass a config first: "
                             f"paramscope check CONFIG {units.safe(target)}")
        out = json_out.show(a) if fmt == Format.JSON else draw(views.check(a))
        return out if a.reconciliation.agrees else Disagreement(out)

    if args.depth < 0:
        raise UsageError(f"--depth must be 0 or more, got {args.depth}")
    a = _inspect(args.model, args)
    if fmt == Format.JSON:
        return json_out.show(a)
    if fmt == Format.CSV:
        return csv_out.show(a)
    if args.formula:
        if a.expected is not None:
            return draw(views.formula(a.expected))
        return draw(views.formula(a))
    if args.tensors:
        return draw(views.tensors(a))
    return draw(views.show(a, depth=args.depth))


WRITE_CHUNK = 1 << 20  # characters; the JSON of DeepSeek-V3 is 26 MB


def main(argv: Sequence[str] | None = None) -> int:
    # One run allocates a few objects per tensor, keeps them to the end and makes next to no reference
    # cycles: the cyclic collector would only walk them again and again (for DeepSeek-V3's 91,991 tensors,
    # more than half of the tree's time). Switched back on after the run, for callers in a longer process.
    collecting = gc.isenabled()
    gc.disable()
    try:
        out = run(sys.argv[1:] if argv is None else argv)
    except ParamscopeError as e:
        from . import units

        # One line whatever the message holds: text from files is escaped, a runaway message shortened.
        print(f"error: {units.shorten_middle(units.safe(str(e)), MAX_ERROR_CHARS)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    finally:
        if collecting:
            gc.enable()
    try:
        for start in range(0, len(out), WRITE_CHUNK):  # encoded a chunk at a time, not all at once
            sys.stdout.write(out[start:start + WRITE_CHUNK])
        sys.stdout.flush()
    except BrokenPipeError:  # `paramscope ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_DISAGREES if isinstance(out, Disagreement) else 0


if __name__ == "__main__":
    sys.exit(main())
