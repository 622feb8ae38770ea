"""Architecture specs: presets, the YAML loader's error messages, defaults and schema rules."""

from __future__ import annotations

import re

import pydantic
import pytest

from accelscope.arch import (
    ArchError,
    ArchSpec,
    ComputeSpec,
    DramSpec,
    HostParams,
    HostSpec,
    MemoryLevel,
    arch_rows,
    format_arch,
    iter_fields,
    load_arch,
    load_arch_text,
    preset_names,
    register_spec,
    spec_class,
    spec_models,
)
from accelscope.arch import spec as spec_module
from accelscope.errors import AccelscopeError

# A minimal valid spec; the line numbers below refer to it.
VALID = """\
name: t
model: ideal
source: test
clock_hz: 1e9
technology_nm: 45
energy_table: horowitz-45nm
compute:
  array: [4, 4]
  macs_per_cycle: 16
  cycles_per_op: 1
  pipeline_depth: 2
  operand_bits: 8
  accumulator_bits: 24
  number: int
memory:
  - name: buf
    size_bytes: 1024
    word_bits: 32
    read_bw_bits_per_cycle: 64
    write_bw_bits_per_cycle: 64
    holds: [input, weight, output]
dram:
  bandwidth_bits_per_cycle: 32
  word_bits: 32
"""
OMITTED_DEFAULTS = [
    "description", "compute.macs_per_pe", "memory[0].banks",
    "memory[0].energy_pj_per_bit_read", "memory[0].energy_pj_per_bit_write",
    "memory[0].double_buffered", "dram.energy_pj_per_bit",
]


def edit(old: str, new: str, text: str = VALID) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def errors(text: str, filename: str = "t.yaml") -> list[str]:
    with pytest.raises(ArchError) as info:
        load_arch_text(text, filename)
    assert str(info.value) == "\n".join(info.value.messages)
    return info.value.messages


def one_error(text: str) -> str:
    msgs = errors(text)
    assert len(msgs) == 1, msgs
    return msgs[0]


# -- presets ----------------------------------------------------------------------------------
def test_preset_names():
    assert {"ideal", "cpu", "gpu"} <= set(preset_names())


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_loads_explicitly_and_round_trips(name):
    spec = load_arch(name)
    assert spec.name == name
    assert isinstance(spec, spec_class(spec.model))
    assert spec.defaults_used() == []  # presets spell every field out
    assert spec.description and spec.source
    assert load_arch_text(format_arch(spec), f"{name}-dump.yaml") == spec
    assert load_arch(name) is spec  # presets are parsed once


def test_ideal_preset_numbers():
    s = load_arch("ideal")
    assert type(s) is ArchSpec and s.model == "ideal"
    assert s.compute.array == (32, 32) and s.compute.macs_per_cycle == 1024
    assert (s.compute.operand_bits, s.compute.accumulator_bits) == (16, 32)
    assert s.clock_hz == 1e9 and s.technology_nm == 45 and s.energy_table == "horowitz-45nm"
    (glb,) = s.memory
    assert glb.size_bytes == 512 * 1024 and set(glb.holds) == {"input", "weight", "output"}
    assert glb.read_bw_bits_per_cycle == glb.write_bw_bits_per_cycle == 1024
    assert s.dram.bandwidth_bits_per_cycle == 128
    assert "upper bound" in s.description and "not a real chip" in s.description


def test_host_presets():
    cpu, gpu = load_arch("cpu"), load_arch("gpu")
    assert isinstance(cpu, HostSpec) and isinstance(gpu, HostSpec)
    assert cpu.host.device == "cpu" and gpu.host.device == "cuda"
    assert "measure" in cpu.description and "H100" in gpu.source
    assert gpu.compute.macs_per_cycle == 132 * 2048


def test_arch_rows():
    rows = arch_rows()
    assert [r["name"] for r in rows] == preset_names()
    ideal = next(r for r in rows if r["name"] == "ideal")
    assert ideal == {**ideal, "model": "ideal", "array": "32x32", "macs_per_cycle": 1024,
                     "clock_hz": 1e9, "technology_nm": 45, "on_chip_bytes": 524288,
                     "dram_bits_per_cycle": 128}
    assert set(ideal) == {"name", "model", "array", "macs_per_cycle", "clock_hz",
                          "technology_nm", "on_chip_bytes", "dram_bits_per_cycle",
                          "description"}


