"""Property-based fuzzing of what users feed accelscope (issue 23): mutated arch presets,
SCALE-Sim configs and topologies, small ONNX models and option strings. The only outcomes
allowed are a valid result or the located error type (``AccelscopeError``); never another
exception, a hang, or a write outside the output directory.

``make test`` runs a short budget (25 examples a property); ``make fuzz`` the long one
(``--hypothesis-profile=fuzz``: 40,000 a property, about half an hour). Inputs that once broke a
property stay below as ``@example`` regression cases.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import accelscope
from accelscope.arch import ArchSpec
from accelscope.arch.loader import ArchError, load_arch_text
from accelscope.errors import AccelscopeError
from accelscope.pipeline import build_workloads, evaluate_workloads

PRESETS = Path(accelscope.__file__).parent / "arch" / "presets"
SCALESIM = Path(__file__).parents[2] / "examples" / "scalesim"
# presets cheap enough to evaluate a mutated copy of on a tiny network (the measured host
# presets time PyTorch, the CGRA simulates instructions: both are fuzzed for loading only)
FAST = ("ideal", "spots", "systolic-dense", "scalesim-32x32", "gemmini", "scnn", "dcnn",
        "eyeriss")
PRESET_NAMES = sorted(p.stem for p in PRESETS.glob("*.yaml"))

# ``make test``: a short budget per property; ``make fuzz`` loads the ``fuzz`` profile
# (tests/conftest.py) and every property runs its examples
FUZZING = settings.default.max_examples >= 1000
# the short run is derandomized: CI sees the same examples every time (a finding there is a
# regression), the long run explores
budget = settings(max_examples=settings.default.max_examples if FUZZING else 25,
                  derandomize=not FUZZING, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow,
                                         HealthCheck.function_scoped_fixture])

# values a careless or hostile user puts where a number, a name or a list belongs
NASTY = ["-1", "0", "1", "0.5", "1e30", "1e-30", "-1e30", ".inf", "-.inf", ".nan", "true",
         "false", "null", "~", "''", '"[/x]"', '"a\\u0000b"', "[]", "{}", "[1, 2, 3]",
         "[0, 0]", "x" * 300, '"../../etc"', "9" * 40, "2**64", "0x10", "1_000", "&a 3",
         "*a", "!!python/object:os.system 'ls'", "{a: 1}", "|\n  text", "[-1, 4]",
         "[1e9, 1e9]", "- 1\n- 2", "4096", "65536", "1e9"]


@st.composite
def mutated_yaml(draw):
    """A preset's text with one to three line-level mutations."""
    name = draw(st.sampled_from(PRESET_NAMES))
    lines = (PRESETS / f"{name}.yaml").read_text().splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["value", "value", "value", "drop", "dup", "key", "indent",
                                    "bytes"]))
        line = lines[i]
        m = re.match(r"^(\s*(?:- )?)([A-Za-z_][\w]*)(\s*:\s*)(.*)$", line)
        if how == "value" and m:
            lines[i] = m.group(1) + m.group(2) + m.group(3) + draw(st.sampled_from(NASTY))
        elif how == "drop":
            del lines[i]
        elif how == "dup":
            lines.insert(i, line)
        elif how == "key" and m:
            lines[i] = m.group(1) + draw(st.sampled_from(["nmae", "model", "x", "name",
                                                          "memory", "compute"])) \
                + m.group(3) + m.group(4)
        elif how == "indent":
            lines[i] = draw(st.sampled_from(["", " ", "   ", "\t"])) + line.lstrip()
        elif how == "bytes":
            lines[i] = line + draw(st.text(max_size=6))
        if not lines:
            lines = [""]
    return name, "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def tiny_workloads():
    zm = accelscope.zoo.get("tiny")
    chain = accelscope.lower(zm)
    return chain.name, build_workloads(chain, zm.example_input())


def _with(name: str, old: str, new: str) -> tuple[str, str]:
    text = (PRESETS / f"{name}.yaml").read_text()
    assert old in text, (name, old)
    return name, text.replace(old, new, 1)


@budget
@given(case=mutated_yaml())
# found by make fuzz: a 1e40-word bus or buffer loaded and overflowed the model's arithmetic
@example(case=_with("eyeriss", "ifmap_bus_words: 1", "ifmap_bus_words: " + "9" * 40 + " #"))
@example(case=_with("dcnn", "size_bytes: 1048576", "size_bytes: " + "9" * 40 + " #"))
# found by make test's short run: a dense SCNN with a scatter crossbar (IndexError), and a
# number where a boolean belongs
@example(case=_with("scnn", "skip_zeros: true", "skip_zeros: false"))
@example(case=_with("scnn", "skip_zeros: true", "skip_zeros: 0"))
# found by make fuzz: a SPOTS weight block of 1e9 filters padded every group to 1e9 (27 GB)
@example(case=_with("spots", "weight_block: 4 ", "weight_block: 1000000000 "))
# found by make fuzz (2026-12-05): 1e9 SCNN conflict samples allocated 48 GB
@example(case=_with("scnn", "conflict_samples: 4096", "conflict_samples: 1e9"))
@example(case=("ideal", "name: ideal\nmodel: ideal\nclock_hz: .inf\n"))
@example(case=("ideal", "a: &a [x, x]\nb: &b [*a, *a]\nname: *b\n"))
@example(case=("ideal", "name: id\x00eal\n"))
def test_mutated_arch_yaml_loads_or_gives_a_located_error(case, tiny_workloads):
    name, text = case
    try:
        spec = load_arch_text(text, f"{name}.yaml")
    except ArchError as exc:
        assert str(exc).startswith(f"{name}.yaml"), str(exc)  # located: names the file
        return
    assert isinstance(spec, ArchSpec)
    if name not in FAST or spec.model != load_arch_text(
            (PRESETS / f"{name}.yaml").read_text(), name).model:
        return
    network, workloads = tiny_workloads
    try:
        r = evaluate_workloads(workloads, spec, network=network)
    except AccelscopeError:
        return
    assert r.cycles > 0 and all(v >= 0 for v in r.energy_pj.values())


