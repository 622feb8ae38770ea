"""Design-space exploration: spaces, samplers, the store, Pareto fronts, influence, the
guided search (in-process sweeps on the tiny network)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from accelscope.dse import (
    SpaceError,
    influence,
    latin_hypercube,
    load_space,
    open_store,
    pareto_front,
    pareto_mask,
    run_sweep,
    sample,
)
from accelscope.dse.samplers import settings


def _space(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {"base": "ideal", "workload": {"networks": ["tiny"],
                                                             "mode": "statistical"}}
    base.update(kw)
    return base


# -- samplers ------------------------------------------------------------------------------------
def test_grid_size_is_the_product_of_the_axes_over_bases() -> None:
    sp = load_space(_space(
        base=["ideal", "gemmini"],
        axes={"dram.bandwidth_bits_per_cycle": [32, 64, 128],
              "clock_hz": {"range": [1e8, 1e9], "num": 4}},
        workload={"networks": ["tiny"], "prune": ["0.5", None], "mode": "statistical"}))
    assert sp.grid_size() == 2 * 3 * 4 * 2
    pts = sample(sp)
    assert len(pts) == 48
    assert len({(p.base, p.values) for p in pts}) == 48


def test_ranges_linear_log_step_and_integers() -> None:
    sp = load_space(_space(axes={
        "clock_hz": {"range": [1e8, 4e8], "num": 4},
        "memory.global_buffer.size_bytes": {"log": [1024, 1048576], "num": 3},
        "dram.bandwidth_bits_per_cycle": {"range": [16, 64], "step": 16}}))
    ax = {a.name: a for a in sp.bases[0].axes}
    assert ax["clock_hz"].values == pytest.approx((1e8, 2e8, 3e8, 4e8))
    assert ax["memory.global_buffer.size_bytes"].values == (1024, 32768, 1048576)
    assert all(isinstance(v, int) for v in ax["memory.global_buffer.size_bytes"].values or ())
    assert ax["dram.bandwidth_bits_per_cycle"].values == (16, 32, 48, 64)


def test_continuous_ranges_stay_inside_and_integers_are_whole() -> None:
    sp = load_space(_space(axes={"memory.global_buffer.size_bytes": {"log": [1024, 65536]},
                                 "clock_hz": {"range": [1e8, 2e8]}},
                           sampler={"kind": "random", "n": 200, "seed": 3}))
    pts = sample(sp)
    sizes = [p.value("memory.global_buffer.size_bytes") for p in pts]
    clocks = [p.value("clock_hz") for p in pts]
    assert all(isinstance(s, int) and 1024 <= s <= 65536 for s in sizes)
    assert all(1e8 <= c <= 2e8 for c in clocks)
    # log-uniform: about half the draws below the geometric middle (8192)
    assert 60 < sum(s < 8192 for s in sizes) < 140
    assert sample(sp) == pts  # seeded: a rerun draws the same points


def test_tied_axes_move_together() -> None:
    sp = load_space(_space(axes={"shape": {"tied": {
        "compute.array": [[32, 32], [64, 16], [128, 8]],
        "memory.global_buffer.banks": [16, 8, 4]}}}))
    pts = sample(sp)
    assert len(pts) == 3
    got = [settings(sp, p)[1] for p in pts]
    assert got == [{"compute.array": [32, 32], "memory.global_buffer.banks": 16},
                   {"compute.array": [64, 16], "memory.global_buffer.banks": 8},
                   {"compute.array": [128, 8], "memory.global_buffer.banks": 4}]
    assert sp.axis_names() == ["compute.array", "memory.global_buffer.banks"]


def test_latin_hypercube_puts_one_point_in_each_stratum() -> None:
    u = latin_hypercube(10, 3, np.random.default_rng(0))
    for d in range(3):
        assert sorted(np.floor(u[:, d] * 10).astype(int)) == list(range(10))
    sp = load_space(_space(axes={"dram.bandwidth_bits_per_cycle": [16, 32, 64, 128, 256],
                                 "clock_hz": {"range": [1e8, 1e9]}},
                           sampler={"kind": "lhs", "n": 10, "seed": 1}))
    pts = sample(sp)
    bw = [p.value("dram.bandwidth_bits_per_cycle") for p in pts]
    assert sorted(bw) == sorted([16, 32, 64, 128, 256] * 2)  # each value n/k = 2 times
    clocks = sorted(p.value("clock_hz") for p in pts)
    assert [int((c - 1e8) / 9e7) for c in clocks] == list(range(10))


# -- validation -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("space", "says"), [
    ({"bases": "ideal"}, r"space: bases: unknown key"),
    (_space(axes={"dram.bandwith_bits_per_cycle": [1]}), r"axes.dram.bandwith_bits_per_cycle: "
     r".*did you mean 'bandwidth_bits_per_cycle'"),
    (_space(axes={"memory.glb.size_bytes": [1]}), r"no item named 'glb'; items: global_buffer"),
    (_space(axes={"clock_hz": {"range": [2e9, 1e9], "num": 3}}), r"axes.clock_hz.range: .*low "
     r"must be below high"),
    (_space(axes={"clock_hz": {"range": [1e8, 1e9]}}), r"axes.clock_hz: is a continuous range"
     r".*num: N or step"),
    (_space(axes={"clock_hz": {"log": [0, 1e9], "num": 3}}), r"log range needs low > 0"),
    (_space(axes={"t": {"tied": {"compute.array": [[1, 1]], "clock_hz": [1e8, 2e8]}}}),
     r"axes.t.tied: the lists differ in length \(compute.array: 1, clock_hz: 2\)"),
    (_space(axes={"clock_hz": 5e8}), r"axes.clock_hz: is 500000000.0; an axis is a list"),
    (_space(workload={"networks": ["resnet51"]}), r"workload.networks\[0\]: 'resnet51' is "
     r"neither a zoo model"),
    (_space(workload={"networks": ["tiny"], "prune": ["0.5", "bogus:1"]}),
     r"workload.prune\[1\]"),
    (_space(workload={"networks": ["tiny"], "mode": "exact"}), r"workload.mode: 'exact'"),
    (_space(sampler={"kind": "sobol"}), r"sampler.kind: is 'sobol'; one of grid, random"),
    (_space(sampler={"kind": "random"}), r"sampler.n: is None"),
    (_space(constraints={"latencyy": {"max": 1}}), r"constraints.latencyy: 'latencyy' is no "
     r"figure or spec field"),
    (_space(objectives=["latency", "speed"]), r"objectives\[1\]: 'speed' is not an objective"),
    (_space(base=[{"arch": "ideal", "sett": {}}]), r"base\[0\].sett: unknown key"),
    (_space(base="idea"), r"base.arch: idea: no arch preset .*did you mean 'ideal'"),
])
def test_space_errors_name_the_path_and_the_fix(space: dict[str, object], says: str) -> None:
    with pytest.raises(SpaceError, match=says):
        load_space(space)


def test_space_file_errors_name_the_file(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("base: ideal\nbase: spots\nworkload: {networks: [tiny]}\n")
    with pytest.raises(SpaceError, match=r"s.yaml:2: not valid YAML: duplicate key 'base'"):
        load_space(f)
    with pytest.raises(SpaceError, match=r"no such file"):
        load_space(tmp_path / "missing.yaml")


# -- sweeps, the store -------------------------------------------------------------------------
def test_failing_points_are_recorded_and_the_sweep_goes_on(tmp_path: Path) -> None:
    # compute.array [16, 16] without macs_per_cycle breaks the spec's cross-field rule
    sp = _space(axes={"compute.array": [[32, 32], [16, 16]],
                      "dram.bandwidth_bits_per_cycle": [64, 128]},
                constraints={"on_chip_bytes": {"max": 2**20}, "cycles": {"max": 1}})
    s = run_sweep(sp, out=tmp_path / "st", workers=1)
    assert (s.points, s.rows, s.computed, s.errors) == (4, 4, 4, 2)
    df = open_store(tmp_path / "st").to_dataframe()
    bad = df[df["compute.array"] == "[16, 16]"]
    assert set(bad["status"]) == {"error"}
    assert bad["error"].str.contains(r"compute.macs_per_cycle: is 1024 but array 16x16").all()
    good = df[df["compute.array"] == "[32, 32]"]
    assert set(good["status"]) == {"ok"} and (good["cycles"] > 1).all()
    # the result constraint marks the rows, the result stays
    assert (good["feasible"] == 0).all() and good["error"].str.contains("cycles").all()
    # a rerun computes nothing
    again = run_sweep(sp, out=tmp_path / "st", workers=1)
    assert (again.computed, again.resumed) == (0, 4)
    assert len(open_store(tmp_path / "st")) == 4


def test_constraints_before_evaluation_and_area_without_an_area_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sp = _space(axes={"memory.global_buffer.size_bytes": [65536, 1048576]},
                constraints={"on_chip_bytes": {"max": 100000}})
    run_sweep(sp, out=tmp_path / "a", workers=1)
    df = open_store(tmp_path / "a").to_dataframe().set_index("memory.global_buffer.size_bytes")
    assert df.at[65536, "status"] == "ok"
    assert df.at[1048576, "status"] == "infeasible"
    assert "on_chip_bytes 1,048,576 > max 100,000" in df.at[1048576, "error"]
    assert math.isnan(df.at[1048576, "cycles"])  # not evaluated
    import dataclasses

    from accelscope.models import registry

    real = registry.get_model

    def without_area(name: str):  # type: ignore[no-untyped-def]
        return dataclasses.replace(real(name), area=None)

    monkeypatch.setattr(registry, "get_model", without_area)  # a model with no area model
    run_sweep(_space(objectives=["latency", "area"]), out=tmp_path / "b", workers=1)
    row = open_store(tmp_path / "b").to_dataframe().iloc[0]
    assert row["status"] == "error" and "model 'ideal' has no area model" in row["error"]


def test_layers_table_and_export(tmp_path: Path) -> None:
    s = run_sweep(_space(base=["ideal", "spots"]), out=tmp_path / "st", workers=1,
                  layers=True)
    st = open_store(s.store)
    layers = st.layers_dataframe()
    assert len(layers) == 2 * 8 and set(layers["base"]) == {"ideal", "spots"}
    df = st.to_dataframe()
    for r in df.itertuples():
        assert layers[layers["row_key"] == r.row_key]["cycles"].sum() == r.cycles
    st.export(tmp_path / "r.csv")
    st.export(tmp_path / "r.parquet")
    assert len(pd.read_csv(tmp_path / "r.csv")) == len(pd.read_parquet(tmp_path / "r.parquet"))
    st.close()


def test_store_refuses_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("x")
    with pytest.raises(Exception, match=r"exists, is not empty and holds no store.sqlite"):
        run_sweep(_space(), out=tmp_path, workers=1)
    with pytest.raises(Exception, match=r"no results store here"):
        open_store(tmp_path / "nothing")


# -- analysis --------------------------------------------------------------------------------------
def test_pareto_mask_on_hand_made_sets() -> None:
    v = np.array([[1, 5], [2, 2], [5, 1], [3, 3], [2, 2], [1, 6], [6, 6]])
    assert pareto_mask(v).tolist() == [True, True, True, False, True, False, False]
    assert pareto_mask(np.empty((0, 2))).tolist() == []
    v3 = np.array([[1, 1, 9], [1, 1, 8], [0, 9, 9]])
    assert pareto_mask(v3).tolist() == [False, True, True]


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    base = {"status": "ok", "feasible": 1, "base": "b", "network": "n", "point": "{}"}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_pareto_front_per_network_with_maximised_objectives() -> None:
    df = _frame([{"seconds": 1.0, "utilization": 0.5},
                 {"seconds": 2.0, "utilization": 0.9},
                 {"seconds": 3.0, "utilization": 0.8},
                 {"seconds": 1.5, "utilization": 0.4},
                 {"seconds": 9.0, "utilization": 1.0, "network": "m"},
                 {"seconds": 0.1, "utilization": 1.0, "feasible": 0}])
    front = pareto_front(df, "latency,utilization:max")
    assert front[["network", "seconds"]].values.tolist() == [["m", 9.0], ["n", 1.0],
                                                             ["n", 2.0]]
    assert len(pareto_front(df, "latency,utilization:max", by=None)) == 3


def test_influence_finds_the_axis_that_moves_the_objective() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for a in (1, 2, 4, 8):
        for b in ("x", "y", "z"):
            rows.append({"a": a, "b": b, "seconds": 10.0 / a * (1 + 0.01 * rng.random()),
                         "point": '{"a": 1, "b": 1}'})
    inf = influence(_frame(rows), ["latency"])
    assert inf["axis"].tolist() == ["a", "b"]
    assert inf.iloc[0]["eta2"] > 0.99 and inf.iloc[1]["eta2"] < 0.01
    assert inf.iloc[0]["spearman"] < -0.95  # ties in a: not exactly -1


def test_guided_search_finds_the_known_optimum(tmp_path: Path) -> None:
    pytest.importorskip("optuna")
    axes = {"dram.bandwidth_bits_per_cycle": [8, 16, 32, 64, 128, 256, 512, 1024],
            "compute.cycles_per_op": [1, 2, 3, 4, 5, 6, 7, 8]}
    grid = run_sweep(_space(axes=axes, objectives=["latency"]), out=tmp_path / "g",
                     workers=1)
    best = open_store(grid.store).to_dataframe()["seconds"].min()
    s = run_sweep(_space(axes=axes, objectives=["latency", "energy"],
                         sampler={"kind": "guided", "budget": 40, "population": 8,
                                  "seed": 1}), out=tmp_path / "o", workers=1)
    df = open_store(s.store).to_dataframe()
    assert s.points <= 40 and len(df) == s.points
    assert df["seconds"].min() == pytest.approx(best)
    # a rerun reads the trials back and computes nothing
    again = run_sweep(_space(axes=axes, objectives=["latency", "energy"],
                             sampler={"kind": "guided", "budget": 40, "population": 8,
                                      "seed": 1}), out=tmp_path / "o", workers=1)
    assert again.computed == 0 and len(open_store(s.store)) == len(df)


def test_a_tied_axis_is_reported_by_the_columns_of_its_paths(tmp_path: Path) -> None:
    """The front, the best points and the influence name a tied group's paths (the store
    has a column per path; the point records the group's name)."""
    from accelscope.dse.pareto import best_points, parameter_columns

    sp = _space(axes={"shape": {"tied": {"compute.array": [[32, 32], [64, 16]],
                                         "compute.macs_per_cycle": [1024, 1024]}},
                      "dram.bandwidth_bits_per_cycle": [64, 128]})
    run_sweep(sp, out=tmp_path / "st", workers=1)
    df = open_store(tmp_path / "st").to_dataframe()
    assert df.attrs["tied"] == {"shape": ["compute.array", "compute.macs_per_cycle"]}
    # macs_per_cycle does not vary: only the varying columns are parameters
    assert set(parameter_columns(df)) == {"compute.array", "dram.bandwidth_bits_per_cycle"}
    assert "compute.array=" in best_points(df, "latency")["parameters"].iloc[0]
    assert "compute.array" in set(influence(df, "latency")["axis"])
