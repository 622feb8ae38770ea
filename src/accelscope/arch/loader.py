"""Loading architecture specs from YAML with errors a person can act on.

Every problem in a file is reported at once, one line each, as
``file:line: dotted.path: what is wrong (hint)``, e.g.::

    cpu.yaml:7: memory[1].size_bytes: must be > 0, got -4 (Capacity of the level ... [bytes])
    cpu.yaml:12: compute.macs_per_cyle: unknown key; did you mean 'macs_per_cycle'?

Duplicate keys are errors (PyYAML would silently keep the last one), and so are unknown keys
(pydantic ``extra="forbid"``). The YAML reader also accepts ``1e9``-style floats, which
YAML 1.1 would otherwise read as strings.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
from collections.abc import Callable, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from accelscope.arch.spec import ArchSpec, spec_class, spec_models
from accelscope.errors import AccelscopeError

Loc = tuple[str | int, ...]
TOP = "(top level)"


class ArchError(AccelscopeError):
    """An architecture spec could not be loaded; ``messages`` holds one line per problem."""

    def __init__(self, messages: list[str] | str):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))


# -- YAML with line numbers and duplicate-key checks ------------------------------------------
class _Loader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types
    """Safe YAML loader that also reads ``1e9``, ``2.5E-3`` as floats (YAML 1.2 style)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or TOP


MAX_NODES = 100_000
"""Most nodes a spec may expand to, aliases counted each time they are used. The largest
preset has a few hundred; nested aliases ("billion laughs") would otherwise expand
exponentially in the line index and in validation."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and lists a spec may have."""


class _Lines:
    """Line numbers (1-based) of every key and value of a parsed document, by path."""

    def __init__(self) -> None:
        self.key: dict[Loc, int] = {(): 1}
        self.value: dict[Loc, int] = {}
        self.scalar: dict[Loc, bool] = {}
        self.visited = 0

    def index(self, node: Node, loc: Loc, filename: str, errors: list[str],
              stack: frozenset[int] = frozenset()) -> None:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise ArchError(f"{filename}:{node.start_mark.line + 1}: {_dotted(loc)}: the "
                            f"document expands to more than {MAX_NODES:,} values (nested "
                            "YAML aliases?); an arch spec is a few hundred, write it out "
                            "without deep aliases")
        if len(loc) > MAX_DEPTH:
            raise ArchError(f"{filename}:{node.start_mark.line + 1}: {_dotted(loc[:4])}...: "
                            f"nested more than {MAX_DEPTH} levels deep; an arch spec is a "
                            "few levels deep")
        self.value[loc] = node.start_mark.line + 1
        self.scalar[loc] = isinstance(node, ScalarNode)
        if id(node) in stack:  # a recursive alias; pydantic reports the cycle
            return
        stack = stack | {id(node)}
        if isinstance(node, MappingNode):
            first: dict[tuple[str, str], int] = {}
            for k, v in node.value:
                if not isinstance(k, ScalarNode) or k.tag == "tag:yaml.org,2002:merge":
                    continue
                line = k.start_mark.line + 1
                child = (*loc, k.value)
                if (k.tag, k.value) in first:
                    errors.append(f"{filename}:{line}: {_dotted(child)}: duplicate key "
                                  f"{k.value!r} (first at line {first[k.tag, k.value]}); "
                                  "keep one")
                    continue
                first[k.tag, k.value] = line
                self.key[child] = line
                self.index(v, child, filename, errors, stack)
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                self.key[(*loc, i)] = item.start_mark.line + 1
                self.index(item, (*loc, i), filename, errors, stack)

    def line(self, loc: Loc, *, want_key: bool = False) -> int:
        """Line of the deepest known prefix of ``loc``: of its value when that is a scalar,
        else of its key (a mapping's or list's own line)."""
        for n in range(len(loc), -1, -1):
            p = loc[:n]
            if p in self.key or p in self.value:
                if not want_key and n == len(loc) and self.scalar.get(p) and p in self.value:
                    return self.value[p]
                return self.key.get(p, self.value.get(p, 1))
        return 1


