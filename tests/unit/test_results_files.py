"""The files of a result (issue 20, part 2): results.json validates against the JSON Schema
that ships with the package (generated from the result types), every built-in model's real
result on ``tiny`` survives JSON, pickle and deep copy exactly, the tidy tables are the same
in CSV and Parquet, plots touch no global matplotlib state, and docs/results.md names every
key and column."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from accelscope import results_schema
from accelscope.arch import load_arch, preset_names
from accelscope.models.registry import BUILTIN
from accelscope.output import RunOutput, read_manifest
from accelscope.pipeline import build_workloads, evaluate_workloads
from accelscope.report.writer import RESULT_FILES, write_result
from accelscope.results import (
    ACCESS_COLUMNS,
    IDENTITY_COLUMNS,
    SCHEMA_VERSION,
    Access,
    Envelope,
    FileFields,
    LayerResult,
    NetworkResult,
    Totals,
)

jsonschema = pytest.importorskip("jsonschema")
DOCS = Path(__file__).parents[2] / "docs" / "results.md"
MODELS = [m.name for m in BUILTIN]


def _preset(model: str):
    for p in preset_names():
        spec = load_arch(p)
        if spec.model == model:
            if model == "host":  # a measured model: one quick repeat on the CPU
                spec = spec.model_copy(update={"host": spec.host.model_copy(
                    update={"repeats": 1, "warmup": 0, "device": "cpu"})})
            return spec
    raise AssertionError(f"no preset for model {model!r}")


@pytest.fixture(scope="module")
def tiny_results() -> dict[str, NetworkResult]:
    """Every built-in model's result on ``tiny`` (real activations)."""
    import accelscope

    zm = accelscope.zoo.get("tiny")
    workloads = build_workloads(accelscope.lower(zm), zm.example_input())
    return {m: evaluate_workloads(workloads, _preset(m), network="tiny") for m in MODELS}


def _same(a, b, where="$"):
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


def _validator():
    schema = results_schema.shipped()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


# -- the schema ----------------------------------------------------------------------------------
def test_shipped_schema_is_the_generated_one():
    shipped = results_schema.shipped()
    assert shipped == results_schema.generate()
    path = Path(results_schema.__file__).parent / results_schema.SCHEMA_FILE
    assert path.read_text(encoding="utf-8") == results_schema.text()
    assert results_schema.main(["--check"]) == 0
    assert shipped["version"] == SCHEMA_VERSION
    assert shipped["$id"].endswith(str(SCHEMA_VERSION)) and shipped["title"]
    assert shipped["properties"]["schema_version"] == {
        "const": SCHEMA_VERSION, "description": shipped["properties"]["schema_version"][
            "description"]}


def test_schema_follows_the_types():
    s = results_schema.generate()
    layer = s["$defs"]["LayerResult"]
    assert list(layer["properties"]) == [f.name for f in dataclasses.fields(LayerResult)]
    assert layer["properties"]["cycles"]["type"] == "integer"
    assert layer["properties"]["clock_hz"]["type"] == "number"
    assert layer["properties"]["scratchpad_bytes"]["type"] == ["integer", "null"]
    assert layer["properties"]["accesses"]["items"] == {"$ref": "#/$defs/Access"}
    assert layer["properties"]["energy_pj"]["additionalProperties"] == {"type": "number"}
    assert "[pJ]" in layer["properties"]["energy_pj"]["description"]
    assert list(s["$defs"]["Access"]["properties"]) == [f.name for f in
                                                        dataclasses.fields(Access)]
    assert list(s["$defs"]["Totals"]["properties"]) == list(Totals.__annotations__)
    top = set(s["properties"])
    assert top == ({f.name for f in dataclasses.fields(NetworkResult)}
                   | set(Envelope.__annotations__) | set(FileFields.__annotations__))
    assert not set(FileFields.__annotations__) & set(s["required"])
    # every property is described
    for name, obj in [("root", s), *s["$defs"].items()]:
        for p, sub in obj["properties"].items():
            assert sub.get("description"), f"{name}.{p} has no description"


