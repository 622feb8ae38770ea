"""Change fields of a spec by dotted path and get a new, validated spec.

    spec = override("spots", {"compute.array": [64, 8], "compute.macs_per_cycle": 512})
    spec = override(spec, {"memory.glb.size_bytes": 65536})   # a level by its name ...
    spec = override(spec, {"memory[1].banks": 8})             # ... or by its position

The same validation as a YAML file: unknown keys, ranges, units and cross-field rules are
refused with an ``ArchError`` naming the dotted path. Fields the change does not touch keep
their status (a default stays a default in ``defaults_used()``). ``parse_setting`` reads the
command line's ``--set key=value`` with the YAML rules of a spec file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from accelscope.arch.loader import ArchError, load_arch, parse_value, spec_from_data
from accelscope.arch.spec import ArchSpec

_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)((?:\[\d+\])*)$")


def _segments(path: str, where: str) -> list[str | int]:
    """``memory[1].size_bytes`` -> ["memory", 1, "size_bytes"]."""
    out: list[str | int] = []
    if not path or path.startswith(".") or path.endswith(".") or ".." in path:
        raise ArchError(f"{where}: {path!r} is not a dotted field path (e.g. "
                        "compute.array, memory[0].size_bytes, memory.glb.banks)")
    for part in path.split("."):
        m = _SEGMENT.match(part)
        if m is None:
            raise ArchError(f"{where}: {path!r}: {part!r} is not a field name or name[index]")
        out.append(m.group(1))
        out += [int(i) for i in re.findall(r"\[(\d+)\]", m.group(2))]
    return out


def _set(data: dict[str, Any], path: str, value: Any, where: str) -> None:
    node: Any = data
    parts = _segments(path, where)
    shown = ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list) and isinstance(part, str) and not all(
                isinstance(x, dict) for x in node):
            raise ArchError(f"{where}: {shown}: is a list of values; it has no field {part!r}")
        if isinstance(node, list) and isinstance(part, str):
            # a list of named sections (memory levels): select one by its name
            names = [x.get("name") if isinstance(x, dict) else None for x in node]
            if part not in names:
                raise ArchError(f"{where}: {shown}: no item named {part!r}; items: "
                                f"{', '.join(str(n) for n in names)} (or use {shown}[index])")
            part = names.index(part)
        if isinstance(part, int):
            if not isinstance(node, list):
                raise ArchError(f"{where}: {shown or path}: not a list, cannot index [{part}]")
            if part >= len(node):
                raise ArchError(f"{where}: {shown}[{part}]: out of range; {shown} has "
                                f"{len(node)} item(s) (indices 0 to {len(node) - 1})")
            shown += f"[{part}]"
        else:
            if not isinstance(node, dict):
                raise ArchError(f"{where}: {shown}: is a value, not a section; it has no "
                                f"field {part!r}")
            shown = f"{shown}.{part}" if shown else part
        if last:
            node[part] = value
        else:
            if isinstance(node, dict) and part not in node:
                node[part] = {}  # a section left at its defaults: its fields get set here
            node = node[part]


def override(spec: ArchSpec | str | Mapping[str, Any], changes: Mapping[str, Any] |
             Iterable[tuple[str, Any]], *, where: str = "override") -> ArchSpec:
    """A new validated spec: ``spec`` (a spec, preset name, YAML path or mapping) with each
    dotted field path of ``changes`` set to its value. ``where`` prefixes error messages
    (the CLI passes ``--set``)."""
    base = load_arch(spec)
    items = list(changes.items() if isinstance(changes, Mapping) else changes)
    if not items:
        return base
    data = base.model_dump(mode="json", exclude_unset=True)
    for path, value in items:
        if not isinstance(path, str):
            raise ArchError(f"{where}: a field path is a string like 'compute.array', got "
                            f"{path!r}")
        _set(data, path, value, where)
    return spec_from_data(data, where)


def parse_setting(text: str) -> tuple[str, Any]:
    """``"compute.array=[64, 8]"`` -> ("compute.array", [64, 8]); the value is read as YAML
    (numbers, true/false, null, [lists], quoted strings) with the spec file's rules."""
    where = f"--set {text!r}"
    key, eq, value = text.partition("=")
    key = key.strip()
    if not eq or not key:
        raise ArchError(f"{where}: expected KEY=VALUE with a dotted field path, e.g. "
                        "--set compute.array=[64,8] or --set memory.glb.size_bytes=65536")
    _segments(key, where)
    return key, parse_value(value.strip(), f"--set {key}")