@st.composite
def mutated_cfg(draw):
    lines = (SCALESIM / "scale.cfg").read_text().splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        m = re.match(r"^(\w+)(\s*[:=]\s*)(.*)$", lines[i])
        how = draw(st.sampled_from(["value", "value", "drop", "dup", "section"]))
        if how == "value" and m:
            lines[i] = m.group(1) + m.group(2) + draw(st.sampled_from(
                ["0", "-1", "1", "7", "1e9", "x", "", "os", "ws", "is", "CALC", "USER",
                 "999999999999", "../../x", "True", "1.5"]))
        elif how == "drop":
            del lines[i]
        elif how == "dup":
            lines.insert(i, lines[i])
        elif how == "section":
            lines.insert(i, draw(st.sampled_from(["[general]", "[x]", "[", "]"])))
    return "\n".join(lines) + "\n"


ROWS = st.lists(st.tuples(
    st.sampled_from(["conv", "DP_conv", "fc", "", "x,y", "a" * 100]),
    *[st.sampled_from(["0", "1", "3", "7", "32", "-1", "x", "", "1e3", "100000"])
      for _ in range(7)]), min_size=0, max_size=3)


@budget
@given(cfg=mutated_cfg(), rows=ROWS)
def test_mutated_scalesim_inputs_run_or_give_a_located_error(cfg, rows, tmp_path_factory):
    from accelscope.interop.scalesim import read_config, read_topology, simulate

    d = tmp_path_factory.mktemp("ss")
    (d / "scale.cfg").write_text(cfg)
    topo = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, " \
           "Num Filter, Strides,\n" + "".join(", ".join(r) + ",\n" for r in rows)
    (d / "topo.csv").write_text(topo)
    try:
        c = read_config(d / "scale.cfg")
        layers = read_topology(d / "topo.csv")
    except AccelscopeError:
        return
    if sum(getattr(x, "channels", 1) for x in layers) > 4096 or any(
            getattr(x, "ifmap_h", 0) * getattr(x, "ifmap_w", 0) > 10_000 for x in layers) \
            or c.array_rows * c.array_cols > 4096:
        return  # valid but slow: the corpus covers the size bounds
    try:
        reports = simulate(c, layers)
    except AccelscopeError:
        return
    assert len(reports) >= len(layers)


@budget
@given(text=st.one_of(st.text(max_size=30), st.sampled_from(
    ["1,3,32,32", "0,3,32,32", "1x3x32x32", "-1,3,3,3", "1,3", "1,3,1e9,1", "", ",,,",
     "gconv,matrix", "gconv,gconv", "host-fallback", "dct", "dct:quality=0", "dct:x=1",
     "dct:quality=1e9", "0.7", "1.5", "nm:2:4", "nm:5:4", "block:0x1:0.5", "magnitude:-1",
     "0.1,0.5,1.0", "0.1,,1", "nan", "-0.1", "1e400"])))
def test_option_strings_parse_or_give_a_located_error(text):
    from accelscope.cli.studies import _parse_densities
    from accelscope.compress.inloop import parse_compress, parse_hardware
    from accelscope.passes import parse_strategies
    from accelscope.sparsity.prune import parse_prune_spec
    from accelscope.workload.inputs import parse_shape

    for parse in (parse_shape, parse_strategies, parse_compress, parse_hardware,
                  parse_prune_spec, _parse_densities):
        try:
            parse(text)
        except AccelscopeError as exc:
            assert str(exc), parse.__name__


def _tiny_onnx() -> bytes:
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(),
                                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                torch.nn.Linear(4, 2))
    buf = io.BytesIO()
    torch.onnx.export(model, (torch.randn(1, 3, 8, 8),), buf, dynamo=False)
    return buf.getvalue()


@pytest.fixture(scope="module")
def onnx_bytes():
    return _tiny_onnx()


@budget
@given(data=st.data())
def test_corrupted_onnx_lowers_or_gives_a_located_error(data, onnx_bytes, tmp_path_factory):
    raw = bytearray(onnx_bytes)
    for _ in range(data.draw(st.integers(1, 4))):
        how = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        i = data.draw(st.integers(0, len(raw) - 1))
        if how == "flip":
            raw[i] ^= data.draw(st.integers(1, 255))
        elif how == "cut":
            del raw[i:]
            if not raw:
                raw = bytearray(b"\x00")
        else:
            raw[i:i] = data.draw(st.binary(min_size=1, max_size=8))
    p = tmp_path_factory.mktemp("onnx") / "m.onnx"
    p.write_bytes(bytes(raw))
    try:
        chain = accelscope.lower(str(p), input_shape=(1, 3, 8, 8))
    except AccelscopeError:
        return
    assert chain.gconvs
