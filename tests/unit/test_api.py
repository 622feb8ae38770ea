"""The Python API (``accelscope.evaluate / compare / prepare / arch.override``): the same
numbers as the pipeline underneath, every option recorded, clear errors for bad calls."""

from __future__ import annotations

import copy
import json
import pickle

import pytest
import torch

import accelscope
from accelscope.arch import ArchError, load_arch, override, parse_setting
from accelscope.errors import AccelscopeError
from accelscope.pipeline import evaluate_workloads
from accelscope.results import NetworkResult
from accelscope.workload import zoo


@pytest.fixture(scope="module")
def tiny():
    return accelscope.prepare("tiny")


def test_evaluate_gives_the_pipeline_numbers_and_records_spec_and_options(tiny):
    r = accelscope.evaluate(tiny, "spots")
    direct = evaluate_workloads(tiny.workloads, load_arch("spots"), network="tiny")
    assert r.cycles == direct.cycles and r.total_energy_pj == pytest.approx(
        direct.total_energy_pj, rel=1e-12)
    assert [x.cycles for x in r.layers] == [x.cycles for x in direct.layers]
    assert r.spec == load_arch("spots").resolved()
    assert r.options["network"] == "tiny" and r.options["arch"] == "spots"
    assert r.options["prune"] is None and r.options["seed"] == 0
    assert json.loads(json.dumps(r.to_dict()["options"])) == r.to_dict()["options"]


def test_a_prepared_network_is_evaluated_on_many_archs_without_relowering(tiny):
    a = accelscope.evaluate(tiny, "ideal")
    b = accelscope.evaluate("tiny", "ideal")
    assert a.cycles == b.cycles and a.layers == b.layers


def test_prepare_options_on_a_prepared_network_are_refused(tiny):
    with pytest.raises(AccelscopeError, match="already prepared"):
        accelscope.evaluate(tiny, "ideal", prune="0.5")


def test_an_nn_module_and_a_chain_are_models():
    zm = zoo.get("tiny")
    r = accelscope.evaluate(zm.module, "ideal", input_shape=zm.input_shape)
    chain = accelscope.lower(zm.module, torch.randn(zm.input_shape))
    assert accelscope.evaluate(chain, "ideal").cycles == r.cycles


def test_overrides_apply_and_are_recorded(tiny):
    base = accelscope.evaluate(tiny, "gemmini")
    change = {"compute.array": [32, 32], "compute.macs_per_cycle": 1024}
    r = accelscope.evaluate(tiny, "gemmini", overrides=change)
    assert r.spec["compute"]["array"] == [32, 32] and r.cycles != base.cycles
    assert r.options["overrides"] == change


def test_override_validates_like_the_yaml_and_names_the_path():
    spec = override("gemmini", {"compute.array": [64, 8], "compute.macs_per_cycle": 512})
    assert tuple(spec.compute.array) == (64, 8) != tuple(load_arch("gemmini").compute.array)
    with pytest.raises(ArchError, match=r"compute\.arry"):
        override("gemmini", {"compute.arry": [64, 8]})
    # cross-field rules hold as in a YAML file: nothing is silently re-derived
    with pytest.raises(ArchError, match=r"compute\.macs_per_cycle: is 256 but array 64x8"):
        override("gemmini", {"compute.array": [64, 8]})
    with pytest.raises(ArchError, match=r"memory\[99\]: out of range"):
        override("spots", {"memory[99].size_bytes": 1})
    with pytest.raises(ArchError, match="no item named 'nosuch'"):
        override("spots", {"memory.nosuch.size_bytes": 1})
    with pytest.raises(ArchError, match="clock_hz"):
        override("spots", {"clock_hz": -5})


def test_override_by_level_name_equals_by_index():
    spec = load_arch("spots")
    name = spec.memory[0].name
    a = override(spec, {f"memory.{name}.size_bytes": 4096})
    b = override(spec, {"memory[0].size_bytes": 4096})
    assert a == b and a.memory[0].size_bytes == 4096


def test_parse_setting_reads_yaml_values():
    assert parse_setting("compute.array=[64, 8]") == ("compute.array", [64, 8])
    assert parse_setting("clock_hz=2e8")[1] == pytest.approx(2e8)
    with pytest.raises(ArchError, match="KEY=VALUE"):
        parse_setting("compute.array")


def test_compare_rows_ratios_and_labels(tiny):
    c = accelscope.compare(tiny, ["ideal", "spots"], baseline="spots")
    assert c.labels == ["ideal", "spots"] and c.baseline == "spots"
    assert c["spots"].cycles == accelscope.evaluate(tiny, "spots").cycles
    row = {r["arch"]: r for r in c.rows}
    assert row["spots"]["speedup_vs_baseline"] == 1.0
    assert row["ideal"]["speedup_vs_baseline"] == pytest.approx(
        c["spots"].seconds / c["ideal"].seconds)
    df = c.to_dataframe()
    assert list(df["label"]) == ["ideal", "spots"]
    assert json.loads(c.to_json())["baseline"] == "spots"
    assert "Comparison('tiny'" in repr(c) and "<table>" in c._repr_html_()
    with pytest.raises(KeyError, match="labels: ideal, spots"):
        c["scnn"]