# -- loading ------------------------------------------------------------------------------------
def test_minimal_spec_and_defaults_used():
    s = load_arch_text(VALID, "t.yaml")
    assert type(s) is ArchSpec
    assert s.clock_hz == 1e9  # 1e9 is a float here, not the string YAML 1.1 would read
    assert s.compute.macs_per_pe == 1 and s.memory[0].banks == 1
    assert s.defaults_used() == OMITTED_DEFAULTS


def test_explicit_default_is_not_reported():
    s = load_arch_text(edit("  macs_per_cycle: 16", "  macs_per_pe: 1\n  macs_per_cycle: 16"))
    assert "compute.macs_per_pe" not in s.defaults_used()


def test_format_marks_defaults_and_units():
    s = load_arch_text(VALID, "t.yaml")
    text = format_arch(s)
    assert re.search(r"^  macs_per_pe: 1 +# \(default\) .*\[MACs/cycle/PE\]$", text, re.M)
    assert re.search(r"^    size_bytes: 1024 +# .*\[bytes\] \(= 1 KiB\)$", text, re.M)
    assert load_arch_text(text, "dump.yaml") == s


def test_load_arch_accepts_path_mapping_and_spec(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(VALID)
    s = load_arch(path)
    assert load_arch(str(path)) == s
    assert load_arch(s) is s
    data = {**load_arch("ideal").model_dump(), "name": "copy"}
    assert load_arch(data).name == "copy"


def test_host_spec_section():
    text = edit("model: ideal", "model: host") + (
        "host:\n  device: cpu\n  repeats: 3\n  warmup: 1\n  tdp_w: 10\n  dtype: float32\n")
    s = load_arch_text(text, "h.yaml")
    assert isinstance(s, HostSpec) and s.host.threads is None
    assert "host.threads" in s.defaults_used()
    assert one_error(edit("model: ideal", "model: host")) == (
        "t.yaml:1: (top level): missing required field 'host' (Measurement settings "
        "[section])")


# -- errors: file:line: dotted.path: message ------------------------------------------------------
def test_unknown_key_suggests_the_field():
    msgs = errors(edit("macs_per_cycle: 16", "macs_per_cyle: 16"))
    assert "t.yaml:9: compute.macs_per_cyle: unknown key; did you mean 'macs_per_cycle'?" in msgs
    assert msgs[0].startswith("t.yaml:7: compute: missing required field 'macs_per_cycle' (")


def test_unknown_key_without_a_close_match_lists_the_keys():
    msg = one_error(edit("dram:\n", "dram:\n  zzz: 1\n"))
    assert msg.startswith("t.yaml:23: dram.zzz: unknown key; valid keys: "
                          "bandwidth_bits_per_cycle, word_bits, energy_pj_per_bit")


def test_duplicate_key_names_both_lines():
    msg = one_error(edit("  pipeline_depth: 2\n", "  pipeline_depth: 2\n  pipeline_depth: 3\n"))
    assert msg == ("t.yaml:12: compute.pipeline_depth: duplicate key 'pipeline_depth' "
                   "(first at line 11); keep one")


def test_duplicate_top_level_key():
    msg = one_error(VALID + "name: again\n")
    assert msg.startswith("t.yaml:25: name: duplicate key 'name' (first at line 1)")


def test_wrong_type():
    msg = one_error(edit("operand_bits: 8", "operand_bits: eight"))
    assert msg.startswith("t.yaml:12: compute.operand_bits: must be an integer, got 'eight' (")
    assert msg.endswith("[bits])")
    msgs = errors(edit("compute:\n", "compute: 3\ncompute_was:\n"))
    assert msgs[0].startswith("t.yaml:7: compute: must be a mapping of field names to values, "
                              "got 3")
    assert msgs[1] == "t.yaml:8: compute_was: unknown key; did you mean 'compute'?"


def test_negative_size():
    msg = one_error(edit("size_bytes: 1024", "size_bytes: -4"))
    assert msg.startswith("t.yaml:17: memory[0].size_bytes: must be > 0, got -4 (")


def test_missing_field_names_its_unit():
    msg = one_error(edit("  operand_bits: 8\n", ""))
    assert msg == ("t.yaml:7: compute: missing required field 'operand_bits' "
                   "(Width of one input or weight operand [bits])")


def test_missing_field_in_a_list_item():
    msg = one_error(edit("    word_bits: 32\n    read", "    read"))
    assert msg.startswith("t.yaml:16: memory[0]: missing required field 'word_bits' (")


def test_all_errors_at_once_in_line_order():
    text = edit("clock_hz: 1e9", "clock_hz: 0")
    text = edit("  number: int", "  number: posit", text)
    text = edit("per_cycle: 32\n  word_bits: 32", "per_cycle: 32\n  word_bits: 0", text)
    msgs = errors(text)
    assert [m.split(":")[1] for m in msgs] == ["4", "14", "24"]
    assert msgs[0].startswith("t.yaml:4: clock_hz: must be >= 1000, got 0 (")  # 1 kHz minimum
    assert msgs[1].startswith("t.yaml:14: compute.number: must be 'int' or 'fp', got 'posit'")
    assert msgs[2].startswith("t.yaml:24: dram.word_bits: must be >= 1, got 0")


@pytest.mark.parametrize(("old", "new", "prefix"), [
    ("  pipeline_depth: 2\n", "  pipeline_depth: 2\n bad: 1\n",
     "t.yaml:12: YAML syntax: "),
    ("holds: [input, weight, output]", "holds: [input, weight",
     "t.yaml:22: YAML syntax: "),
    ("name: t", "name: !!python/name:os.system t", "t.yaml:1: YAML syntax: "),
])
def test_malformed_yaml(old, new, prefix):
    assert one_error(edit(old, new)).startswith(prefix)


@pytest.mark.parametrize(("text", "want"), [
    ("- a\n- b\n", "t.yaml:1: (top level): must be a mapping of field names to values, got "
                   "a list"),
    ("\n\njust text\n", "t.yaml:3: (top level): must be a mapping of field names to values, "
                        "got the str 'just text'"),
    ("", "t.yaml:1: (top level): the file is empty"),
    ("# only a comment\n", "t.yaml:1: (top level): the file is empty"),
])
def test_non_mapping_top_level(text, want):
    assert one_error(text).startswith(want)


def test_unknown_model_lists_known_ones():
    msg = one_error(edit("model: ideal", "model: ideel"))
    assert msg.startswith("t.yaml:2: model: unknown accelerator model 'ideel'; did you mean "
                          "'ideal'? known models: ")
    for name in ("host", "ideal"):
        assert name in msg.split("known models: ")[1].split(", ")


def test_missing_model():
    assert one_error(edit("model: ideal\n", "")).startswith(
        "t.yaml:1: (top level): missing required field 'model'")


def test_unknown_preset_lists_presets():
    with pytest.raises(ArchError) as info:
        load_arch("idael")
    msg = str(info.value)
    assert msg.startswith("idael: no arch preset or YAML file by that name; did you mean "
                          "'ideal'? presets: ")
    assert ", ".join(preset_names()) in msg


def test_missing_file(tmp_path):
    path = tmp_path / "absent.yaml"
    with pytest.raises(ArchError, match=r"absent\.yaml: no such file; .* presets: cpu"):
        load_arch(path)


def test_file_errors_carry_the_path(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(edit("size_bytes: 1024", "size_bytes: -4"))
    with pytest.raises(ArchError) as info:
        load_arch(str(path))
    assert info.value.messages[0].startswith(f"{path}:17: memory[0].size_bytes: must be > 0")


def test_mapping_errors_have_no_line():
    data = load_arch("ideal").model_dump()
    data["compute"] = {**data["compute"], "macs_per_cycle": 1000}
    with pytest.raises(ArchError) as info:
        load_arch(data)
    assert info.value.messages[0].startswith(
        "<mapping>: compute.macs_per_cycle: is 1000 but array 32x32 x macs_per_pe 1 gives "
        "1024; make them agree")


def test_errors_are_accelscope_errors():
    assert issubclass(ArchError, AccelscopeError)
    with pytest.raises(ArchError, match="got int"):
        load_arch(3)  # type: ignore[arg-type]


# -- schema rules ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("old", "new", "prefix"), [
    ("macs_per_cycle: 16", "macs_per_cycle: 17",
     "t.yaml:9: compute.macs_per_cycle: is 17 but array 4x4 x macs_per_pe 1 gives 16"),
    ("accumulator_bits: 24", "accumulator_bits: 4",
     "t.yaml:13: compute.accumulator_bits: is 4, narrower than operand_bits 8"),
    ("operand_bits: 8", "operand_bits: 65",
     "t.yaml:12: compute.operand_bits: must be <= 64, got 65"),
    ("array: [4, 4]", "array: [4, 0]", "t.yaml:8: compute.array[1]: must be >= 1, got 0"),
    ("array: [4, 4]", "array: []", "t.yaml:8: compute.array: must have at least 1 item(s)"),
    ("cycles_per_op: 1", "cycles_per_op: 0", "t.yaml:10: compute.cycles_per_op: must be >= 1"),
    ("holds: [input, weight, output]", "holds: [input, weight]",
     "t.yaml:15: memory: no level holds output (add it to the holds list of a level)"),
    ("holds: [input, weight, output]", "holds: [input, input, weight, output]",
     "t.yaml:21: memory[0].holds: lists input more than once"),
    ("holds: [input, weight, output]", "holds: [input, weights, output]",
     "t.yaml:21: memory[0].holds[1]: must be 'input', 'weight' or 'output', got 'weights'"),
    ("- name: buf", "- name: 2buf", "t.yaml:16: memory[0].name: must be letters, digits"),
    ("read_bw_bits_per_cycle: 64", "read_bw_bits_per_cycle: -1",
     "t.yaml:19: memory[0].read_bw_bits_per_cycle: must be > 0, got -1"),
    ("energy_table: horowitz-45nm", "energy_table: ''",
     "t.yaml:6: energy_table: must not be empty"),
])
def test_schema_rules(old, new, prefix):
    assert one_error(edit(old, new)).startswith(prefix)


