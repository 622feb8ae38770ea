"""Architecture specs: frozen pydantic models of an accelerator's compute array, on-chip
memory levels and DRAM, loaded from YAML (see ``loader.py``).

Every field's description ends with its unit in square brackets (``[bytes]``,
``[bits/cycle]``, ...) or a kind marker (``[name]``, ``[choice]``, ``[flag]``, ``[section]``).
No numeric field takes a silent default: a field with a default says so in its description and
``ArchSpec.defaults_used()`` lists it when the YAML left it out, so results can report it.

A model that needs parameters of its own subclasses ``ArchSpec`` and registers the subclass
under its model name with ``register_spec``; ``load_arch`` picks the class from the YAML's
``model:`` key.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from accelscope.output import NAME_RULE, is_name

Tensor = Literal["input", "weight", "output"]
TENSORS: tuple[str, ...] = ("input", "weight", "output")

_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
_MAX_WORD_BITS = 4096  # a memory word may be a whole vector or cache line, unlike an operand
# Upper bounds of physical quantities, far beyond any chip (a wafer-scale engine has under a
# million cores, a GPU 2**18 MACs per cycle): a value beyond them is a typo or a unit error.
_MAX_PES_PER_DIM = 2**20
_MAX_MACS_PER_CYCLE = 2**26
_MAX_CYCLES = 10**6       # cycles per op, pipeline depth
_MAX_BYTES = 2**40        # 1 TiB of on-chip memory in one level
_MAX_BANKS = 2**24
_MAX_BW_BITS = 2.0**32    # bits per cycle of one level or of DRAM
_MAX_PJ_PER_BIT = 1.0e6
_MIN_CLOCK_HZ, _MAX_CLOCK_HZ = 1.0e3, 1.0e11   # 1 kHz .. 100 GHz
_MAX_NODE_NM = 10_000     # 10 um, the early 1970s


MAX_INT = 2**53
"""Largest integer a spec field may hold (exact in a float64)."""
MAX_FLOAT = 1e30
"""Largest magnitude a float spec field may hold."""


PLAUSIBLE_MAX_MACS_PER_CYCLE = 1 << 20
"""Above this many MACs per cycle a spec is flagged (the largest preset, the measured H100
host, has 270,336) [MACs/cycle]."""
PLAUSIBLE_CLOCK_HZ = (1e6, 1e10)
"""Clock frequencies outside this range are flagged: a unit slip (MHz for Hz) [Hz]."""
PLAUSIBLE_MAX_DRAM_BITS_PER_CYCLE = 1 << 16
"""DRAM bandwidth above this is flagged: a per-second figure given per cycle [bits/cycle]."""


class SpecSection(BaseModel):
    """Base of every spec section (and of ``ArchSpec``): unknown keys are errors, values are
    frozen, numbers are finite and never booleans. A model's own section derives from it."""

    # inf and NaN are never a physical quantity; a boolean is never a number
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _bool_is_not_a_number(cls, v: Any, info: ValidationInfo) -> Any:
        if isinstance(v, bool) and info.field_name is not None:
            ann = cls.model_fields[info.field_name].annotation
            kinds = set(get_args(ann)) or {ann}
            if bool not in kinds and kinds & {int, float}:
                raise ValueError(f"must be a number, got {str(v).lower()}; true and false "
                                 "are not numbers")
        elif isinstance(v, int | float) and info.field_name is not None and \
                cls.model_fields[info.field_name].annotation is bool:
            raise ValueError(f"must be true or false, got {v!r}; numbers are not booleans")
        # every section, a model's own included: a number past these cannot be a design
        # parameter and overflows the models' integer and float arithmetic (fuzzing found
        # 1e40-word buses and buffers crashing the Eyeriss and SCNN models)
        elif isinstance(v, int) and abs(v) > MAX_INT:
            raise ValueError(f"is {v:.3g}, beyond {MAX_INT:.3g} (2**53): too large for any "
                             "design parameter")
        elif isinstance(v, float) and math.isfinite(v) and abs(v) > MAX_FLOAT:
            raise ValueError(f"is {v:.3g}, beyond {MAX_FLOAT:g}: too large for any design "
                             "parameter")
        return v


