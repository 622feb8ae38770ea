"""Reading SCALE-Sim's config and topology files; errors that name the file and line."""

from __future__ import annotations

import pytest

from accelscope.interop.scalesim import ScaleSimInputError, read_config, read_topology

CFG = """[general]
run_name = demo

[architecture_presets]
ArrayHeight:    8
ArrayWidth:     4
IfmapSramSzkB:   64
FilterSramSzkB:  64
OfmapSramSzkB:   64
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : ws
MemoryBanks:   1
ReadRequestBuffer: 512
WriteRequestBuffer: 512

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""


def test_a_v2_config_without_layout_or_sparsity_reads_with_reported_defaults(tmp_path):
    p = tmp_path / "scale.cfg"
    p.write_text(CFG)
    cfg = read_config(p)
    assert (cfg.array_rows, cfg.array_cols, cfg.dataflow, cfg.bandwidth_mode) == (8, 4, "ws",
                                                                                  "calc")
    assert cfg.ifmap_sram_kb == 64 and cfg.run_name == "demo"
    assert any("IfmapSRAMBankBandwidth" in d for d in cfg.defaults_used)


@pytest.mark.parametrize("edit,msg", [
    (("Dataflow : ws", "Dataflow : rs"), "Dataflow = 'rs'; use os, ws or is"),
    (("ArrayHeight:    8", "ArrayHeight:    eight"), "ArrayHeight = 'eight' is not an int"),
    (("ArrayWidth:     4", "ArrayWidth:     0"), "ArrayWidth = 0 must be positive"),
    (("InterfaceBandwidth: CALC", "InterfaceBandwidth: FAST"), "use CALC or USER"),
    (("[run_presets]", "[run]"), r"section \[run_presets\] is missing"),
    (("Dataflow : ws\n", ""), r"\[architecture_presets\] has no Dataflow"),
])
def test_config_errors_name_the_file_and_key(tmp_path, edit, msg):
    p = tmp_path / "bad.cfg"
    p.write_text(CFG.replace(*edit))
    with pytest.raises(ScaleSimInputError, match=msg) as e:
        read_config(p)
    assert str(p) in str(e.value)


def test_sparsity_support_is_refused_clearly(tmp_path):
    p = tmp_path / "sp.cfg"
    p.write_text(CFG + "\n[sparsity]\nSparsitySupport : true\n")
    with pytest.raises(ScaleSimInputError, match="SparsitySupport = true is not supported"):
        read_config(p)


def test_topology_rows_with_and_without_trailing_comma(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                 "Channels, Num Filter, Strides,\n"
                 "conv1, 230, 230, 7, 7, 3, 64, 2,\n"
                 "conv2, 58, 58, 3, 3, 64, 64, 1\n"   # no trailing comma: stride kept
                 "\n"
                 "DPconv, 16, 16, 3, 3, 3, 1, 1,\n")
    layers = read_topology(p)
    assert [x.name for x in layers] == ["conv1", "conv2", "DPconvChannel_0",
                                        "DPconvChannel_1", "DPconvChannel_2"]
    # SCALE-Sim's output size ceil((H - R + s) / s): 113 rows for a padded 230 (PyTorch: 112)
    assert layers[0].ofmap_h == 113 and layers[1].stride == 1 and layers[2].channels == 1
    g = read_topology(_gemm(tmp_path), gemm=True)[0]
    assert g.gemm().pixels == 100 and g.gemm().window == 30 and g.gemm().filters == 20


def _gemm(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text("Layer, M, N, K,\nfc, 100, 20, 30,\n")
    return p


@pytest.mark.parametrize("row,msg", [
    ("conv1, 230, 230, 7, 7, 3, 64,", r"t.csv:2: 7 fields"),
    ("conv1, 230, x, 7, 7, 3, 64, 2,", r"t.csv:2: .* are not all integers"),
    ("conv1, 5, 5, 7, 7, 3, 64, 2,", r"t.csv:2: filter 7x7 is larger than the input 5x5"),
    ("conv1, 230, 230, 7, 7, 3, 64, 2, 2:4,", r"t.csv:2: N:M sparsity 2:4 is not supported"),
    ("conv1, 230, 230, 7, 7, 3, 0, 2,", r"t.csv:2: sizes must be positive"),
])
def test_topology_errors_name_the_line(tmp_path, row, msg):
    p = tmp_path / "t.csv"
    p.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                 f"Channels, Num Filter, Strides,\n{row}\n")
    with pytest.raises(ScaleSimInputError, match=msg):
        read_topology(p)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(ScaleSimInputError, match="no such SCALE-Sim config"):
        read_config(tmp_path / "nope.cfg")
    b = tmp_path / "b.csv"
    b.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ScaleSimInputError, match="not a text"):
        read_topology(b)
    e = tmp_path / "e.csv"
    e.write_text("header only,\n")
    with pytest.raises(ScaleSimInputError, match="no layer rows"):
        read_topology(e)