def test_level_names_unique():
    level = VALID[VALID.index("  - name: buf"):VALID.index("dram:")]
    msg = one_error(edit("dram:\n", level + "dram:\n"))
    assert msg.startswith("t.yaml:15: memory: memory[1] reuses the name 'buf' of memory[0]")


def test_specs_are_frozen_and_hashable():
    s = load_arch_text(VALID, "t.yaml")
    with pytest.raises(pydantic.ValidationError):
        s.clock_hz = 2e9  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        s.memory[0].size_bytes = 1  # type: ignore[misc]
    assert isinstance(s.memory, tuple) and isinstance(s.compute.array, tuple)
    assert hash(s) == hash(load_arch_text(VALID, "again.yaml"))


def test_level_lookup():
    s = load_arch("cpu")
    assert s.level("l2").size_bytes == 2 * 2**20
    with pytest.raises(KeyError, match="levels: l1d, l2, l3"):
        s.level("l4")


# -- every field documents its unit ---------------------------------------------------------------
UNITS = {"bits", "bytes", "bits/cycle", "cycles", "Hz", "nm", "pJ/bit", "W", "MACs/cycle",
         "MACs/cycle/PE", "PEs per dimension", "count", "PEs", "ops/cycle", "elements",
         "elements/cycle", "filters", "words", "words/cycle", "instructions", "pJ", "pJ/cycle",
         "s"}