class ComputeSpec(SpecSection):
    """The processing-element (PE) array."""

    array: tuple[Annotated[int, Field(ge=1, le=_MAX_PES_PER_DIM)], ...] = Field(
        min_length=1,
        description="Shape of the PE array, outermost dimension first, e.g. [32, 32] "
                    "[PEs per dimension]")
    macs_per_pe: int = Field(
        default=1, ge=1, le=_MAX_MACS_PER_CYCLE,
        description="Multiply-accumulates one PE issues per cycle (vector lanes, multipliers "
                    "per PE); default 1, reported by defaults_used() [MACs/cycle/PE]")
    macs_per_cycle: int = Field(
        ge=1, le=_MAX_MACS_PER_CYCLE,
        description="Peak MACs the whole array issues per cycle; must equal the product of "
                    "array times macs_per_pe [MACs/cycle]")
    cycles_per_op: int = Field(
        ge=1, le=_MAX_CYCLES,
        description="Cycles between two MAC issues of one PE (1 = fully pipelined) [cycles]")
    pipeline_depth: int = Field(
        ge=0, le=_MAX_CYCLES,
        description="Latency from operand issue to result, paid to fill and drain the "
                    "pipeline once per pass (0 = none) [cycles]")
    operand_bits: int = Field(
        ge=1, le=64, description="Width of one input or weight operand [bits]")
    accumulator_bits: int = Field(
        ge=1, le=64,
        description="Width of one partial sum (accumulator), at least operand_bits [bits]")
    number: Literal["int", "fp"] = Field(
        description="Number format of the operands: 'int' (fixed point) or 'fp' "
                    "(floating point) [choice]")

    @field_validator("macs_per_cycle")
    @classmethod
    def _peak_matches_array(cls, v: int, info: ValidationInfo) -> int:
        array, per_pe = info.data.get("array"), info.data.get("macs_per_pe")
        if array is None or per_pe is None:
            return v  # reported by their own validators
        want = math.prod(array) * per_pe
        if v != want:
            shape = "x".join(str(a) for a in array)
            raise ValueError(f"is {v} but array {shape} x macs_per_pe {per_pe} gives {want}; "
                             "make them agree")
        return v

    @field_validator("accumulator_bits")
    @classmethod
    def _accumulator_holds_operand(cls, v: int, info: ValidationInfo) -> int:
        op = info.data.get("operand_bits")
        if op is not None and v < op:
            raise ValueError(f"is {v}, narrower than operand_bits {op}; an accumulator must "
                             "be at least as wide as an operand")
        return v