def _parse(text: str, filename: str) -> tuple[Any, _Lines]:
    lines = _Lines()
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            raise ArchError(f"{filename}:1: {TOP}: the file is empty; an arch spec is a "
                            f"mapping with the keys {', '.join(ArchSpec.model_fields)}")
        errors: list[str] = []
        lines.index(node, (), filename, errors)
        if errors:
            raise ArchError(errors)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = exc.problem or exc.context or "malformed YAML"
        ctx = ""
        if exc.context and exc.problem and exc.context_mark is not None:
            ctx = f" ({exc.context} at line {exc.context_mark.line + 1})"
        hint = ("only plain YAML values are allowed, no tags" if isinstance(
            exc, yaml.constructor.ConstructorError) else "check indentation, colons and quotes")
        raise ArchError(f"{filename}:{line}: YAML syntax: {what}{ctx}; {hint}") from None
    except yaml.reader.ReaderError as exc:
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ArchError(f"{filename}: cannot read as YAML: the file contains the "
                        f"character U+{code:04X} at position {exc.position}, which YAML does "
                        "not allow (a binary file? save it as UTF-8 text)") from None
    except yaml.YAMLError as exc:
        raise ArchError(f"{filename}: cannot read as YAML: {exc}") from None
    except RecursionError:
        raise ArchError(f"{filename}: nested too deeply to read; an arch spec is a few "
                        "levels deep") from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"the {type(data).__name__} {data!r}"
        raise ArchError(f"{filename}:{lines.value.get((), 1)}: {TOP}: must be a mapping of "
                        f"field names to values, got {kind}")
    return data, lines