def test_compare_with_strategies(tiny):
    c = accelscope.compare(tiny, ["spots"], strategies=["gconv", "host-fallback"])
    assert c.labels == ["spots-gconv", "spots-host-fallback"]
    assert c.baseline == "spots-host-fallback"
    assert c["spots-gconv"].options["strategy"] == "gconv"


def test_results_and_comparisons_cross_a_process_pool(tiny):
    c = accelscope.compare(tiny, ["ideal", "spots"])
    again = pickle.loads(pickle.dumps(c))
    assert again == c and copy.deepcopy(c) == c
    r = c["spots"]
    assert NetworkResult.from_json(r.to_json()) == r


@pytest.mark.parametrize("call, needle", [
    (lambda n: accelscope.evaluate(n, "nosuch"), "nosuch"),
    (lambda n: accelscope.evaluate(n, "ideal", host="gpu"), "host"),
    (lambda n: accelscope.evaluate(n, "spots", strategy="gconv", compress="dct"),
     "cannot be combined"),
    (lambda n: accelscope.evaluate(n, "spots", strategy="gconv,matrix"), "one strategy"),
    (lambda n: accelscope.evaluate(n, "spots", strategy="bogus"), "bogus"),
    (lambda n: accelscope.evaluate(n, "spots", compress="zip"), "zip"),
    (lambda n: accelscope.evaluate(n, "ideal", host_threads=-1), "host_threads"),
    (lambda n: accelscope.compare(n, "ideal"), "list of architectures"),
    (lambda n: accelscope.compare(n, []), "empty"),
    (lambda n: accelscope.compare(n, ["ideal", "ideal"]), "twice"),
    (lambda n: accelscope.compare(n, ["ideal", "spots"], baseline="scnn"), "baseline"),
    (lambda n: accelscope.evaluate("nosuchnet", "ideal"), "nosuchnet"),
    (lambda n: accelscope.evaluate("tiny", "ideal", mode="bogus"), "mode"),
    (lambda n: accelscope.evaluate("tiny", "ideal", prune="0.7x"), "0.7x"),
    (lambda n: accelscope.evaluate(torch.nn.Conv2d(3, 4, 3), "ideal"), "input_shape"),
])
def test_bad_calls_raise_a_clear_accelscope_error(tiny, call, needle):
    with pytest.raises(AccelscopeError, match=needle):
        call(tiny)


def test_progress_is_called_per_layer(tiny):
    seen = []
    accelscope.evaluate(tiny, "ideal", progress=lambda label, i, n: seen.append((label, i, n)))
    assert seen and seen[-1][1] == seen[-1][2] == len(tiny.workloads)
    assert {s[0] for s in seen} == {"ideal"}


def test_the_public_names_are_exported():
    for name in ("evaluate", "compare", "prepare", "load_arch", "lower", "execute",
                 "NetworkResult", "LayerResult", "Comparison", "ArchSpec", "ArchError"):
        assert name in accelscope.__all__ and hasattr(accelscope, name)
    assert accelscope.arch.override is override
    assert isinstance(accelscope.__version__, str)


def test_physically_odd_designs_get_plausibility_warnings_not_errors(tiny):
    r = accelscope.evaluate(tiny, "ideal", overrides={"memory[0].size_bytes": 256,
                                                      "dram.bandwidth_bits_per_cycle": 1e6})
    assert any("outermost on-chip level" in w and "no tile fits" in w for w in r.warnings)
    assert any("dram.bandwidth_bits_per_cycle" in w for w in r.warnings)
    s = accelscope.evaluate(tiny, "spots", strategy="gconv",
                            overrides={"clock_hz": 2e10})
    assert any(w.startswith("clock_hz 2e+10 is outside") for w in s.warnings)
    assert accelscope.evaluate(tiny, "ideal").warnings == ()
    for name in accelscope.arch.preset_names():  # the shipped designs are plausible
        assert accelscope.load_arch(name).plausibility() == [], name


def test_every_call_in_the_api_pages_command_table_exists():
    """docs/api.md maps each command to its Python calls: every dotted name there resolves
    (``accelscope.x.y``; a bare ``frame(cmp)`` after one belongs to the same module)."""
    import importlib
    import re
    from pathlib import Path

    page = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    table = [line for line in page.split("\n## ")[0].splitlines() if line.startswith("| `")]
    assert len(table) >= 15
    checked = 0
    for line in table:
        python = line.split("|")[2]
        module = None
        for name in re.findall(r"`([A-Za-z_][\w.]*)\(", python):
            parts = name.split(".")
            if parts[0] == "accelscope":
                for i in range(len(parts) - 1, 0, -1):  # the longest importable prefix
                    try:
                        obj = importlib.import_module(".".join(parts[:i]))
                    except ImportError:
                        continue
                    module = obj
                    for attr in parts[i:]:
                        obj = getattr(obj, attr)
                    break
            else:
                assert module is not None, (line, name)
                obj = getattr(module, name)
            assert callable(obj), name
            checked += 1
    assert checked >= 25