class MemoryLevel(SpecSection):
    """One on-chip memory level (register file, scratchpad, buffer, cache)."""

    name: str = Field(
        pattern=_NAME_PATTERN,
        description="Level name used in results, unique within the spec (letters, digits, "
                    "underscore) [name]")
    size_bytes: int = Field(gt=0, le=_MAX_BYTES,
                            description="Capacity of the level, all banks together "
                                              "[bytes]")
    word_bits: int = Field(ge=1, le=_MAX_WORD_BITS,
                           description="Width of one access (one word), 1..4096 [bits]")
    banks: int = Field(
        default=1, ge=1, le=_MAX_BANKS,
        description="Independently addressable banks (or private instances); default 1, "
                    "reported by defaults_used() [count]")
    read_bw_bits_per_cycle: float = Field(
        gt=0, le=_MAX_BW_BITS, description="Peak read bandwidth, all banks together [bits/cycle]")
    write_bw_bits_per_cycle: float = Field(
        gt=0, le=_MAX_BW_BITS, description="Peak write bandwidth, all banks together [bits/cycle]")
    holds: tuple[Tensor, ...] = Field(
        min_length=1,
        description="Tensors this level stores, any of input, weight, output [choice]")
    energy_pj_per_bit_read: float | None = Field(
        default=None, gt=0, le=_MAX_PJ_PER_BIT,
        description="Energy to read one bit; null = priced by the energy table's SRAM model "
                    "from size_bytes and word_bits (the model records that); default null, "
                    "reported by defaults_used() [pJ/bit]")
    energy_pj_per_bit_write: float | None = Field(
        default=None, gt=0, le=_MAX_PJ_PER_BIT,
        description="Energy to write one bit; null = priced by the energy table's SRAM model "
                    "from size_bytes and word_bits (the model records that); default null, "
                    "reported by defaults_used() [pJ/bit]")
    double_buffered: bool = Field(
        default=False,
        description="Whether the level is split in two halves, one filled while the other is "
                    "read, so refills overlap compute and a tile gets half the capacity; "
                    "default false, reported by defaults_used() [flag]")

    @model_validator(mode="after")
    def _a_word_per_bank(self) -> MemoryLevel:
        need = self.banks * -(-self.word_bits // 8)
        if self.size_bytes < need:
            raise ValueError(f"size_bytes {self.size_bytes:,} cannot hold one {self.word_bits}-bit "
                             f"word in each of its {self.banks:,} banks ({need:,} bytes); is "
                             "the size in bytes, all banks together?")
        return self

    @field_validator("holds")
    @classmethod
    def _holds_unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        dup = sorted({t for t in v if v.count(t) > 1})
        if dup:
            raise ValueError(f"lists {', '.join(dup)} more than once; name each tensor once")
        return v


class DramSpec(SpecSection):
    """Off-chip memory."""

    bandwidth_bits_per_cycle: float = Field(
        gt=0, le=_MAX_BW_BITS,
        description="Peak off-chip bandwidth at the accelerator clock, reads and writes "
                          "together [bits/cycle]")
    word_bits: int = Field(
        ge=1, le=_MAX_WORD_BITS,
        description="Access granularity (burst or sector); traffic is counted in whole "
                    "words, 1..4096 [bits]")
    energy_pj_per_bit: float | None = Field(
        default=None, gt=0, le=_MAX_PJ_PER_BIT,
        description="Energy to move one bit to or from DRAM; null = the energy table's DRAM "
                    "figure; default null, reported by defaults_used() [pJ/bit]")


class ArchSpec(SpecSection):
    """An accelerator architecture: what any model needs. Models with parameters of their
    own extend it (see ``register_spec``)."""

    name: str = Field(min_length=1, description="Short name of the spec, used in results, "
                                                "output paths and on the command line "
                                                "[name]")
    model: str = Field(min_length=1, description="Registered accelerator model that "
                                                 "evaluates this spec, e.g. 'ideal', 'host' "
                                                 "[name]")
    description: str = Field(
        default="", description="What the spec represents and the limits of its numbers; "
                                "default empty, reported by defaults_used() [text]")
    source: str = Field(min_length=1, description="Where the numbers come from: paper, "
                                                  "datasheet, measurement or 'own design' "
                                                  "[text]")
    clock_hz: float = Field(ge=_MIN_CLOCK_HZ, le=_MAX_CLOCK_HZ,
                            description="Clock frequency of the compute array [Hz]")
    technology_nm: int = Field(ge=1, le=_MAX_NODE_NM,
                               description="Process node the spec is built in, as the "
                                                 "energy tables name nodes (45, 28, ...) [nm]")
    energy_table: str = Field(
        min_length=1, description="Name of the table in accelscope.energy that prices this "
                                  "spec's actions, e.g. 'horowitz-45nm' [name]")
    compute: ComputeSpec = Field(description="The PE array [section]")
    memory: tuple[MemoryLevel, ...] = Field(
        min_length=1, description="On-chip memory levels, innermost (closest to the PEs) "
                                  "first [section]")
    dram: DramSpec = Field(description="Off-chip memory [section]")

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, v: str) -> str:
        if not is_name(v):
            shown = repr(v) if len(v) <= 80 else repr(v[:77]) + "..."
            raise ValueError(f"{shown} is not a valid name; it is used in output paths and "
                             f"must be {NAME_RULE}")
        return v

    @field_validator("memory")
    @classmethod
    def _levels_consistent(cls, v: tuple[MemoryLevel, ...]) -> tuple[MemoryLevel, ...]:
        problems = []
        first: dict[str, int] = {}
        for i, level in enumerate(v):
            if level.name in first:
                problems.append(f"memory[{i}] reuses the name {level.name!r} of "
                                f"memory[{first[level.name]}] (names must be unique)")
            first.setdefault(level.name, i)
        missing = [t for t in TENSORS if not any(t in level.holds for level in v)]
        if missing:
            problems.append(f"no level holds {', '.join(missing)} (add it to the holds list "
                            "of a level)")
        if problems:
            raise ValueError("; ".join(problems))
        return v

    def resolved(self) -> dict[str, Any]:
        """Every field with defaults filled in, as JSON values (what a result records)."""
        return self.model_dump(mode="json")

    def defaults_used(self) -> list[str]:
        """Dotted paths (``memory[0].banks``) of the fields that were not given and took
        their documented default; a result lists them in its provenance."""
        return _defaults_used(self, "")

    def plausibility(self) -> list[str]:
        """Warnings (not errors) for a design that validates but is physically odd: beyond
        the bounds below, a number is more likely a typo or a unit slip than a chip. A
        result lists them in its warnings; the bounds are in docs/assumptions.md."""
        out = []
        c = self.compute
        if c.macs_per_cycle > PLAUSIBLE_MAX_MACS_PER_CYCLE:
            out.append(f"compute.macs_per_cycle {c.macs_per_cycle:,} is above "
                       f"{PLAUSIBLE_MAX_MACS_PER_CYCLE:,}, more than one chip holds; check the "
                       "array shape and macs_per_pe")
        if not PLAUSIBLE_CLOCK_HZ[0] <= self.clock_hz <= PLAUSIBLE_CLOCK_HZ[1]:
            out.append(f"clock_hz {self.clock_hz:g} is outside {PLAUSIBLE_CLOCK_HZ[0]:g} .. "
                       f"{PLAUSIBLE_CLOCK_HZ[1]:g} Hz; clock_hz is in Hz (500 MHz = 5e8)")
        lane_bytes = c.operand_bits / 8
        if self.memory:  # (a level below one word per bank is refused by the validation)
            i, m = len(self.memory) - 1, self.memory[-1]
            if m.size_bytes < c.macs_per_cycle * lane_bytes:
                out.append(f"memory[{i}] ({m.name}), the outermost on-chip level, holds "
                           f"{m.size_bytes:,} bytes, less than one operand per MAC lane "
                           f"({c.macs_per_cycle:,} x {c.operand_bits} bits): no tile fits")
        if self.dram.bandwidth_bits_per_cycle > PLAUSIBLE_MAX_DRAM_BITS_PER_CYCLE:
            out.append(f"dram.bandwidth_bits_per_cycle {self.dram.bandwidth_bits_per_cycle:g} "
                       f"is above {PLAUSIBLE_MAX_DRAM_BITS_PER_CYCLE:,} bits per cycle; "
                       "the field is per clock cycle, not per second")
        return out

    def level(self, name: str) -> MemoryLevel:
        """The memory level called ``name``."""
        for level in self.memory:
            if level.name == name:
                return level
        raise KeyError(f"arch {self.name!r} has no memory level {name!r}; levels: "
                       f"{', '.join(m.name for m in self.memory)}")

    @property
    def on_chip_bytes(self) -> int:
        """Capacity of all on-chip levels together [bytes]."""
        return sum(m.size_bytes for m in self.memory)


