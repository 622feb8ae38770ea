"""The counted bad-input corpus of issue 23: every case is a bad input (a file, an option, an
API call) with the exit code and the located message it must give.

A case is ``Case(category, id, files, args, code, pattern)``: ``files`` maps a file name to
its content (text, bytes, or a function writing it), created in the case's own directory;
``{d}`` in ``args`` is that directory. ``args`` is a CLI command line, or ``call`` is a
function ``call(d)`` for the Python API. ``pattern`` is a regular expression the ``error:``
message (CLI) or the exception text (API) must match.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import accelscope

PRESETS = Path(accelscope.__file__).parent / "arch" / "presets"
EXAMPLES = Path(__file__).parents[2] / "examples" / "scalesim"
IDEAL = (PRESETS / "ideal.yaml").read_text()
EYERISS = (PRESETS / "eyeriss.yaml").read_text()
CFG = (EXAMPLES / "scale.cfg").read_text()
TOPO = (EXAMPLES / "resnet18_conv.csv").read_text()
TOPO_HEAD = TOPO.splitlines()[0] + "\n"

Content = str | bytes | Callable[[Path], None]


@dataclass
class Case:
    category: str
    id: str
    files: dict[str, Content] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    code: int = 2
    pattern: str = ""
    call: Callable[[Path], Any] | None = None
    subprocess: bool = False


CASES: list[Case] = []


def case(category: str, id: str, args: list[str] | None = None, pattern: str = "",
         files: dict[str, Content] | None = None, **kw: Any) -> None:
    CASES.append(Case(category, id, files or {}, args or [], pattern=pattern, **kw))


# -- arch YAML -------------------------------------------------------------------------------
def with_field(text: str, key: str, value: str) -> str:
    """``text`` with the first line ``<indent>key: ...`` given ``value``."""
    out, done = [], False
    for line in text.splitlines():
        stripped = line.lstrip(" -")
        if not done and stripped.startswith(f"{key}:"):
            indent = line[:len(line) - len(stripped)]
            line, done = f"{indent}{key}: {value}", True
        out.append(line)
    assert done, key
    return "\n".join(out) + "\n"


def arch(id: str, text: str | bytes, pattern: str, cmd: str = "show") -> None:
    args = (["archs", "show", "{d}/a.yaml"] if cmd == "show"
            else ["run", "tiny", "--arch", "{d}/a.yaml", "--out", "{d}/out"])
    case("arch YAML", id, args, pattern, {"a.yaml": text})


FIELD_CASES = [  # (field, value, message pattern)
    ("clock_hz", "0", r"clock_hz: must be >= 1000, got 0"),
    ("clock_hz", "-1.0e9", r"clock_hz: must be >= 1000"),
    ("clock_hz", ".inf", r"clock_hz: .*finite"),
    ("clock_hz", "-.inf", r"clock_hz: .*finite"),
    ("clock_hz", ".nan", r"clock_hz: .*finite"),
    ("clock_hz", "fast", r"clock_hz: .*number"),
    ("clock_hz", "true", r"clock_hz: .*not numbers"),
    ("clock_hz", '"[/x]"', r"clock_hz: .*\[/x\]"),
    ("clock_hz", "1.0e-3", r"clock_hz: must be >= 1000, got 0\.001"),
    ("clock_hz", "1.0e30", r"clock_hz: must be <= 100000000000"),
    ("clock_hz", "[1, 2]", r"clock_hz:"),
    ("technology_nm", "0", r"technology_nm: must be >= 1"),
    ("technology_nm", "-45", r"technology_nm:"),
    ("technology_nm", "false", r"technology_nm: .*not numbers"),
    ("technology_nm", "4.5", r"technology_nm:"),
    ("technology_nm", "1000000000", r"technology_nm: must be <= 10000"),
    ("energy_table", '""', r"energy_table:"),
    ("model", "nosuch", r"nosuch"),
    ("model", "[ideal]", r"model"),
    ("array", "[]", r"compute.array:"),
    ("array", "[0, 32]", r"compute.array"),
    ("array", "[-32, 32]", r"compute.array"),
    ("array", "[32.5, 32]", r"compute.array"),
    ("array", "32", r"compute.array:"),
    ("macs_per_cycle", "1000", r"macs_per_cycle: .*make them agree"),
    ("macs_per_cycle", "0", r"macs_per_cycle:"),
    ("macs_per_pe", "0", r"macs_per_pe:"),
    ("cycles_per_op", "0", r"cycles_per_op:"),
    ("pipeline_depth", "-1", r"pipeline_depth:"),
    ("operand_bits", "0", r"operand_bits:"),
    ("operand_bits", "65", r"operand_bits:"),
    ("accumulator_bits", "8", r"accumulator_bits: .*narrower"),
    ("accumulator_bits", "1000", r"accumulator_bits:"),
    ("number", "bf16", r"number:"),
    ("size_bytes", "0", r"size_bytes:"),
    ("size_bytes", "-524288", r"size_bytes:"),
    ("size_bytes", "1", r"memory\[0\]: size_bytes 1 cannot hold one 64-bit word"),
    ("size_bytes", "1.0e30", r"size_bytes:"),
    ("size_bytes", ".inf", r"size_bytes:"),
    ("word_bits", "0", r"word_bits:"),
    ("word_bits", "5000", r"word_bits:"),
    ("banks", "0", r"banks:"),
    ("banks", "yes", r"banks:"),
    ("read_bw_bits_per_cycle", "0", r"read_bw_bits_per_cycle:"),
    ("read_bw_bits_per_cycle", ".nan", r"read_bw_bits_per_cycle:"),
    ("read_bw_bits_per_cycle", "1.0e30", r"read_bw_bits_per_cycle:"),
    ("write_bw_bits_per_cycle", "-1", r"write_bw_bits_per_cycle:"),
    ("holds", "[input, input, weight, output]", r"holds: .*more than once"),
    ("holds", "[]", r"holds:"),
    ("holds", "[input, weights, output]", r"holds"),
    ("holds", "[input, output]", r"no level holds weight"),
    ("energy_pj_per_bit_read", "-1", r"energy_pj_per_bit_read:"),
    ("energy_pj_per_bit_read", "0", r"energy_pj_per_bit_read:"),
    ("double_buffered", "maybe", r"double_buffered:"),
    ("bandwidth_bits_per_cycle", "0", r"bandwidth_bits_per_cycle:"),
    ("bandwidth_bits_per_cycle", "1.0e30", r"bandwidth_bits_per_cycle:"),
    ("energy_pj_per_bit", "-.inf", r"energy_pj_per_bit:"),
]
for key, value, pat in FIELD_CASES:
    # the last key of each name is under dram, the first under memory: with_field takes the
    # first, which is the memory level's for word_bits
    arch(f"{key}={value}", with_field(IDEAL, key, value), pat)

# the reproductions of the issue that run a command, not archs show
arch("1e9 PEs (run)", with_field(with_field(IDEAL, "array", "[1000000000]"),
                                 "macs_per_cycle", "1000000000"), r"compute\.", cmd="run")
arch("unknown energy table (run)", with_field(IDEAL, "energy_table", "nosuch-table"),
     r"unknown energy table 'nosuch-table'", cmd="run")
arch("source empty", re.sub(r"(?m)^source: >-\n(  .*\n)+", 'source: ""\n', IDEAL), r"source:")
arch("description a mapping",
     re.sub(r"(?m)^description: >-\n(  .*\n)+", "description: {a: 1}\n", IDEAL),
     r"description:")
arch("1e30 PEs", with_field(with_field(IDEAL, "array", "[1.0e30]"),
                            "macs_per_cycle", "1.0e30"), r"compute\.")
arch("1-byte global buffer (run)", with_field(IDEAL, "size_bytes", "1"), r"size_bytes 1 cannot",
     cmd="run")
arch("clock .inf (run)", with_field(IDEAL, "clock_hz", ".inf"), r"finite", cmd="run")
arch("8-byte scratchpads", with_field(EYERISS, "size_bytes", "8"), r"size_bytes 8 cannot hold")
arch("name ../x", with_field(IDEAL, "name", "../x"), r"name: .*not a valid name")
arch("name abs", with_field(IDEAL, "name", "/tmp/abs"), r"not a valid name")
arch("name space", with_field(IDEAL, "name", '"a b"'), r"not a valid name")
arch("name empty", with_field(IDEAL, "name", '""'), r"name:")
arch("name 300", with_field(IDEAL, "name", "x" * 300), r"not a valid name")
arch("name markup", with_field(IDEAL, "name", '"my[/b]arch"'), r"my\[/b\]arch")
arch("unknown top key", IDEAL + "colour: blue\n", r"colour")
arch("unknown nested key", IDEAL.replace("  cycles_per_op: 1\n",
                                         "  cycles_per_op: 1\n  turbo: true\n"), r"turbo")
arch("duplicate key", IDEAL + "clock_hz: 2.0e9\n", r"clock_hz")
arch("missing name", "\n".join(ln for ln in IDEAL.splitlines()
                               if not ln.startswith("name:")), r"name")
arch("missing dram", IDEAL.split("dram:")[0], r"dram")
arch("memory empty", IDEAL.split("memory:")[0] + "memory: []\n" + "dram:"
     + IDEAL.split("dram:")[1], r"memory")
arch("syntax error", IDEAL + "clock_hz: [1,\n", r"a\.yaml")
arch("tab indentation", IDEAL.replace("  array: [32, 32]", "\tarray: [32, 32]"), r"a\.yaml")
arch("top-level list", "- name: ideal\n- model: ideal\n", r"a\.yaml")
arch("empty file", "", r"a\.yaml")
arch("only a comment", "# nothing\n", r"a\.yaml")
arch("scalar document", "42\n", r"a\.yaml")
arch("NUL byte", IDEAL.replace("name: ideal", "name: id\x00eal"), r"U\+0000")
arch("latin-1 bytes", IDEAL.encode() + b"# caf\xe9\n", r"a\.yaml")
arch("garbage bytes", bytes(range(256)) * 4, r"a\.yaml")
arch("billion laughs",
     "\n".join(["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
               + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
               + ["name: lol", "model: ideal", "bomb: *a9"]), r"expands to more than")
arch("deep nesting", "a:\n" + "".join("  " * i + "- \n" for i in range(1, 200)), r"nested")
arch("two documents", IDEAL + "---\n" + IDEAL, r"a\.yaml")
case("arch YAML", "no such file", ["archs", "show", "{d}/nosuch.yaml"], r"no such file")
case("arch YAML", "a directory", ["archs", "show", "{d}/dir.yaml"], r"dir\.yaml",
     {"dir.yaml/x": "x"})
case("arch YAML", "unknown preset", ["run", "tiny", "--arch", "idael"], r"idael")
case("arch YAML", "cgra preset for run", ["cgra", "--arch", "ideal"], r"cgra preset")


# -- SCALE-Sim config ------------------------------------------------------------------------
def cfg_with(key: str, value: str | None, text: str = CFG) -> str:
    out, done = [], False
    for line in text.splitlines():
        k = re.split(r"\s*[:=]", line, maxsplit=1)[0].strip()
        if not done and k == key:
            done = True
            if value is None:
                continue
            line = f"{key} : {value}"
        out.append(line)
    assert done, key
    return "\n".join(out) + "\n"


USER = cfg_with("InterfaceBandwidth", "USER")


def cfg(id: str, text: str | bytes, pattern: str, topo: str = TOPO) -> None:
    case("SCALE-Sim cfg", id, ["scalesim", "--config", "{d}/s.cfg", "--topology", "{d}/t.csv",
                               "--out", "{d}/out"], pattern, {"s.cfg": text, "t.csv": topo})


for key in ("ArrayHeight", "ArrayWidth"):
    cfg(f"{key} 0", cfg_with(key, "0"), rf"{key} = 0 must be positive")
    cfg(f"{key} -4", cfg_with(key, "-4"), rf"{key}")
    cfg(f"{key} abc", cfg_with(key, "abc"), rf"{key} = 'abc' is not an integer")
    cfg(f"{key} 1e8", cfg_with(key, "100000000"),
        rf"{key} = 100,000,000 is beyond any real array; it must be at most")
    cfg(f"{key} 3.5", cfg_with(key, "3.5"), rf"{key}")
for key in ("IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB"):
    cfg(f"{key} 0", cfg_with(key, "0"), rf"{key} = 0 must be positive")
    cfg(f"{key} huge", cfg_with(key, "1000000000000"), rf"{key} = .*at most")
    cfg(f"{key} missing", cfg_with(key, None), rf"has no {key}")
cfg("Bandwidth 0 (CALC)", cfg_with("Bandwidth", "0"), r"Bandwidth = 0 must be positive")
cfg("USER Bandwidth 0", cfg_with("Bandwidth", "0", USER), r"Bandwidth = 0 must be positive")
cfg("USER Bandwidth missing", cfg_with("Bandwidth", None, USER), r"has no Bandwidth")
cfg("USER Bandwidth huge", cfg_with("Bandwidth", "10000000000", USER), r"Bandwidth = .*at most")
cfg("IfmapSRAMBankBandwidth 0", cfg_with("IfmapSRAMBankBandwidth", "0"),
    r"IfmapSRAMBankBandwidth = 0 must be positive")
cfg("FilterSRAMBankBandwidth 0", cfg_with("FilterSRAMBankBandwidth", "0"),
    r"FilterSRAMBankBandwidth = 0 must be positive")
cfg("ReadRequestBuffer 0", cfg_with("ReadRequestBuffer", "0"), r"ReadRequestBuffer = 0")
cfg("WriteRequestBuffer -1", cfg_with("WriteRequestBuffer", "-1"), r"WriteRequestBuffer")
cfg("Dataflow xs", cfg_with("Dataflow", "xs"), r"Dataflow = 'xs'; use os, ws or is")
cfg("InterfaceBandwidth FAST", cfg_with("InterfaceBandwidth", "FAST"), r"InterfaceBandwidth")
cfg("SparsitySupport true", cfg_with("SparsitySupport", "true"), r"SparsitySupport = true")
cfg("no run_name", cfg_with("run_name", None), r"\[general\] has no run_name")
cfg("run_name ../", CFG.replace("run_name = resnet18_32x32_os", "run_name = x/../../esc"),
    r"run_name.*not a valid name")
cfg("run_name abs", CFG.replace("run_name = resnet18_32x32_os", "run_name = /tmp/abs"),
    r"not a valid name")
cfg("run_name empty", CFG.replace("run_name = resnet18_32x32_os", "run_name ="), r"run_name")
cfg("no [general]", CFG.replace("[general]\nrun_name = resnet18_32x32_os\n", ""),
    r"section \[general\] is missing")
cfg("no section header", "ArrayHeight: 32\n", r"not a SCALE-Sim config")
cfg("duplicate section", CFG + "[general]\nrun_name = x\n", r"not a SCALE-Sim config")
cfg("duplicate key", CFG.replace("ArrayWidth: 32", "ArrayWidth: 32\nArrayWidth: 8"),
    r"not a SCALE-Sim config")
cfg("binary garbage", bytes(range(256)) * 8, r"s\.cfg")
cfg("empty", "", r"s\.cfg")
cfg("NUL byte", CFG.replace("Dataflow : os", "Dataflow : o\x00s"), r"Dataflow")
case("SCALE-Sim cfg", "missing", ["scalesim", "--config", "{d}/no.cfg", "--topology",
                                  "{d}/t.csv"], r"no such SCALE-Sim config", {"t.csv": TOPO})
case("SCALE-Sim cfg", "directory", ["scalesim", "--config", "{d}", "--topology",
                                    "{d}/t.csv"], r"no such SCALE-Sim config", {"t.csv": TOPO})


# -- SCALE-Sim topology ----------------------------------------------------------------------
def topo(id: str, rows: str | bytes, pattern: str, gemm: bool = False,
         header: bool = True) -> None:
    text = (TOPO_HEAD.encode() + rows if isinstance(rows, bytes)
            else (TOPO_HEAD if header else "") + rows)
    case("SCALE-Sim topology", id, ["scalesim", "--config", "{d}/s.cfg", "--topology",
                                    "{d}/t.csv", "--out", "{d}/out"]
         + (["--gemm"] if gemm else []), pattern, {"s.cfg": CFG, "t.csv": text})


topo("DP 1e8 channels", "dw_DP, 16, 16, 3, 3, 100000000, 1, 1,\n",
     r"t\.csv:2: size 100,000,000 .*at most")
topo("DP 5e6 channels", "dw_DP, 16, 16, 3, 3, 5000000, 1, 1,\n", r"t\.csv:2: .*5,000,000 layers")
topo("DP 1e6 channels x rows", "".join(f"dw{i}_DP, 8, 8, 3, 3, 60000, 1, 1,\n"
                                      for i in range(20)), r"layers")
topo("huge layer", "big, 1000000, 1000000, 3, 3, 100000, 100000, 1,\n", r"t\.csv:2: .*MACs")
topo("huge gemm", "g, 100000000, 100000000, 100000000,\n", r"t\.csv:2: size", gemm=True)
topo("large gemm", "g, 1000000, 1000000, 100000,\n", r"t\.csv:2: .*MACs.*--max-cycles", gemm=True)
topo("too few fields", "conv1, 224, 224, 3, 3, 3,\n", r"t\.csv:2: 6 fields")
topo("gemm too few", "g, 64, 64\n", r"t\.csv:2: 3 fields", gemm=True)
topo("not integers", "conv1, 224, 224, 3, x, 3, 64, 1,\n", r"t\.csv:2: .*not all integers")
topo("floats", "conv1, 224.0, 224, 3, 3, 3, 64, 1,\n", r"t\.csv:2: .*integers")
topo("zero channels", "conv1, 224, 224, 3, 3, 0, 64, 1,\n", r"t\.csv:2: sizes must be positive")
topo("zero stride", "conv1, 224, 224, 3, 3, 3, 64, 0,\n", r"t\.csv:2: sizes must be positive")
topo("negative filters", "conv1, 224, 224, 3, 3, 3, -64, 1,\n", r"sizes must be positive")
topo("filter > input", "conv1, 2, 2, 3, 3, 3, 64, 1,\n", r"t\.csv:2: filter 3x3 is larger")
topo("N:M 2:4", "conv1, 8, 8, 3, 3, 3, 64, 1, 2:4,\n", r"t\.csv:2: N:M sparsity 2:4")
topo("header only", "", r"no layer rows")
topo("no header", "conv1, 8, 8, 3, 3, 3, 64, 1,\n", r"no layer rows", header=False)
topo("binary garbage", bytes(range(256)) * 8, r"t\.csv")
topo("blank rows only", "\n\n,,,\n", r"no layer rows")
topo("header twice", TOPO_HEAD, r"t\.csv:2: .*integers")
case("SCALE-Sim topology", "missing", ["scalesim", "--config", "{d}/s.cfg", "--topology",
                                       "{d}/no.csv"], r"no such SCALE-Sim topology",
     {"s.cfg": CFG})
case("SCALE-Sim topology", "directory", ["scalesim", "--config", "{d}/s.cfg", "--topology",
                                         "{d}"], r"no such SCALE-Sim topology", {"s.cfg": CFG})


# -- ONNX files ------------------------------------------------------------------------------
def onnx_model(kind: str = "conv") -> bytes:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    w = np.random.default_rng(0).standard_normal((4, 3, 3, 3)).astype(np.float32)
    if kind == "nan":
        w[0, 0, 0, 0] = np.nan
    dims: list[Any] = [1, 3, 8, 8] if kind != "dynamic" else ["N", 3, "H", "W"]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)
    out_dims: list[Any] = [1, 4, 8, 8] if kind != "dynamic" else ["N", 4, "H", "W"]
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, out_dims)
    if kind == "unsupported":
        y = helper.make_tensor_value_info("y", TensorProto.INT64, [4, "nnz"])
    inits = [numpy_helper.from_array(w, "w")]
    if kind == "unsupported":
        nodes = [helper.make_node("NonZero", ["x"], ["y"])]
    elif kind == "missing-input":
        nodes = [helper.make_node("Conv", ["x", "nowhere"], ["y"])]
    elif kind == "no-nodes":
        nodes = []
    elif kind == "bad-attr":
        nodes = [helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[5, 5])]
    else:
        nodes = [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])]
    graph = helper.make_graph(nodes, "g", [x], [y], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return bytes(model.SerializeToString())


def onnx_case(id: str, content: Content, pattern: str, extra: tuple[str, ...] = (),
              cmd: str = "lower") -> None:
    args = (["lower", "{d}/m.onnx", *extra] if cmd == "lower"
            else ["run", "{d}/m.onnx", "--arch", "ideal", "--out", "{d}/out", *extra])
    case("ONNX file", id, args, pattern, {"m.onnx": content})


onnx_case("garbage", bytes(range(256)) * 16, r"m\.onnx")
onnx_case("empty", b"", r"m\.onnx")
onnx_case("text", "this is not a model\n", r"m\.onnx")
onnx_case("truncated", lambda p: p.write_bytes(onnx_model()[:60]), r"m\.onnx")
onnx_case("unsupported op", lambda p: p.write_bytes(onnx_model("unsupported")), r"NonZero")
onnx_case("missing tensor", lambda p: p.write_bytes(onnx_model("missing-input")),
          r"m\.onnx|nowhere")
onnx_case("no nodes", lambda p: p.write_bytes(onnx_model("no-nodes")), r"m\.onnx|node|output")
onnx_case("kernel mismatch", lambda p: p.write_bytes(onnx_model("bad-attr")),
          r"m\.onnx|kernel|shape")
onnx_case("dynamic dims, no shape", lambda p: p.write_bytes(onnx_model("dynamic")),
          r"--input-shape")
onnx_case("shape wrong rank", lambda p: p.write_bytes(onnx_model()), r"shape",
          ("--input-shape", "1,3,8"))
onnx_case("shape wrong channels", lambda p: p.write_bytes(onnx_model()), r"shape|channel",
          ("--input-shape", "1,5,8,8"))
onnx_case("huge shape", lambda p: p.write_bytes(onnx_model("dynamic")), r"--input-shape.*GiB",
          ("--input-shape", "1,3,10000000,10000000"))
onnx_case("weights with onnx", lambda p: p.write_bytes(onnx_model()), r"--weights applies",
          ("--weights", "{d}/m.onnx"))
onnx_case("image without shape", lambda p: p.write_bytes(onnx_model("dynamic")),
          r"--input-shape", ("--input", "{d}/m.onnx"), cmd="run")
case("ONNX file", "missing", ["lower", "{d}/nosuch.onnx"], r"no such ONNX file")
case("ONNX file", "directory", ["lower", "{d}/dir.onnx"], r"dir\.onnx", {"dir.onnx/x": "x"})


# -- weights files ---------------------------------------------------------------------------
def tiny_state(**change: Any) -> Callable[[Path], None]:
    def write(p: Path) -> None:
        import torch

        import accelscope.workload.zoo as zoo

        state = zoo.get("tiny").module.state_dict()
        for k, v in change.items():
            k = k.replace("__", ".")
            if v is None:
                state.pop(k)
            elif callable(v):
                state[k] = v(state[k])
            else:
                state[k] = v
        torch.save(state, p)
    return write


def save(obj: Any) -> Callable[[Path], None]:
    def write(p: Path) -> None:
        import torch

        torch.save(obj, p)
    return write


class Evil:
    def __reduce__(self) -> tuple[Any, ...]:
        return (print, ("pwned",))


def weights(id: str, content: Content, pattern: str, model: str = "tiny") -> None:
    case("weights file", id, ["lower", model, "--weights", "{d}/w.pt"], pattern,
         {"w.pt": content})


weights("garbage", bytes(range(256)) * 8, r"w\.pt: cannot be read")
weights("empty", b"", r"w\.pt: cannot be read")
weights("text", "weights\n", r"w\.pt: cannot be read")
weights("pickled code", save(Evil()), r"w\.pt: cannot be read")
weights("a list", save([1, 2, 3]), r"w\.pt: holds a list")
weights("a tensor", save(__import__("torch").zeros(3)), r"w\.pt: holds a Tensor")
weights("state_dict not a dict", save({"state_dict": 5}), r"w\.pt")
weights("missing key", tiny_state(conv1__weight=None), r"missing \['conv1\.weight'\]")
weights("extra key", tiny_state(extra__weight=__import__("torch").zeros(1)), r"unexpected")
weights("wrong shape", tiny_state(conv1__weight=__import__("torch").zeros(8, 8, 5, 5)),
        r"'conv1\.weight' has shape")
weights("not a tensor", tiny_state(conv1__weight=3.0), r"conv1\.weight")
weights("NaN weights", tiny_state(conv1__weight=lambda t: t.clone().fill_(float("nan"))),
        r"conv1\.weight.*(NaN|finite)")
weights("inf weights", tiny_state(head__4__bias=lambda t: t.clone().fill_(float("inf"))),
        r"head\.4\.bias.*(inf|finite)")
weights("NaN running var", tiny_state(bn1__running_var=lambda t: t.clone().fill_(float("nan"))),
        r"bn1\.running_var.*(NaN|finite)")
weights("other model's", tiny_state(), r"does not match", model="digits-cnn")
case("weights file", "missing", ["lower", "tiny", "--weights", "{d}/no.pt"],
     r"no such weights file")
case("weights file", "directory", ["lower", "tiny", "--weights", "{d}"],
     r"no such weights file")


# -- image inputs ----------------------------------------------------------------------------
def png_bytes(width: int, height: int, truncate: bool = False) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 30)).save(buf, "PNG")
    data = buf.getvalue()
    return data[:len(data) // 2] if truncate else data


def bomb_png() -> bytes:
    """A PNG header that claims 100000 x 100000 pixels (PIL's decompression-bomb guard)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b""))


def image(id: str, name: str, content: Content | None, pattern: str) -> None:
    case("image input", id, ["run", "tiny", "--arch", "ideal", "--out", "{d}/out",
                             "--input", "{d}/" + name], pattern,
         {name: content} if content is not None else {})


image("garbage png", "i.png", bytes(range(256)) * 4, r"--input .*i\.png: cannot be read")
image("empty png", "i.png", b"", r"cannot be read as an image")
image("text jpg", "i.jpg", "not an image\n", r"cannot be read as an image")
image("truncated png", "i.png", lambda p: p.write_bytes(png_bytes(64, 64, truncate=True)),
      r"cannot be read as an image")
image("decompression bomb", "i.png", lambda p: p.write_bytes(bomb_png()),
      r"cannot be read as an image")
image("missing", "nosuch.png", None, r"no such image file")
image("directory", "d.png", None, r"no such image file")
CASES[-1].files = {"d.png/x": "x"}
image("typo of random", "randon", None, r"no such image file")


# -- CLI options -----------------------------------------------------------------------------
def opt(id: str, args: list[str], pattern: str, **kw: Any) -> None:
    case("CLI options", id, args, pattern, **kw)


RUN = ["run", "tiny", "--arch", "ideal", "--out", "{d}/out"]
for shape, pat in [("abc", r"--input-shape 'abc' is not a list"),
                   ("1,3,0,32", r"positive integers"), ("-1,3,32,32", r"positive integers"),
                   ("1.5,3,32,32", r"positive integers"), ("", r"--input-shape"),
                   ("1,3,32", r"\(N, C, H, W\)"), ("1,3,32,32,2", r"\(N, C, H, W\)"),
                   ("1,4,32,32", r"3 input channels, not 4"),
                   ("1,3,10000000,10000000", r"--input-shape .*GiB"),
                   ("100000,3,1000,1000", r"GiB"),
                   ("1,3,1,1", r"tiny|shape|size"),
                   ("1,3," + "9" * 30 + ",1", r"--input-shape")]:
    opt(f"--input-shape {shape[:30]}", [*RUN, "--input-shape", shape], pat)
for b, pat in [("0", r"batch must be >= 1"), ("-3", r"batch must be >= 1"),
               ("1000000000", r"GiB"), ("abc", r"Invalid value for '--batch'")]:
    opt(f"--batch {b}", [*RUN, "--batch", b], pat)
opt("lower --batch 0", ["lower", "tiny", "--batch", "0"], r"batch must be >= 1")
opt("lower --input-shape huge", ["lower", "tiny", "--input-shape", "1,3,100000,100000"], r"GiB")
for s, pat in [("abc", r"Invalid value for '--seed'"), ("-1", r"--seed"),
               (str(2**64), r"--seed")]:
    opt(f"--seed {s}", [*RUN, "--seed", s], pat)
opt("cgra --seed -1", ["cgra", "--seed", "-1"], r"--seed")
for p in ["0.7x", "1.5", "-0.1", "nan", "inf", "nm:5:4", "nm:0:4", "block:0x1:0.5",
          "magnitude:2", "foo:1", ":", ""]:
    opt(f"--prune {p!r}", [*RUN, "--prune", p], r"prune|--prune")
for m in ["bogus", "ACTUAL", ""]:
    opt(f"--mode {m!r}", [*RUN, "--mode", m], r"--mode")
SWEEP = ["sweep-density", "tiny", "--arch", "ideal", "--out", "{d}/out"]
for d in ["abc", "", ",", "0", "-0.1", "1.5", "nan", "inf", "0.5,x"]:
    opt(f"--densities {d!r}", [*SWEEP, "--densities", d], r"--densities")
opt("sweep --arch empty", ["sweep-density", "tiny", "--arch", ","], r"--arch needs")
opt("sweep unknown model", ["sweep-density", "nosuch", "--arch", "ideal"], r"nosuch")
for s in ["bogus", "", ",", "gconv,warp"]:
    opt(f"--strategy {s!r}", [*RUN, "--strategy", s], r"--strategy")
opt("--strategy with --compress", [*RUN, "--strategy", "gconv", "--compress", "dct"],
    r"cannot be combined")
opt("--strategy with --fmaps-on-chip", [*RUN, "--strategy", "gconv", "--fmaps-on-chip"],
    r"cannot be combined")
opt("--host without strategy", [*RUN, "--host", "gpu"], r"--host and --host-threads apply")
opt("--host-threads without strategy", [*RUN, "--host-threads", "4"], r"--host-threads")
opt("--host tpu", [*RUN, "--strategy", "host-fallback", "--host", "tpu"], r"tpu")
opt("--host-threads -1", [*RUN, "--strategy", "host-fallback", "--host-threads", "-1"],
    r"--host-threads")
for c in ["bogus", "dct:quality=0", "dct:quality=101", "dct:quality=abc", "dct:format=zip",
          "dct:nosuch=1", "dct:quality"]:
    opt(f"--compress {c!r}", [*RUN, "--compress", c], r"compress|dct|quality|format|nosuch")
CMP = ["compare", "tiny", "--out", "{d}/out"]
opt("--baseline not in --arch", [*CMP, "--arch", "ideal,spots", "--baseline", "eyeriss"],
    r"--baseline 'eyeriss' is not one of --arch")
opt("compare --arch twice", [*CMP, "--arch", "ideal,ideal"], r"names an architecture twice")
opt("compare --arch empty", [*CMP, "--arch", ","], r"--arch needs")
opt("compare --arch missing yaml", [*CMP, "--arch", "ideal,{d}/no.yaml"], r"no\.yaml")
opt("run --rows -1", [*RUN, "--rows", "-1"], r"--rows")
opt("lower --rows -5", ["lower", "tiny", "--rows", "-5"], r"--rows")
for t in ["-1", "nan", "inf"]:
    opt(f"--tolerance {t}", ["lower", "tiny", "--verify", "--tolerance", t], r"--tolerance")
opt("lower --out file", ["lower", "tiny", "--out", "{d}/f"], r"--out ", files={"f": "x"})
opt("lower --out under file", ["lower", "tiny", "--out", "{d}/f/x"], r"--out ",
    files={"f": "x"})
opt("run --out file", [*RUN[:-2], "--out", "{d}/f"], r"--out ", files={"f": "x"})
opt("run --out under file", [*RUN[:-2], "--out", "{d}/f/sub"], r"--out ", files={"f": "x"})
opt("run --out foreign dir", [*RUN[:-2], "--out", "{d}/mine"], r"--out ",
    files={"mine/keep.txt": "x"})
opt("run unknown model", ["run", "nosuch", "--arch", "ideal"], r"no zoo model named 'nosuch'")
opt("run model typo", ["run", "tinny", "--arch", "ideal"], r"Did you mean tiny")
for layer, pat in [("abc", r"abc"), ("0x16x16x16", r"H must be >= 1"),
                   ("2x2x16x16", r"smaller than the 3x3 filter"),
                   ("16x16x16x16x16", r"layer"), ("-16x16x16x16", r"layer|H|must"),
                   ("4096x4096x64x64", r"--layer 4096x4096x64x64: .*--max-cycles"),
                   ("1000x1000x1000x1000", r"--layer .*cycles")]:
    opt(f"cgra --layer {layer}", ["cgra", "--layer", layer], pat)
opt("cgra --max-cycles 0", ["cgra", "--max-cycles", "0"], r"--max-cycles")
opt("cgra --layer over a lowered limit", ["cgra", "--layer", "16x16x16x16", "--max-cycles", "1000"],
    r"--max-cycles \d+")
opt("scalesim --max-cycles too low", ["scalesim", "--config", "{d}/s.cfg", "--topology",
                                      "{d}/t.csv", "--out", "{d}/out", "--max-cycles", "10"],
    r"t\.csv:2: .*--max-cycles", files={"s.cfg": CFG, "t.csv": TOPO})
opt("cgra --mapping bogus", ["cgra", "--mapping", "bogus"], r"unknown CGRA mapping bogus")
opt("cgra --mapping empty", ["cgra", "--mapping", ""], r"mapping")
opt("cgra --out file", ["cgra", "--sweep", "--out", "{d}/f"], r"--out ", files={"f": "x"})
opt("cgra --out foreign dir", ["cgra", "--out", "{d}/mine"], r"--out ",
    files={"mine/keep.txt": "x"})
for b in ["0", "-5"]:
    opt(f"eyeriss-dataflows --batch {b}", ["eyeriss-dataflows", "--batch", b,
                                           "--out", "{d}/e"], r"--batch must be at least 1")
opt("eyeriss-dataflows --out file", ["eyeriss-dataflows", "--out", "{d}/f"], r"--out ",
    files={"f": "x"})
for n in ["0", "-1"]:
    opt(f"dct-accuracy --images {n}", ["dct-accuracy", "--images", n, "--out", "{d}/out"],
        r"--images")
opt("dct-accuracy --setting bogus", ["dct-accuracy", "--setting", "bogus", "--out",
                                     "{d}/out"], r"bogus|compress|dct")
opt("dct-accuracy unknown model", ["dct-accuracy", "nosuch", "--out", "{d}/out"], r"nosuch")
opt("validate --only nosuch", ["validate", "--only", "nosuch-target"],
    r"no validation target starts with")
opt("archs show nosuch", ["archs", "show", "nosuch"], r"nosuch")
opt("archs show path", ["archs", "show", "bad/../x"], r"no such file")
opt("unknown option", [*RUN, "--bogus"], r"No such option")
opt("unknown command", ["frobnicate"], r"No such command")
opt("scalesim --gemm 8 fields as 3", ["scalesim", "--config", "{d}/s.cfg", "--topology",
                                      "{d}/t.csv", "--out", "{d}/out", "--gemm"],
    r"t\.csv", files={"s.cfg": CFG, "t.csv": "a,b,c\ng, 0, 4, 4,\n"})


# Found by the corpus in code this change does not own (the ONNX front end, evaluate.py): run
# and reported by the test, not counted; move a case into CASES when it is fixed.
KNOWN_OPEN: list[Case] = []
case("ONNX file", "NaN initializer", ["run", "{d}/m.onnx", "--arch", "ideal", "--out",
                                      "{d}/out"], r"(NaN|finite)",
     {"m.onnx": lambda p: p.write_bytes(onnx_model("nan"))})

# -- Python API ------------------------------------------------------------------------------
_CHAIN: list[Any] = []


def tiny_chain() -> Any:
    if not _CHAIN:
        zm = accelscope.zoo.get("tiny")
        _CHAIN.append(accelscope.lower(zm.module, zm.example_input()))
    return _CHAIN[0]


def api(id: str, call: Callable[[Path], Any], pattern: str) -> None:
    case("Python API", id, pattern=pattern, call=call)


def _t(*shape: int, dtype: Any = None, device: str = "cpu") -> Any:
    import torch

    return torch.ones(shape, dtype=dtype or torch.float32, device=device)


def _i64() -> Any:
    import torch

    return torch.ones((1, 3, 32, 32), dtype=torch.int64)


api("execute int64", lambda d: accelscope.execute(tiny_chain(), _i64()),
    r"floating.*int64|int64.*float")
api("execute bool", lambda d: accelscope.execute(
    tiny_chain(), _t(1, 3, 32, 32, dtype=__import__("torch").bool)), r"bool")
api("execute uint8", lambda d: accelscope.execute(
    tiny_chain(), _t(1, 3, 32, 32, dtype=__import__("torch").uint8)), r"uint8")
api("execute complex", lambda d: accelscope.execute(
    tiny_chain(), _t(1, 3, 32, 32, dtype=__import__("torch").complex64)), r"complex64")
api("execute meta device", lambda d: accelscope.execute(
    tiny_chain(), _t(1, 3, 32, 32, device="meta")), r"device")
api("execute wrong shape", lambda d: accelscope.execute(tiny_chain(), _t(1, 3, 16, 16)),
    r"must have shape \(1, 3, 32, 32\)")
api("execute wrong batch", lambda d: accelscope.execute(tiny_chain(), _t(2, 3, 32, 32)),
    r"must have shape")
api("execute 3-d", lambda d: accelscope.execute(tiny_chain(), _t(3, 32, 32)), r"must have shape")
api("execute two inputs", lambda d: accelscope.execute(
    tiny_chain(), [_t(1, 3, 32, 32), _t(1, 3, 32, 32)]), r"takes 1 input")
api("execute no inputs", lambda d: accelscope.execute(tiny_chain(), []), r"takes 1 input")
api("execute numpy", lambda d: accelscope.execute(
    tiny_chain(), __import__("numpy").ones((1, 3, 32, 32))), r"torch\.Tensor|tensor")
api("execute list of floats", lambda d: accelscope.execute(tiny_chain(), [1.0]),
    r"torch\.Tensor|tensor")
api("execute dtype int", lambda d: accelscope.execute(
    tiny_chain(), _t(1, 3, 32, 32), dtype=__import__("torch").int32), r"dtype")
api("lower a number", lambda d: accelscope.lower(123), r"lower|module|ONNX")
api("lower missing onnx", lambda d: accelscope.lower(str(d / "no.onnx")), r"no\.onnx")
api("lower wrong input", lambda d: accelscope.lower(
    accelscope.zoo.get("tiny").module, _t(1, 5, 32, 32)), r"tiny|channel|shape|input")
api("lower int input", lambda d: accelscope.lower(
    accelscope.zoo.get("tiny").module, _i64()), r"Tiny failed to run on input")
api("zoo.get nosuch", lambda d: accelscope.zoo.get("nosuch"), r"no zoo model named")
api("zoo.get batch 0", lambda d: accelscope.zoo.get("tiny", batch=0), r"batch must be >= 1")
api("zoo.get 5-d shape", lambda d: accelscope.zoo.get("tiny", input_shape=(1, 3, 4, 4, 4)),
    r"not \(N, C, H, W\)")
case("Python API", "zoo.get NaN weights", pattern=r"conv1\.weight.*NaN",
     files={"w.pt": tiny_state(conv1__weight=lambda t: t.clone().fill_(float("nan")))},
     call=lambda d: accelscope.zoo.get("tiny", weights=d / "w.pt"))


def _load(x: Any) -> Any:
    from accelscope.arch import load_arch

    return load_arch(x)


def _ideal_map(**change: Any) -> dict[str, Any]:
    import yaml

    data = yaml.safe_load(IDEAL)
    for k, v in change.items():
        path = k.split("__")
        node = data
        for p in path[:-1]:
            node = node[int(p)] if p.isdigit() else node[p]
        node[path[-1]] = v
    return data


api("load_arch {}", lambda d: _load({}), r"<mapping>")
api("load_arch 5", lambda d: _load(5), r"an arch is a preset name")
api("load_arch None", lambda d: _load(None), r"an arch is a preset name")
api("load_arch unknown", lambda d: _load("nosuch"), r"nosuch")
api("load_arch inf clock", lambda d: _load(_ideal_map(clock_hz=float("inf"))), r"clock_hz")
api("load_arch nan size", lambda d: _load(_ideal_map(memory__0__size_bytes=float("nan"))),
    r"size_bytes")
api("load_arch bool clock", lambda d: _load(_ideal_map(clock_hz=True)), r"not numbers")
api("load_arch str array", lambda d: _load(_ideal_map(compute__array="32x32")), r"array")
api("load_arch 1e9 PEs", lambda d: _load(_ideal_map(compute__array=[10**9],
                                                    compute__macs_per_cycle=10**9)), r"compute")
api("load_arch object value", lambda d: _load(_ideal_map(clock_hz=object())), r"clock_hz")
api("load_arch non-str key", lambda d: _load({**_ideal_map(), 5: 1}), r"5")
api("evaluate_network bad arch", lambda d: __import__("accelscope.pipeline").pipeline
    .evaluate_network(tiny_chain(), "nosuch"), r"nosuch")
api("evaluate_network arch 5", lambda d: __import__("accelscope.pipeline").pipeline
    .evaluate_network(tiny_chain(), 5), r"arch")
api("evaluate_network densities > 1", lambda d: __import__("accelscope.pipeline").pipeline
    .evaluate_network(tiny_chain(), "ideal", mode="statistical", densities={"input": 2.0}),
    r"densit")
api("evaluate_network arch '5'", lambda d: __import__("accelscope.pipeline").pipeline
    .evaluate_network(tiny_chain(), "5"), r"5: no arch preset")
api("evaluate_network int input", lambda d: __import__("accelscope.pipeline").pipeline
    .evaluate_network(tiny_chain(), "ideal", inputs=_i64()), r"int64")
api("evaluate_network mode", lambda d: __import__("accelscope.pipeline").pipeline
    .evaluate_network(tiny_chain(), "ideal", mode="bogus"), r"mode")
api("evaluate_network wrong shape", lambda d: __import__("accelscope.pipeline").pipeline
    .evaluate_network(tiny_chain(), "ideal", inputs=_t(1, 3, 8, 8)), r"must have shape")

# -- a few as real subprocesses: the exit codes of `python -m accelscope` -------------------
case("CLI options", "subprocess --input-shape huge",
     ["run", "tiny", "--arch", "ideal", "--input-shape", "1,3,10000000,10000000",
      "--out", "{d}/out"], r"GiB", subprocess=True)
case("SCALE-Sim cfg", "subprocess IfmapSramSzkB 0",
     ["scalesim", "--config", "{d}/s.cfg", "--topology", "{d}/t.csv", "--out", "{d}/out"],
     r"IfmapSramSzkB", {"s.cfg": cfg_with("IfmapSramSzkB", "0"), "t.csv": TOPO},
     subprocess=True)
case("arch YAML", "subprocess name escape",
     ["run", "tiny", "--arch", "{d}/a.yaml"], r"not a valid name",
     {"a.yaml": with_field(IDEAL, "name", "x/../../../../escaped_arch")}, subprocess=True)
