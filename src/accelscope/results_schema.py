"""The JSON Schema of ``results.json``, generated from the result types.

The schema is derived, never written by hand: every object is a dataclass or ``TypedDict`` of
``accelscope.results`` (``NetworkResult``, ``LayerResult``, ``Access``, ``Totals``, and the
``Envelope`` and ``FileFields`` keys around them), every property's type comes from its type
hint and its description from the attribute docstring under it. The generated schema ships
as ``accelscope/schema/results.schema.json``; a test checks that the shipped file equals a
fresh generation and that written files validate against it. After changing a result type::

    python -m accelscope.results_schema --write     # regenerate the shipped file
    python -m accelscope.results_schema --check     # exit 1 when it is out of date
    python -m accelscope.results_schema             # print the schema
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import json
import sys
import textwrap
import types
import typing
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, is_typeddict

from accelscope.results import (
    SCHEMA_VERSION,
    Envelope,
    FileFields,
    NetworkResult,
)

SCHEMA_FILE = "schema/results.schema.json"
"""Where the schema ships, relative to the ``accelscope`` package."""
SCHEMA_ID = f"urn:accelscope:schema:results:{SCHEMA_VERSION}"
DIALECT = "https://json-schema.org/draft/2020-12/schema"

_SIMPLE = {str: "string", bool: "boolean", int: "integer", float: "number",
           type(None): "null"}


def generate() -> dict[str, Any]:
    """The results JSON Schema (draft 2020-12) of this accelscope's ``SCHEMA_VERSION``."""
    defs: dict[str, Any] = {}
    env = _hints(Envelope)
    file = _hints(FileFields)
    env_docs, file_docs = _field_docs(Envelope), _field_docs(FileFields)
    props: dict[str, Any] = {
        "schema_version": {"const": SCHEMA_VERSION,
                           "description": env_docs.get("schema_version", "")},
        "accelscope_version": _described(_schema(env["accelscope_version"], defs),
                                         env_docs.get("accelscope_version")),
    }
    for name, hint in file.items():
        props[name] = _described(_schema(hint, defs), file_docs.get(name))
    root = _object(NetworkResult, defs)
    props.update(root["properties"])
    props["totals"] = _described(_schema(env["totals"], defs), env_docs.get("totals"))
    required = ["schema_version", "accelscope_version", *root["required"], "totals"]
    return {
        "$schema": DIALECT,
        "$id": SCHEMA_ID,
        "title": "accelscope results.json",
        "description": (f"One network evaluated on one architecture (schema version "
                        f"{SCHEMA_VERSION}; docs/results.md). {root['description']}"),
        "version": SCHEMA_VERSION,
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
        "$defs": dict(sorted(defs.items())),
    }


def text(schema: Mapping[str, Any] | None = None) -> str:
    """The schema as the shipped file holds it."""
    return json.dumps(generate() if schema is None else schema, indent=2,
                      ensure_ascii=False) + "\n"


def shipped() -> dict[str, Any]:
    """The schema shipped with the installed package."""
    data = resources.files("accelscope").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return dict(json.loads(data))


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _described(schema: dict[str, Any], doc: str | None) -> dict[str, Any]:
    return {**schema, "description": doc} if doc else schema


def _object(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    """The object schema of a dataclass or TypedDict: every field, all of them required
    (``to_dict`` writes each one), nothing else allowed (TypedDicts with ``total=False``:
    none required)."""
    hints = _hints(cls)
    docs = _field_docs(cls)
    if dataclasses.is_dataclass(cls):
        names = [f.name for f in dataclasses.fields(cls)]
        required = names
    else:
        names = list(hints)
        required = sorted(getattr(cls, "__required_keys__", ()), key=names.index)
    return {
        "type": "object",
        "description": " ".join(inspect.cleandoc(cls.__doc__ or "").split()),
        "properties": {n: _described(_schema(hints[n], defs), docs.get(n)) for n in names},
        "required": required,
        "additionalProperties": False,
    }


def _schema(hint: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """The schema of one type hint; dataclasses and TypedDicts go to ``$defs``."""
    if hint is Any:
        return {}
    if hint in _SIMPLE:
        return {"type": _SIMPLE[hint]}
    if isinstance(hint, type) and (dataclasses.is_dataclass(hint) or is_typeddict(hint)):
        name = hint.__name__
        if name not in defs:
            defs[name] = {}  # a placeholder against recursion
            defs[name] = _object(hint, defs)
        return {"$ref": f"#/$defs/{name}"}
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        members = [_schema(a, defs) for a in args]
        if all(set(m) == {"type"} for m in members):
            return {"type": [m["type"] for m in members]}
        return {"anyOf": members}
    if origin in (tuple, list, Sequence):
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            raise TypeError(f"fixed-length tuple {hint} has no schema rule; add one")
        return {"type": "array", "items": _schema(args[0], defs)}
    if origin in (dict, Mapping):
        if args[0] is not str:
            raise TypeError(f"mapping {hint}: JSON keys are text")
        value = _schema(args[1], defs)
        return {"type": "object", **({"additionalProperties": value} if value else {})}
    raise TypeError(f"type hint {hint!r} has no schema rule; add one to "
                    "accelscope.results_schema._schema")


def _field_docs(cls: type) -> dict[str, str]:
    """The attribute docstrings of a class (the string literal under each field), each on
    one line."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body if isinstance(tree.body[0], ast.ClassDef) else []
    out: dict[str, str] = {}
    for stmt, nxt in itertools.pairwise(body):
        if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)):
            out[stmt.target.id] = " ".join(nxt.value.value.split())
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    path = Path(__file__).parent / SCHEMA_FILE
    if args == ["--write"]:
        path.write_text(text(), encoding="utf-8")
        print(f"wrote {path}")
        return 0
    if args == ["--check"]:
        if not path.is_file() or path.read_text(encoding="utf-8") != text():
            print(f"{path} is out of date: run python -m accelscope.results_schema --write",
                  file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    if args:
        print("usage: python -m accelscope.results_schema [--write | --check]",
              file=sys.stderr)
        return 2
    sys.stdout.write(text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