MARKERS = {"unitless", "name", "text", "choice", "flag", "section"}


def spec_classes():
    from accelscope.models.registry import model_names

    model_names()  # registers every built-in model's spec class
    classes = {ArchSpec, HostSpec, ComputeSpec, MemoryLevel, DramSpec, HostParams}
    classes |= {spec_class(m) for m in spec_models()}
    return sorted(classes, key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", spec_classes(), ids=lambda c: c.__name__)
def test_every_field_has_a_unit_and_documents_its_default(cls):
    assert cls.model_config.get("extra") == "forbid" and cls.model_config.get("frozen")
    for path, info in iter_fields(cls):
        desc = info.description or ""
        m = re.search(r"\[([^\[\]]+)\]$", desc)
        assert m and m.group(1) in UNITS | MARKERS, f"{cls.__name__}.{path}: {desc!r}"
        assert "\n" not in desc and len(desc) > len(m.group(0)) + 10, path
        if not info.is_required():
            assert "default" in desc and "defaults_used()" in desc, (
                f"{cls.__name__}.{path} has a default its description does not document")


# -- registry -------------------------------------------------------------------------------------
def test_register_spec_subclass(monkeypatch):
    monkeypatch.setattr(spec_module, "_SPECS", dict(spec_module._SPECS))

    class SlowSpec(ArchSpec):
        penalty_cycles: int = pydantic.Field(ge=0, description="Extra cycles [cycles]")

    assert register_spec("slow-test")(SlowSpec) is SlowSpec
    assert "slow-test" in spec_models()
    s = load_arch_text(edit("model: ideal", "model: slow-test") + "penalty_cycles: 3\n", "s")
    assert isinstance(s, SlowSpec) and s.penalty_cycles == 3
    with pytest.raises(ValueError, match="already has the spec class SlowSpec"):
        register_spec("slow-test")(HostSpec)
    with pytest.raises(TypeError, match="needs an ArchSpec subclass"):
        register_spec("other")(dict)  # type: ignore[arg-type]
