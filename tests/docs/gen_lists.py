"""The lists in the docs that come from the code's registries, generated rather than typed.

A page marks a generated region with two HTML comments::

    <!-- generated: presets -->
    ... (rewritten by this script)
    <!-- /generated -->

``python tests/docs/gen_lists.py --write`` rewrites every region of README.md and docs/*.md
from the registries; ``--check`` (and tests/docs/test_generated.py) fails when one is stale.

The generators (``GENERATORS``): ``presets`` (accelscope.arch presets), ``models`` (the
accelerator models of accelscope.models.registry), ``zoo`` (accelscope.workload.zoo.describe),
``zoo-names`` (the zoo's names in one line), ``validate`` (the target groups of
accelscope.validate with their counts and second-level prefixes), ``commands`` (the commands
of the typer app), ``cli-options`` (every command's options, from the typer app),
``result-files`` (accelscope.report.writer.RESULT_FILES), ``api`` (accelscope.__all__, one
line each from the first line of each object's docstring).
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REGION = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /generated -->)",
                    re.S)


def _md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _bytes(n: float) -> str:
    for unit, size in (("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            v = n / size
            return f"{v:.4g} {unit}"
    return f"{n:g} B"


def _hz(f: float) -> str:
    return f"{f / 1e9:g} GHz" if f >= 1e9 else f"{f / 1e6:g} MHz"


def presets() -> str:
    from accelscope.arch import arch_rows

    rows = [[f"`{r['name']}`", r["model"], r["array"], f"{r['macs_per_cycle']:,}",
             _hz(r["clock_hz"]), f"{r['technology_nm']} nm", _bytes(r["on_chip_bytes"]),
             f"{r['dram_bits_per_cycle']:g}"] for r in arch_rows()]
    return _table(["preset", "model", "array", "MACs/cycle", "clock", "node", "on-chip",
                   "DRAM bits/cycle"], rows)


def models() -> str:
    from accelscope.models.registry import get_model, model_names

    rows = []
    for name in model_names():
        m = get_model(name)
        how = ("measured" if m.measured else "uses the real tensors" if m.uses_data
               else "counts from shapes")
        rows.append([f"`{name}`", f"`{m.spec_class.__name__}`", how, m.description])
    return _table(["`model:`", "spec class", "numbers", "what it models"], rows)


def zoo() -> str:
    from accelscope.workload import zoo as z

    rows = [[f"`{r['name']}`", "x".join(map(str, r["input_shape"])), r["description"],
             r["source"]] for r in z.describe()]
    return _table(["name", "input", "network", "source"], rows)


def zoo_names() -> str:
    from accelscope.workload import zoo as z

    return ", ".join(f"`{r['name']}`" for r in z.describe()) + "\n"


def validate() -> str:
    from accelscope.validate import targets

    groups: dict[str, dict[str, object]] = {}
    for t in targets(""):
        parts = t.name.split(".")
        g = groups.setdefault(parts[0], {"must_hold": 0, "informative": 0, "sub": []})
        g[t.level] = int(g[t.level]) + 1  # type: ignore[call-overload]
        sub = ".".join(parts[:2])
        if sub not in g["sub"]:  # type: ignore[operator]
            g["sub"].append(sub)  # type: ignore[attr-defined]
    rows = [[f"`{name}`", str(g["must_hold"]), str(g["informative"]),
             ", ".join(f"`{s}`" for s in g["sub"])]  # type: ignore[attr-defined]
            for name, g in groups.items()]
    return _table(["`--only` prefix", "must hold", "informative", "second-level prefixes"],
                  rows)


def _click_app():
    import typer

    from accelscope.cli import app

    return typer.main.get_command(app)


def commands() -> str:
    group = _click_app()
    rows = []
    for name, cmd in group.commands.items():
        rows.append([f"`accelscope {name}`", (cmd.help or "").split("\n\n")[0]])
    return _table(["command", "what it does"], rows)


def cli_options() -> str:
    group = _click_app()
    out = []
    for name, cmd in group.commands.items():
        out.append(f"### `accelscope {name}`\n")
        out.append(_md_cell((cmd.help or "").split("\n\n")[0]) + "\n")
        sub = getattr(cmd, "commands", None)
        targets = [(f"{name} {n}", c) for n, c in sub.items()] if sub else [(name, cmd)]
        for label, c in targets:
            rows = []
            for p in c.params:
                if p.name == "help":
                    continue
                if p.param_type_name == "argument":
                    what = f"`{p.name.upper()}`"
                else:
                    what = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
                rows.append([what, getattr(p, "help", None) or ""])
            if sub:
                first = _md_cell((c.help or "").split("\n")[0])
                out.append(f"\n`accelscope {label}`: {first}\n")
            out.append("\n" + (_table(["argument / option", "meaning"], rows) if rows
                               else "no options\n"))
        out.append("\n")
    return "".join(out).rstrip("\n") + "\n"


def result_files() -> str:
    from accelscope.report.writer import RESULT_FILES

    return ", ".join(f"`{f}`" for f in RESULT_FILES) + "\n"


def _sentence(doc: str) -> str:
    """The first sentence of a docstring, with reST literals as Markdown code."""
    para = " ".join(doc.split("\n\n")[0].split())
    m = re.match(r"(.*?[.:])(\s|$)", para)
    return (m.group(1) if m else para).replace("``", "`")


def api() -> str:
    import accelscope

    rows = []
    for name in accelscope.__all__:
        obj = getattr(accelscope, name)
        doc = inspect.getdoc(obj) or ""
        first = _sentence(doc)
        kind = ("module" if inspect.ismodule(obj) else "class" if inspect.isclass(obj)
                else "function")
        rows.append([f"`accelscope.{name}`", kind, first])
    return _table(["name", "kind", "what it is (its docstring's first sentence)"], rows)


GENERATORS: dict[str, Callable[[], str]] = {
    "presets": presets, "models": models, "zoo": zoo, "zoo-names": zoo_names,
    "validate": validate, "commands": commands, "cli-options": cli_options,
    "result-files": result_files, "api": api,
}


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def regions(text: str) -> list[str]:
    return [m.group("name") for m in REGION.finditer(text)]


def render(text: str, where: str, cache: dict[str, str]) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group("name")
        if name not in GENERATORS:
            raise SystemExit(f"{where}: unknown generated region {name!r}; known: "
                             f"{', '.join(GENERATORS)}")
        if name not in cache:
            cache[name] = GENERATORS[name]()
        return m.group(1) + cache[name] + m.group(4)

    return REGION.sub(one, text)


def stale(cache: dict[str, str] | None = None) -> list[str]:
    """The pages whose generated regions differ from what the registries give now."""
    cache = {} if cache is None else cache
    out = []
    for p in pages():
        text = p.read_text(encoding="utf-8")
        if regions(text) and render(text, str(p), cache) != text:
            out.append(p.relative_to(ROOT).as_posix())
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help="rewrite the stale regions")
    ap.add_argument("--check", action="store_true", help="exit 1 when a region is stale")
    args = ap.parse_args(argv)
    cache: dict[str, str] = {}
    bad = stale(cache)
    if args.write:
        for name in bad:
            p = ROOT / name
            p.write_text(render(p.read_text(encoding="utf-8"), name, cache), encoding="utf-8")
            print(f"rewrote {name}")
        return 0
    for name in bad:
        print(f"stale: {name}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