def test_schema_module_runs_as_a_script():
    r = subprocess.run([sys.executable, "-m", "accelscope.results_schema", "--check"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "up to date" in r.stdout


# -- real results --------------------------------------------------------------------------------
@pytest.mark.parametrize("model", MODELS)
def test_real_results_round_trip_exactly(tiny_results, model):
    r = tiny_results[model]
    for again in (NetworkResult.from_json(r.to_json()), NetworkResult.from_json(
            r.to_json(indent=None)), pickle.loads(pickle.dumps(r)), copy.deepcopy(r)):
        assert again == r
        _same(again.to_dict(), r.to_dict())
        for a, b in zip(again.layers, r.layers, strict=True):
            for name in ("energy_pj", "stall_cycles", "details", "provenance"):
                _same(dict(getattr(a, name)), dict(getattr(b, name)), f"{a.layer}.{name}")
    assert r.spec and r.spec["name"] == r.arch
    _validator().validate(json.loads(r.to_json()))


def test_written_files(tiny_results, tmp_path):
    validator = _validator()
    with RunOutput(tmp_path / "o", command="accelscope run tiny --arch X") as out:
        for model, r in tiny_results.items():
            write_result(r, out, model, plot=model == "ideal")
    manifest = read_manifest(tmp_path / "o")
    for model, r in tiny_results.items():
        d = tmp_path / "o" / model
        want = [f for f in RESULT_FILES if model == "ideal" or f != "layers.png"]
        assert sorted(p.name for p in d.iterdir()) == sorted(want)
        assert [e["path"] for e in manifest["files"] if e["path"].startswith(f"{model}/")] \
            == [f"{model}/{f}" for f in want]
        doc = json.loads((d / "results.json").read_text())
        validator.validate(doc)
        assert doc["schema_version"] == SCHEMA_VERSION
        assert doc["command"] == "accelscope run tiny --arch X"
        for key in ("started_utc", "written_utc"):
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc[key])
        assert doc["started_utc"] <= doc["written_utc"]
        assert NetworkResult.from_dict(doc) == r
        # the tidy table: the same in CSV and Parquet, one scalar per cell
        table = r.to_dataframe()
        pq = pd.read_parquet(d / "results.parquet")
        assert pq.attrs["schema_version"] == SCHEMA_VERSION
        pd.testing.assert_frame_equal(pq, table, check_dtype=False)
        assert [str(t) for t in pq.dtypes if str(t) in ("int64", "Int64")] == [
            str(t) for t in table.dtypes if str(t) in ("int64", "Int64")]
        csv = pd.read_csv(d / "results.csv")
        assert list(csv.columns) == list(table.columns)
        assert csv["layer"].tolist() == [x.layer for x in r.layers]
        assert csv["cycles"].sum() == r.cycles
        assert csv["total_energy_pj"].sum() == pytest.approx(r.total_energy_pj)
        assert all(c in csv.columns for c in IDENTITY_COLUMNS)
        # the traffic, long form
        acc = pd.read_csv(d / "accesses.csv")
        assert tuple(acc.columns) == ACCESS_COLUMNS
        pd.testing.assert_frame_equal(pd.read_parquet(d / "accesses.parquet"),
                                      r.accesses_dataframe(), check_dtype=False)
        assert int((acc["read_bits"] + acc["write_bits"])[acc["level"] == "dram"].sum()) \
            == r.level_bits("dram")
        back = NetworkResult.from_csv((d / "results.csv").read_text(),
                                      accesses=(d / "accesses.csv").read_text())
        assert back.cycles == r.cycles and back.access_totals() == r.access_totals()
    assert (tmp_path / "o" / "ideal" / "layers.png").read_bytes()[:4] == b"\x89PNG"


def test_a_version_1_file_reads_back(tiny_results):
    r = tiny_results["ideal"]
    v1 = r.to_dict()
    for k in ("schema_version", "accelscope_version", "spec", "options"):
        del v1[k]
    again = NetworkResult.from_json(json.dumps(v1))
    assert again.layers == r.layers and again.spec == {}


# -- plots ---------------------------------------------------------------------------------------
def test_plots_return_figures_and_leave_matplotlib_alone(tmp_path):
    code = f"""
import sys, matplotlib
backend = matplotlib.get_backend()
import accelscope
from accelscope.pipeline import evaluate_network
from accelscope.report import plot_compare, plot_network
from matplotlib.figure import Figure
zm = accelscope.zoo.get("tiny")
chain = accelscope.lower(zm)
a, b = (evaluate_network(chain, x, mode="statistical") for x in ("ideal", "spots"))
fig = plot_network(a)
assert isinstance(fig, Figure), type(fig)
assert isinstance(plot_network(a, {str(tmp_path / 'l.png')!r}), Figure)
assert isinstance(plot_compare([a, b], {str(tmp_path / 'c.png')!r}, baseline=0), Figure)
assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
assert matplotlib.get_backend() == backend, (matplotlib.get_backend(), backend)
print("ok")
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=300, env={**os.environ, "MPLBACKEND": "svg"})
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-3000:]
    for name in ("l.png", "c.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_the_writer_saves_no_plot_when_asked(tiny_results, tmp_path):
    with RunOutput(tmp_path / "o") as out:
        write_result(tiny_results["ideal"], out, plot=False)
    names = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert names == sorted([*(f for f in RESULT_FILES if f != "layers.png"), "manifest.json"])
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    assert "command" not in doc  # a RunOutput without one


# -- documentation -------------------------------------------------------------------------------
def test_docs_name_every_key_file_and_column(tiny_results):
    text = DOCS.read_text(encoding="utf-8")
    names = set(RESULT_FILES) | set(IDENTITY_COLUMNS) | set(ACCESS_COLUMNS)
    names |= {f.name for cls in (NetworkResult, LayerResult, Access)
              for f in dataclasses.fields(cls)}
    names |= set(Totals.__annotations__) | set(Envelope.__annotations__)
    names |= set(FileFields.__annotations__)
    for r in tiny_results.values():
        names |= {c for c in r.to_dataframe().columns if "." not in c}
    missing = sorted(n for n in names if f"`{n}`" not in text)
    assert not missing, f"docs/results.md does not describe {missing}"
    for prefix in ("energy_pj.", "stall_cycles.", "details."):
        assert f"`{prefix}" in text
    assert f"version {SCHEMA_VERSION}" in text
