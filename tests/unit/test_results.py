"""LayerResult / NetworkResult: totals, immutability, versions, exact JSON round trip, the
tidy tables and their CSV, the short repr and the HTML table."""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import json
import pickle
from types import MappingProxyType

import numpy as np
import pytest

from accelscope.results import (
    ACCESS_COLUMNS,
    IDENTITY_COLUMNS,
    SCHEMA_VERSION,
    Access,
    LayerResult,
    NetworkResult,
    ResultFormatError,
    accelscope_version,
)


def _layer(name: str, cycles: int, scale: float = 1.0, **kw) -> LayerResult:
    return LayerResult(**{
        "layer": name, "kind": "conv", "model": "m", "arch": "a", "clock_hz": 1e9,
        "peak_macs_per_cycle": 16, "cycles": cycles, "macs": 1000, "macs_issued": 900,
        "macs_useful": 600, "macs_skipped": 100, "macs_gated": 50,
        "accesses": (Access("dram", "input", reads=10, read_bits=160),
                     Access("dram", "output", writes=5, write_bits=80),
                     Access("glb", "weight", reads=7, writes=3, read_bits=112, write_bits=48)),
        "energy_pj": {"compute": 10.0 * scale, "dram": 99.5 * scale},
        "stall_cycles": {"dram_bandwidth": cycles // 4},
        "details": {"bound_by": "dram", "tile": [1, 2]},
        "provenance": {"energy.table": "horowitz-45nm"}, "warnings": ("an estimate",), **kw})


@pytest.fixture
def net() -> NetworkResult:
    return NetworkResult("tiny", "m", "a", 1e9, (_layer("c1", 100), _layer("c2", 300, 2.0)),
                         provenance={"arch": "a (test)"}, details={"mode": "actual"})


def same(a, b, where="$"):
    """Equal and of the same types all the way down (1 == 1.0 and (1,) != [1] are not)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    elif a == a:  # NaN aside
        assert a == b, f"{where}: {a!r} vs {b!r}"


def test_totals_sum_over_layers(net):
    assert net.cycles == 400
    assert net.seconds == pytest.approx(400e-9)
    assert net.macs_issued == 1800 and net.macs_useful == 1200 and net.macs_gated == 100
    assert net.energy_pj == {"compute": 30.0, "dram": 298.5}
    assert net.total_energy_pj == pytest.approx(328.5)
    assert net.stall_cycles == {"dram_bandwidth": 100}
    assert net.level_bits("dram") == 2 * 240
    assert net.access_totals()[("glb", "weight")].reads == 14
    assert net.utilization == pytest.approx(1800 / (400 * 16))
    assert net.layers[0].utilization == pytest.approx(900 / (100 * 16))


def test_results_are_frozen(net):
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.layers[0].cycles = 5
    with pytest.raises(TypeError):
        net.layers[0].energy_pj["compute"] = 0.0


def test_json_carries_the_versions(net):
    d = net.to_dict()
    assert d["schema_version"] == SCHEMA_VERSION == 2
    assert d["accelscope_version"] == accelscope_version() and accelscope_version()
    assert list(json.loads(net.to_json()))[:2] == ["schema_version", "accelscope_version"]
    text = net.to_json(written_utc="2026-01-31T12:00:00Z", command="accelscope run tiny")
    doc = json.loads(text)
    assert doc["written_utc"] == "2026-01-31T12:00:00Z"
    assert doc["command"] == "accelscope run tiny"
    assert NetworkResult.from_json(text) == net  # the file's own keys are not the result's


def test_json_round_trip_is_exact_types_included():
    # what models hand over: NumPy scalars, tuples, integer keys, int energies
    layer = _layer("c1", np.int64(100), energy_pj={"compute": 3, "dram": np.float64(0.1)},
                   stall_cycles={"dram": np.int64(7)},
                   details={"tile": (1, 2), "by_unit": {0: np.int32(4), 1: 2.5},
                            "flag": np.bool_(True), "shape": np.array([1, 2]),
                            "nested": [(1, (2, 3))], "none": None},
                   scratchpad_bytes=np.int64(64))
    net = NetworkResult("n", "m", "a", np.float64(1e9), (layer,), spec={"memory": ({"a": 1},)},
                        options={"batch": np.int64(2), "prune": None})
    assert type(layer.cycles) is int and type(layer.scratchpad_bytes) is int
    assert type(net.clock_hz) is float and type(layer.energy_pj["compute"]) is float
    assert layer.details["tile"] == [1, 2] and layer.details["by_unit"] == {"0": 4, "1": 2.5}
    again = NetworkResult.from_json(net.to_json())
    assert again == net
    same(again.to_dict(), net.to_dict())
    for a, b in zip(again.layers, net.layers, strict=True):
        for f in dataclasses.fields(LayerResult):
            same(_plain(getattr(a, f.name)), _plain(getattr(b, f.name)), f.name)


def _plain(v):
    return dict(v) if isinstance(v, MappingProxyType) else list(v) if isinstance(v, tuple) else v


def test_results_refuse_what_json_cannot_carry():
    with pytest.raises(TypeError, match="JSON cannot carry"):
        _layer("c1", 1, details={"x": object()})


def test_pickle_and_deepcopy(net):
    for again in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        assert again == net
        same(again.to_dict(), net.to_dict())
        with pytest.raises(TypeError):
            again.layers[0].details["x"] = 1


def test_version_1_is_read_and_a_newer_version_refused(net):
    v1 = net.to_dict()
    del v1["schema_version"], v1["accelscope_version"]
    for k in ("spec", "options"):  # the first version 1 files had neither
        del v1[k]
    assert NetworkResult.from_dict(v1).layers == net.layers
    newer = {**net.to_dict(), "schema_version": SCHEMA_VERSION + 1, "accelscope_version": "9"}
    with pytest.raises(ResultFormatError, match=r"schema_version 3 .*accelscope 9.*upgrade"):
        NetworkResult.from_dict(newer)
    with pytest.raises(ResultFormatError, match="positive integer"):
        NetworkResult.from_dict({**net.to_dict(), "schema_version": "2"})
    with pytest.raises(ResultFormatError, match=r"unknown fields \['bogus'\]"):
        NetworkResult.from_dict({**net.to_dict(), "bogus": 1})


def test_bad_files_give_clear_errors():
    with pytest.raises(ResultFormatError, match="not a results JSON"):
        NetworkResult.from_json("{not json")
    with pytest.raises(ResultFormatError, match="missing the field"):
        NetworkResult.from_json('{"network": "x"}')
    with pytest.raises(ResultFormatError, match="must be a JSON object"):
        NetworkResult.from_json("[1]")
    with pytest.raises(ResultFormatError, match="not an accelscope results CSV"):
        NetworkResult.from_csv("a,b\n1,2\n")
    with pytest.raises(ResultFormatError, match="not an accelscope accesses CSV"):
        NetworkResult.from_csv(NetworkResult("n", "m", "a", 1.0, (_layer("c", 1),)).to_csv(),
                               accesses="a,b\n")
    with pytest.raises(ResultFormatError, match="unknown fields"):
        LayerResult.from_dict({"layer": "x", "bogus": 1})
    with pytest.raises(ResultFormatError, match="layer result 'x'"):
        LayerResult.from_dict({"layer": "x"})


# -- tidy tables -------------------------------------------------------------------------------
@pytest.fixture
def mixed() -> NetworkResult:
    """Layers that differ: components, stall causes, detail keys and their types."""
    a = _layer("c1", 100, details={"bound_by": "dram", "tile": [1, 2], "units": 4,
                                   "mode": "split", "gated": True})
    b = _layer("c2", 300, energy_pj={"compute": 1.0, "static": 2.0},
               stall_cycles={"bank": 3}, scratchpad_bytes=64, model="host", arch="cpu",
               details={"bound_by": 7, "tile": "x", "units": 2.5})
    return NetworkResult("tiny", "m", "a", 1e9, (a, b))


def test_dataframe_is_tidy(mixed):
    df = mixed.to_dataframe()
    assert tuple(df.columns[:len(IDENTITY_COLUMNS)]) == IDENTITY_COLUMNS
    assert df["layer"].tolist() == ["c1", "c2"] and df["network"].tolist() == ["tiny"] * 2
    assert df["arch"].tolist() == ["a", "a"] and df["layer_arch"].tolist() == ["a", "cpu"]
    assert df["model"].tolist() == ["m", "m"] and df["layer_model"].tolist() == ["m", "host"]
    for c in ("cycles", "seconds", "macs", "macs_issued", "macs_useful", "macs_skipped",
              "macs_gated", "utilization", "total_energy_pj", "stall_cycles_total",
              "clock_hz", "peak_macs_per_cycle", "software_im2col_elems"):
        assert c in df.columns, c
    # one scalar per cell, never a JSON document
    for c in df.columns:
        for v in df[c]:
            assert not isinstance(v, (dict, list, tuple)), c
            assert not (isinstance(v, str) and v[:1] in "[{\""), (c, v)
    # a component or cause a layer lacks is 0; integers stay integers
    assert df["energy_pj.static"].tolist() == [0.0, 2.0]
    assert df["energy_pj.dram"].tolist() == [99.5, 0.0]
    assert df["stall_cycles.bank"].tolist() == [0, 3] and df["stall_cycles.bank"].dtype == "int64"
    assert df["cycles"].dtype == "int64"
    assert str(df["scratchpad_bytes"].dtype) == "Int64" and df["scratchpad_bytes"][1] == 64
    # details: scalars only; a key that is a list anywhere stays in JSON; mixed types as text
    assert "details.tile" not in df.columns
    assert df["details.units"].tolist() == [4.0, 2.5]
    assert df["details.bound_by"].tolist() == ["dram", "7"]
    assert df["details.gated"][0] == True and df["details.gated"].isna()[1]  # noqa: E712
    assert df["details.mode"].isna().tolist() == [False, True]
    assert str(df["details.gated"].dtype) == "boolean"
    assert "access.dram.input.reads" not in " ".join(df.columns)


def test_accesses_dataframe_is_long(net):
    ad = net.accesses_dataframe()
    assert tuple(ad.columns) == ACCESS_COLUMNS
    assert len(ad) == 6 and set(ad["level"]) == {"dram", "glb"}
    row = ad[(ad["layer"] == "c2") & (ad["tensor"] == "weight")].iloc[0]
    assert (row["reads"], row["writes"], row["read_bits"], row["write_bits"]) == (7, 3, 112, 48)
    assert all(str(ad[c].dtype) == "int64" for c in ACCESS_COLUMNS[5:])
    empty = NetworkResult("n", "m", "a", 1.0, (_layer("c", 1, accesses=()),))
    assert tuple(empty.accesses_dataframe().columns) == ACCESS_COLUMNS


def test_csv_is_the_tidy_table_and_reads_back_its_numbers(mixed):
    text = mixed.to_csv()
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0][:len(IDENTITY_COLUMNS)]) == IDENTITY_COLUMNS
    assert rows[1][3] == "c1"  # no quotes, no JSON
    accesses = mixed.accesses_dataframe().to_csv(index=False)
    back = NetworkResult.from_csv(text, accesses=accesses)
    assert (back.network, back.arch, back.model) == ("tiny", "a", "m")
    assert back.cycles == mixed.cycles and back.macs_useful == mixed.macs_useful
    assert back.total_energy_pj == mixed.total_energy_pj
    assert back.access_totals() == mixed.access_totals()
    assert back.stall_cycles == {"dram_bandwidth": 25, "bank": 3}
    assert back.layers[1].scratchpad_bytes == 64 and back.layers[0].scratchpad_bytes is None
    assert (back.layers[1].arch, back.layers[1].model) == ("cpu", "host")
    assert back.layers[0].details == {"bound_by": "dram", "units": 4, "mode": "split",
                                      "gated": True}
    assert NetworkResult.from_csv(text).layers[0].accesses == ()


def test_version_1_csv_still_reads_back_whole(net):
    # results.csv as accelscope wrote it before the tidy table: a JSON document per cell
    cols = [f.name for f in dataclasses.fields(LayerResult)]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["network", "network_model", "network_arch", *cols])
    for r in net.layers:
        d = r.to_dict()
        w.writerow([net.network, net.model, net.arch, *[json.dumps(d[c]) for c in cols]])
    again = NetworkResult.from_csv(buf.getvalue(), provenance=net.provenance)
    assert again.layers == net.layers


# -- display -----------------------------------------------------------------------------------
def test_repr_is_one_short_line(net):
    text = repr(net)
    assert "\n" not in text and len(text) < 200
    for part in ("'tiny'", "'a'", "model m", "2 layers", "2 kMAC", "400 cycles", "400 ns",
                 "328 pJ"):
        assert part in text, (part, text)
    layer = repr(net.layers[0])
    assert "\n" not in layer and "'c1'" in layer and "100 cycles" in layer


def test_html_table_escapes_names():
    r = NetworkResult("<net>", "m", "a&b", 1e9, (_layer("<script>x</script>", 10),))
    h = r._repr_html_()
    assert "<script>x" not in h and "&lt;script&gt;x&lt;/script&gt;" in h
    assert "&lt;net&gt;" in h and "a&amp;b" in h and h.count("<table>") == 2
    assert "<td>10</td>" in h
    assert "&lt;script&gt;" in r.layers[0]._repr_html_()


def test_chain_repr_is_short():
    import accelscope

    chain = accelscope.lower(accelscope.zoo.get("tiny"))
    text = repr(chain)
    assert "\n" not in text and len(text) < 200
    assert f"{len(chain.gconvs)} GConvs" in text and f"{chain.total_macs:,} MACs" in text
    h = chain._repr_html_()
    assert all(g.name in h for g in chain.gconvs)
