"""The command line driven by scripts: data on stdout, notes on stderr, ``--json`` that
``json.load`` reads, ``--set`` validated like the YAML, ``--quiet``, ``--no-plot``,
``--force``, ``--version`` and ``python -m accelscope``; a piped table keeps every column."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import accelscope
from accelscope import cli
from accelscope.results import NetworkResult


def run(capsys, *args):
    """(exit code, stdout, stderr) of ``accelscope ARGS`` run in this process (not a
    terminal, as in a pipe)."""
    with pytest.raises(SystemExit) as exc:
        cli.main(list(args))
    out, err = capsys.readouterr()
    return exc.value.code or 0, out, err


def test_run_json_is_the_result_on_stdout_and_tables_go_to_stderr(capsys, tmp_path):
    code, out, err = run(capsys, "run", "tiny", "--arch", "ideal", "--json", "--out",
                         str(tmp_path))
    assert code == 0, err
    r = NetworkResult.from_json(out)
    assert r == NetworkResult.from_json((tmp_path / "results.json").read_text())
    assert "tiny on ideal" in err and "wrote" in err


def test_compare_json_loads_and_holds_every_result(capsys, tmp_path):
    code, out, err = run(capsys, "compare", "tiny", "--arch", "ideal,spots", "--json",
                         "--out", str(tmp_path))
    assert code == 0, err
    doc = json.loads(out)
    assert [r["label"] for r in doc["rows"]] == ["ideal", "spots"]
    assert set(doc["results"]) == {"ideal", "spots"}
    assert doc["results"]["spots"]["totals"]["cycles"] == NetworkResult.from_json(
        (tmp_path / "spots" / "results.json").read_text()).cycles


def test_compare_table_piped_keeps_every_column_and_row(capsys, tmp_path):
    code, out, err = run(capsys, "compare", "tiny", "--arch", "ideal,spots,scnn,eyeriss",
                         "--out", str(tmp_path))
    assert code == 0, err
    header = next(line for line in out.splitlines() if "arch" in line and "cycles" in line)
    for col in ("arch", "model", "cycles", "latency ms", "energy mJ", "DRAM MB", "util",
                "speed-up", "energy eff."):
        assert col in header
    rows = [line for line in out.splitlines() if line.split()[:1] in
            (["ideal"], ["spots"], ["scnn"], ["eyeriss"])]
    assert len(rows) == 4
    assert "warning" not in out and "wrote" not in out  # notes are on stderr
    assert "wrote" in err


def test_set_changes_a_field_and_is_recorded(capsys, tmp_path):
    code, out, err = run(capsys, "run", "tiny", "--arch", "gemmini", "--set",
                         "compute.array=[32, 32]", "--set", "compute.macs_per_cycle=1024",
                         "--out", str(tmp_path), "--no-plot")
    assert code == 0, err
    r = NetworkResult.from_json((tmp_path / "results.json").read_text())
    assert r.spec["compute"]["array"] == [32, 32]
    assert r.options["overrides"] == {"compute.array": [32, 32],
                                      "compute.macs_per_cycle": 1024}
    assert not (tmp_path / "layers.png").exists()
    direct = accelscope.evaluate("tiny", "gemmini", overrides=r.options["overrides"])
    assert direct.cycles == r.cycles


@pytest.mark.parametrize("setting, needle", [
    ("compute.arry=[4, 4]", "compute.arry"),
    ("compute.array", "KEY=VALUE"),
    ("memory[42].size_bytes=1", r"memory[42]: out of range"),
    ("clock_hz=-1", "clock_hz"),
    ("compute.array=[64, 8]", "compute.macs_per_cycle"),
])
def test_a_bad_set_is_refused_before_any_work(capsys, tmp_path, setting, needle):
    code, out, err = run(capsys, "run", "tiny", "--arch", "gemmini", "--set", setting,
                         "--out", str(tmp_path))
    assert code == 2 and needle in err and "Traceback" not in err
    assert "--set" in err and not any(tmp_path.iterdir())


def test_quiet_silences_stderr_notes_but_not_data(capsys, tmp_path):
    code, out, err = run(capsys, "run", "tiny", "--arch", "ideal", "--quiet", "--out",
                         str(tmp_path))
    assert code == 0 and err == "" and "tiny on ideal" in out


def test_the_default_directory_of_another_run_needs_force(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "run", "tiny", "--arch", "ideal", "--no-plot")[0] == 0
    assert run(capsys, "run", "tiny", "--arch", "ideal", "--no-plot")[0] == 0  # same run
    code, out, err = run(capsys, "run", "tiny", "--arch", "ideal", "--prune", "0.5",
                         "--no-plot")
    assert code == 2 and "holds the output of another run" in err and "--force" in err
    code, out, err = run(capsys, "run", "tiny", "--arch", "ideal", "--prune", "0.5",
                         "--no-plot", "--force")
    assert code == 0, err
    r = NetworkResult.from_json((tmp_path / "out" / "tiny-ideal" / "results.json")
                                .read_text())
    assert r.options["prune"] == "0.5"


def test_version_and_python_dash_m():
    r = subprocess.run([sys.executable, "-m", "accelscope", "--version"], capture_output=True,
                       text=True, timeout=120, env={**os.environ, "COLUMNS": "20"})
    assert r.returncode == 0 and r.stdout.strip() == f"accelscope {accelscope.__version__}"


def test_piped_run_output_is_not_wrapped(tmp_path):
    """A pipe is not a terminal: long lines stay whole (rich would wrap at 80)."""
    r = subprocess.run([sys.executable, "-m", "accelscope", "run", "tiny", "--arch",
                        "spots", "--out", str(tmp_path / "o"), "--no-plot"],
                       capture_output=True, text=True, timeout=300,
                       env={k: v for k, v in os.environ.items() if k != "COLUMNS"})
    assert r.returncode == 0, r.stderr
    totals = next(line for line in r.stdout.splitlines() if line.startswith("tiny on spots:"))
    assert len(totals) > 120 and "utilization" in totals  # one line, not wrapped at 80
    assert str(tmp_path / "o") in r.stderr.replace("\n", "") and \
        f"wrote {tmp_path / 'o'}/" in r.stderr


@pytest.fixture(scope="module")
def tiny_net():
    return accelscope.prepare("tiny")


@pytest.mark.parametrize("preset", __import__("accelscope.arch").arch.preset_names())
def test_archs_show_writes_yaml_that_runs_like_the_preset(capsys, tmp_path, preset, tiny_net):
    """``archs show X > f.yaml`` then ``run tiny --arch f.yaml``: the same spec and totals."""
    from accelscope.arch import load_arch

    code, text, err = run(capsys, "archs", "show", preset)
    assert code == 0, err
    path = tmp_path / "f.yaml"
    path.write_text(text)
    assert load_arch(path).resolved() == load_arch(preset).resolved()
    code, out, err = run(capsys, "run", "tiny", "--arch", str(path), "--json", "--quiet",
                         "--no-plot", "--out", str(tmp_path / "o"))
    try:
        expected = accelscope.evaluate(tiny_net, preset)
    except accelscope.AccelscopeError as exc:  # e.g. a dataflow without element-wise adds
        assert code == 2 and str(exc).splitlines()[0][:60] in err
        return
    assert code == 0, err
    got = NetworkResult.from_json(out)
    if got.model == "host":  # measured on this machine: the spec is what must agree
        assert got.spec == expected.spec
        return
    assert (got.cycles, got.total_energy_pj, got.level_bits("dram")) == (
        expected.cycles, expected.total_energy_pj, expected.level_bits("dram"))


def test_validate_piped_shows_every_target_name_and_json_loads(capsys, tmp_path):
    code, out, err = run(capsys, "validate", "--only", "cgra", "--out", str(tmp_path))
    assert code == 0, err
    from accelscope import validate

    names = [t.name for t in validate.targets("cgra")]
    assert names and all(n in out for n in names)
    code, js, err = run(capsys, "validate", "--only", "cgra", "--json")
    doc = json.loads(js)
    assert [t["name"] for t in doc["targets"]] == names
    assert doc["summary"]["targets"] == len(names)
    on_disk = json.loads((tmp_path / "validate.json").read_text())
    assert [t["ours"] for t in on_disk["targets"]] == [t["ours"] for t in doc["targets"]]


def test_archs_json_lists_every_preset(capsys):
    from accelscope.arch import preset_names

    code, out, err = run(capsys, "archs", "--json")
    assert code == 0 and [r["name"] for r in json.loads(out)] == preset_names()
    code, out, err = run(capsys, "archs", "show", "spots", "--json", "--set",
                         "clock_hz=1e9")
    assert code == 0 and json.loads(out)["clock_hz"] == 1e9


@pytest.mark.parametrize("args, headers", [
    (["models"], ["name", "input (N,C,H,W)", "description", "source"]),
    (["archs"], ["name", "model", "array", "MACs/cycle", "clock", "node", "on-chip",
                 "DRAM bits/cycle", "description"]),
    (["lower", "densenet121", "--rows", "3"], ["#", "name", "kind", "MACs", "weights",
                                                "output"]),
    (["run", "tiny", "--arch", "spots", "--no-plot", "--out", "{d}"],
     ["#", "layer", "kind", "cycles", "ms", "util", "MACs", "useful", "energy uJ",
      "DRAM kB"]),
    (["validate", "--only", "workload.resnet"], ["target", "level", "published", "ours",
                                                 "unit", "error", "tol", "result"]),
    (["sweep-density", "tiny", "--arch", "scnn,dcnn", "--densities", "0.5,1", "--no-plot",
      "--out", "{d}"], ["density", "scnn speed-up", "dcnn speed-up", "scnn energy",
                        "dcnn energy"]),
    (["cgra", "--layer", "6x6x4x4", "--mapping", "wp,oc"],
     ["mapping", "exact", "launches", "CGRA cycles", "cycles", "MAC/cycle", "vs CPU"]),
    (["scalesim", "--config", "examples/scalesim/scale.cfg", "--topology",
      "examples/scalesim/resnet18_conv.csv", "--out", "{d}"], ["layer", "cycles incl. prefetch",
                                                      "DRAM ofmap wr"]),
])
def test_every_table_survives_a_pipe_with_all_columns(capsys, tmp_path, args, headers):
    """Off a terminal nothing is wrapped or dropped: every header is whole on one line."""
    import pathlib

    root = pathlib.Path(__file__).parents[2]
    args = [str(root / a) if a.startswith("examples/") else a.replace("{d}", str(tmp_path))
            for a in args]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    lines = out.splitlines()
    for h in headers:
        assert any(h in line for line in lines), (h, out[:2000])
    first = headers[0]
    header_line = next(line for line in lines if first in line.split() or first in line)
    assert all(h in header_line for h in headers[:3])
    assert "…" not in out  # no ellipsis: no cell was cut
