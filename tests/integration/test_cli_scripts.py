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
    r = subprocess.run([sys.executable, "-m", "accelscope", "run", "resnet18", "--arch",
                        "spots", "--mode", "statistical", "--out", str(tmp_path / "o"),
                        "--no-plot"], capture_output=True, text=True, timeout=300,
                       env={k: v for k, v in os.environ.items() if k != "COLUMNS"})
    assert r.returncode == 0, r.stderr
    totals = next(line for line in r.stdout.splitlines() if line.startswith("resnet18 on "))
    assert "cycles" in totals and "utilization" in totals  # one line, not wrapped
    assert str(tmp_path / "o") in r.stderr.replace("\n", "") and \
        f"wrote {tmp_path / 'o'}/" in r.stderr