def _defaults_used(obj: BaseModel, prefix: str) -> list[str]:
    out = []
    for name in type(obj).model_fields:
        path = f"{prefix}.{name}" if prefix else name
        if name not in obj.model_fields_set:
            out.append(path)
            continue
        value = getattr(obj, name)
        if isinstance(value, BaseModel):
            out += _defaults_used(value, path)
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    out += _defaults_used(item, f"{path}[{i}]")
    return out


# -- registry: model name -> spec class ------------------------------------------------------
S = TypeVar("S", bound=type[ArchSpec])
_SPECS: dict[str, type[ArchSpec]] = {}


def register_spec(model_name: str) -> Callable[[S], S]:
    """Class decorator: YAMLs with ``model: <model_name>`` load as this ``ArchSpec``
    subclass."""

    def deco(cls: S) -> S:
        if not (isinstance(cls, type) and issubclass(cls, ArchSpec)):
            raise TypeError(f"register_spec({model_name!r}) needs an ArchSpec subclass, "
                            f"got {cls!r}")
        if _SPECS.get(model_name, cls) is not cls:
            raise ValueError(f"model {model_name!r} already has the spec class "
                             f"{_SPECS[model_name].__name__}")
        _SPECS[model_name] = cls
        return cls

    return deco


def spec_models() -> list[str]:
    """Model names with a registered spec class."""
    return sorted(_SPECS)


def spec_class(model_name: str) -> type[ArchSpec] | None:
    """The spec class registered for ``model_name``, or ``None``. ``accelscope.models.registry``
    registers the built-in models' classes (``import accelscope`` imports it)."""
    return _SPECS.get(model_name)