# -- pydantic errors -> file:line: path: message ------------------------------------------------
def _strip(annotation: Any) -> Any:
    """Drop ``Annotated`` and ``Optional`` wrappers."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _resolve(cls: type[BaseModel], loc: Loc) -> tuple[Any, Any]:
    """(annotation, FieldInfo) at ``loc`` under ``cls``; (None, None) when it leaves the
    schema. For an empty ``loc`` the annotation is ``cls`` itself."""
    current: Any = cls
    info = None
    for part in loc:
        current = _strip(current)
        if isinstance(part, int):
            args = get_args(current)
            if get_origin(current) not in (tuple, list) or not args:
                return None, None
            current = args[0]  # keep the list field's info for its items
        else:
            if not (isinstance(current, type) and issubclass(current, BaseModel)):
                return None, None
            if part not in current.model_fields:
                return None, None
            info = current.model_fields[part]
            current = info.annotation
    return _strip(current), info


def _got(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return repr(value)


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _describe(info: Any) -> str:
    return f" ({info.description})" if info is not None and info.description else ""


def _message(cls: type[BaseModel], err: Mapping[str, Any]) -> tuple[Loc, str, bool]:
    """(path to print, message, whether the line is the key's) for one pydantic error."""
    loc: Loc = tuple(err["loc"])
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    _, info = _resolve(cls, loc)
    if kind == "missing":
        return loc[:-1], f"missing required field {loc[-1]!r}{_describe(info)}", True
    if kind == "extra_forbidden":
        parent, _ = _resolve(cls, loc[:-1])
        names = list(parent.model_fields) if isinstance(parent, type) and issubclass(
            parent, BaseModel) else []
        close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"valid keys: {', '.join(names)}"
        return loc, f"unknown key; {hint}", True
    text: Callable[[], str] | None = {
        "greater_than": lambda: f"must be > {_num(ctx.get('gt'))}, got {_got(value)}",
        "greater_than_equal": lambda: f"must be >= {_num(ctx.get('ge'))}, got {_got(value)}",
        "less_than": lambda: f"must be < {_num(ctx.get('lt'))}, got {_got(value)}",
        "less_than_equal": lambda: f"must be <= {_num(ctx.get('le'))}, got {_got(value)}",
        "int_type": lambda: f"must be an integer, got {_got(value)}",
        "int_parsing": lambda: f"must be an integer, got {_got(value)}",
        "int_from_float": lambda: f"must be a whole number, got {_got(value)}",
        "float_type": lambda: f"must be a number, got {_got(value)}",
        "float_parsing": lambda: f"must be a number, got {_got(value)}",
        "finite_number": lambda: f"must be a finite number, got {_got(value)}",
        "bool_type": lambda: f"must be true or false, got {_got(value)}",
        "bool_parsing": lambda: f"must be true or false, got {_got(value)}",
        "string_type": lambda: f"must be a string, got {_got(value)}",
        "string_too_short": lambda: "must not be empty",
        "string_pattern_mismatch": lambda: (f"must be letters, digits and underscores, not "
                                            f"starting with a digit, got {_got(value)}"),
        "literal_error": lambda: f"must be {ctx.get('expected')}, got {_got(value)}",
        "model_type": lambda: f"must be a mapping of field names to values, got {_got(value)}",
        "dict_type": lambda: f"must be a mapping of field names to values, got {_got(value)}",
        "tuple_type": lambda: f"must be a list, got {_got(value)}",
        "list_type": lambda: f"must be a list, got {_got(value)}",
        "too_short": lambda: (f"must have at least {ctx.get('min_length')} item(s), got "
                              f"{ctx.get('actual_length')}"),
        "value_error": lambda: str(ctx.get("error", err["msg"])),
    }.get(kind)
    msg = text() if text is not None else str(err["msg"])
    return loc, msg + _describe(info), False


def _validate(cls: type[ArchSpec], data: dict[str, Any], filename: str,
              lines: _Lines | None) -> ArchSpec:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        errs = exc.errors()
        # A list whose items failed is also reported too short (pydantic counts only the
        # valid items); the item errors say what is wrong.
        item_locs = {tuple(e["loc"][:i]) for e in errs for i, part in enumerate(e["loc"])
                     if isinstance(part, int)}
        errs = [e for e in errs if not (e["type"] == "too_short" and tuple(e["loc"]) in
                                        item_locs)]
        found = []
        for order, err in enumerate(errs):
            loc, msg, key_line = _message(cls, err)
            where = filename
            line = 0
            if lines is not None:
                line = lines.line(tuple(err["loc"]) if not key_line else loc,
                                  want_key=key_line)
                where = f"{filename}:{line}"
            found.append((line, order, f"{where}: {_dotted(loc)}: {msg}"))
        raise ArchError([m for _, _, m in sorted(found)]) from None


def _spec_from_data(data: dict[str, Any], filename: str, lines: _Lines | None) -> ArchSpec:
    prefix = filename if lines is None else f"{filename}:{lines.key.get(('model',), 1)}"
    model = data.get("model")
    if "model" not in data:
        raise ArchError(f"{prefix}: {TOP}: missing required field 'model' "
                        f"(registered accelerator model; one of {', '.join(spec_models())})")
    if not isinstance(model, str):
        raise ArchError(f"{prefix}: model: must be a string naming an accelerator model, got "
                        f"{_got(model)}; one of {', '.join(spec_models())}")
    cls = spec_class(model)
    if cls is None:
        close = difflib.get_close_matches(model, spec_models(), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ArchError(f"{prefix}: model: unknown accelerator model {model!r}; {hint}known "
                        f"models: {', '.join(spec_models())}")
    return _validate(cls, data, filename, lines)


# -- public entry points ----------------------------------------------------------------------
def spec_from_data(data: Mapping[str, Any], where: str) -> ArchSpec:
    """Validate a mapping (of JSON/YAML values) as a spec; errors start with ``where``."""
    return _spec_from_data(dict(data), where, None)


def parse_value(text: str, where: str) -> Any:
    """One YAML value (a number, true/false, null, a [list], a quoted string) read with a
    spec file's rules (``1e9`` is a float, no tags, the same budgets); errors name
    ``where``."""
    if "\n" in text or "\r" in text:
        raise ArchError(f"{where}: a value is one line; write a list as [a, b]")
    if not text:
        raise ArchError(f"{where}: no value after '='; write null to clear an optional field")
    try:
        data, _ = _parse(f"value: {text}\n", where)
    except ArchError as exc:  # the line numbers are those of the wrapper document
        raise ArchError([re.sub(rf"^{re.escape(where)}:\d+:", f"{where}:", m)
                         for m in exc.messages]) from None
    try:
        json.dumps(data["value"])
    except ValueError:
        raise ArchError(f"{where}: {text!r} refers to itself (a recursive YAML alias); "
                        "write the value out") from None
    return data["value"]


def load_arch_text(text: str, filename: str = "<string>") -> ArchSpec:
    """Parse and validate one YAML document; ``filename`` is used in error messages."""
    data, lines = _parse(text, filename)
    return _spec_from_data(data, filename, lines)


def _presets_dir() -> Traversable:
    return resources.files("accelscope.arch") / "presets"


def preset_names() -> list[str]:
    """Names of the presets shipped in ``accelscope/arch/presets`` (file stems)."""
    return sorted(p.name[:-5] for p in _presets_dir().iterdir() if p.name.endswith(".yaml"))


@functools.cache
def _load_preset(name: str) -> ArchSpec:
    text = (_presets_dir() / f"{name}.yaml").read_text(encoding="utf-8")
    return load_arch_text(text, f"presets/{name}.yaml")


def _unknown(ref: str) -> ArchError:
    names = preset_names()
    close = difflib.get_close_matches(ref, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return ArchError(f"{ref}: no arch preset or YAML file by that name; {hint}presets: "
                     f"{', '.join(names)} (or give the path of a .yaml file)")


def load_arch(ref: str | os.PathLike[str] | Mapping[str, Any] | ArchSpec) -> ArchSpec:
    """An ``ArchSpec`` (of the subclass registered for its ``model``) from a preset name, a
    YAML file path, a mapping, or a spec (returned as is). Raises ``ArchError``."""
    if isinstance(ref, ArchSpec):
        return ref
    if isinstance(ref, Mapping):
        return spec_from_data(ref, "<mapping>")
    if isinstance(ref, str) and ref in preset_names():
        return _load_preset(ref)
    if isinstance(ref, str | os.PathLike):
        path = Path(ref)
        looks_like_file = isinstance(ref, os.PathLike) or path.suffix in (".yaml", ".yml") \
            or os.sep in str(ref) or "/" in str(ref)
        if not path.is_file():
            if looks_like_file:
                hint = (f"the preset is called {path.stem!r}; " if path.stem in preset_names()
                        else "")
                raise ArchError(f"{ref}: no such file; {hint}give the path of an arch YAML "
                                f"file or one of the presets: {', '.join(preset_names())}")
            raise _unknown(str(ref))
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ArchError(f"{ref}: cannot read the file: {exc}") from None
        return load_arch_text(text, str(ref))
    raise ArchError(f"an arch is a preset name, a YAML path, a mapping or an ArchSpec; got "
                    f"{type(ref).__name__}")


def arch_rows() -> list[dict[str, Any]]:
    """One summary row per preset, for ``accelscope archs``."""
    rows = []
    for name in preset_names():
        s = _load_preset(name)
        rows.append({
            "name": s.name, "model": s.model,
            "array": "x".join(str(a) for a in s.compute.array),
            "macs_per_cycle": s.compute.macs_per_cycle, "clock_hz": s.clock_hz,
            "technology_nm": s.technology_nm, "on_chip_bytes": s.on_chip_bytes,
            "dram_bits_per_cycle": s.dram.bandwidth_bits_per_cycle,
            "description": s.description,
        })
    return rows