# -- host (measured) baseline ----------------------------------------------------------------
class HostParams(SpecSection):
    """How the host model measures: device, threads, repetitions, power assumption."""

    device: Literal["cpu", "cuda"] = Field(description="Where PyTorch runs the layers: "
                                                       "'cpu' or 'cuda' [choice]")
    threads: int | None = Field(
        default=None, ge=1,
        description="CPU threads for PyTorch; null = torch's own default (the result reports "
                    "the count used); default null, reported by defaults_used() [count]")
    repeats: int = Field(ge=1, description="Timed runs per layer; the median is reported "
                                           "[count]")
    warmup: int = Field(ge=0, description="Untimed runs per layer before timing [count]")
    tdp_w: float = Field(
        gt=0, description="Power assumed when no energy counter (RAPL, NVML) is readable: "
                          "energy = tdp_w x measured time; an assumption, not a measurement "
                          "[W]")
    dtype: Literal["float32", "float16", "bfloat16"] = Field(
        description="Data type the layers run in [choice]")


class HostSpec(ArchSpec):
    """A measured baseline: the compute and memory sections are a roofline reference only;
    the host model times PyTorch on this machine."""

    model: Literal["host"] = Field(description="Always 'host' for this spec class [name]")
    host: HostParams = Field(description="Measurement settings [section]")


# -- display -----------------------------------------------------------------------------------
_COMMENT_COLUMN = 40
def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != 0 and not 1e-3 <= abs(value) < 1e6:
            mant, exp = f"{value:.12e}".split("e")
            mant = mant.rstrip("0")
            return f"{mant}0e{int(exp)}" if mant.endswith(".") else f"{mant}e{int(exp)}"
        return repr(value)
    text = str(value)
    plain = (text and text.strip() == text and text[0].isalpha() and "#" not in text
             and ": " not in text and text.lower() not in ("null", "true", "false", "yes", "no",
                                                          "on", "off", "y", "n"))
    if plain and all(c.isalnum() or c in " _-./()+,x" for c in text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped + '"'


def _human(field: str, value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    scale: float
    if field.endswith("_bytes"):
        for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if value >= scale:
                return f" (= {value / scale:g} {unit})"
    if field.endswith("_hz"):
        for unit, scale in (("GHz", 1e9), ("MHz", 1e6), ("kHz", 1e3)):
            if value >= scale:
                return f" (= {value / scale:g} {unit})"
    return ""


def _dump(obj: BaseModel, indent: str, first_prefix: str | None = None) -> list[str]:
    lines: list[str] = []
    rows: list[tuple[str, str]] = []  # (text, comment); a nested block has no comment
    nested: dict[int, list[str]] = {}
    for name, info in type(obj).model_fields.items():
        value = getattr(obj, name)
        note = info.description or ""
        if name not in obj.model_fields_set:
            note = "(default) " + note
        if isinstance(value, BaseModel):
            rows.append((f"{name}:", note))
            nested[len(rows) - 1] = _dump(value, indent + "  ")
        elif isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
            rows.append((f"{name}:", note))
            block = []
            for item in value:
                block += _dump(item, indent + "    ", first_prefix=indent + "  - ")
            nested[len(rows) - 1] = block
        elif isinstance(value, tuple):
            rows.append((f"{name}: [{', '.join(_scalar(v) for v in value)}]", note))
        else:
            rows.append((f"{name}: {_scalar(value)}", note + _human(name, value).rstrip()))
    # Long values (descriptions, citations) get their comment on the line above.
    width = max([len(t) for t, _ in rows if len(t) <= _COMMENT_COLUMN] or [0])
    for i, (text, comment) in enumerate(rows):
        lead = first_prefix if (i == 0 and first_prefix is not None) else indent
        if len(text) > _COMMENT_COLUMN:
            lines.append(f"{lead}# {comment}")
            lead = " " * len(lead)
            lines.append(f"{lead}{text}")
        else:
            lines.append(f"{lead}{text.ljust(width)}  # {comment}")
        lines += nested.get(i, [])
    return lines


def format_arch(spec: ArchSpec) -> str:
    """The whole spec as YAML, each field followed by its description (with unit) as a
    comment; fields that took their default are marked ``(default)``. The text loads back
    with ``load_arch_text``."""
    head = [f"# {spec.name}: {type(spec).__name__} for model {spec.model!r}"]
    return "\n".join(head + _dump(spec, "")) + "\n"


def iter_fields(cls: type[BaseModel], prefix: str = "") -> Iterable[tuple[str, Any]]:
    """(dotted path, FieldInfo) for every field of a spec class and its nested sections."""
    for name, info in cls.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        yield path, info
        inner = _model_in(info.annotation)
        if inner is not None:
            suffix = "[]" if _is_tuple(info.annotation) else ""
            yield from iter_fields(inner, path + suffix)


def _is_tuple(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is tuple


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The spec class an annotation holds directly or as tuple items, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None
