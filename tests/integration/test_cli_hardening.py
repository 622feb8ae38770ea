"""The security part of the hardening issue, run in-process through ``cli.main`` (exit codes
included): names from input files never become paths, user text is never read as markup,
nested YAML aliases are refused, outputs land atomically, bad ``--out`` fails before work."""

import json
from pathlib import Path

import pytest

import accelscope
from accelscope import cli
from accelscope.arch.loader import MAX_NODES, ArchError, load_arch_text
from accelscope.report.writer import RESULT_FILES

PRESETS = Path(accelscope.__file__).parent / "arch" / "presets"
SCALESIM = Path(__file__).parents[2] / "examples" / "scalesim"


def run(capsys, *args):
    """(exit code, stdout, stderr) of ``accelscope ARGS`` run in this process."""
    with pytest.raises(SystemExit) as exc:
        cli.main(list(args))
    out, err = capsys.readouterr()
    return exc.value.code or 0, out, err


def spec_with(tmp_path, line: str, name="spec.yaml") -> Path:
    text = (PRESETS / "ideal.yaml").read_text()
    assert "name: ideal\n" in text
    p = tmp_path / name
    p.write_text(text.replace("name: ideal\n", line + "\n", 1))
    return p


def files_under(path: Path) -> set[Path]:
    return {p for p in path.rglob("*")}


@pytest.mark.parametrize("bad", ["x/../../../../escaped_arch", "{abs}/abs", "a\\b", ".", "..",
                                 "x" * 300, "my[/b]arch", "sp ace"])
def test_arch_name_is_an_identifier(tmp_path, monkeypatch, capsys, bad):
    monkeypatch.chdir(tmp_path)
    bad = bad.format(abs=tmp_path / "elsewhere")
    spec = spec_with(tmp_path, f"name: {json.dumps(bad)}")
    before = files_under(tmp_path.parent)
    code, out, err = run(capsys, "compare", "tiny", "--arch", f"ideal,{spec}", "--out", "o")
    assert code == 2, err
    assert err.startswith("error: ") and "spec.yaml:2: name:" in err and "not a valid name" in err
    assert files_under(tmp_path.parent) == before  # nothing written anywhere


def test_scalesim_run_name_is_an_identifier(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    cfg = (SCALESIM / "scale.cfg").read_text()
    evil = tmp_path / "evil.cfg"
    lines = [("run_name = x/../../../../escaped_run" if ln.startswith("run_name") else ln)
             for ln in cfg.splitlines()]
    evil.write_text("\n".join(lines) + "\n")
    code, _, err = run(capsys, "scalesim", "--config", str(evil), "--topology",
                       str(SCALESIM / "resnet18_conv.csv"))
    assert code == 2 and "[general] run_name" in err and "not a valid name" in err
    assert list(tmp_path.iterdir()) == [evil]


def test_markup_in_user_text_is_printed_verbatim(tmp_path, capsys):
    spec = tmp_path / "m.yaml"
    spec.write_text((PRESETS / "ideal.yaml").read_text().replace(
        "clock_hz: 1.0e9", 'clock_hz: "[/x]"'))
    code, _, err = run(capsys, "run", "tiny", "--arch", str(spec))
    assert code == 2 and "got '[/x]'" in err and "[Hz]" in err  # units in brackets survive


def test_billion_laughs_is_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    lines += ["name: lol", "model: ideal", "bomb: *a9"]
    with pytest.raises(ArchError, match=f"expands to more than {MAX_NODES:,} values"):
        load_arch_text("\n".join(lines), "lol.yaml")


@pytest.mark.parametrize("text,match", [
    ("name: x\x00y\n", r"U\+0000"),
    ("a:\n" + "".join("  " * i + "- \n" for i in range(1, 200)), "nested"),
])
def test_unreadable_yaml_is_located(text, match):
    with pytest.raises(ArchError, match=match):
        load_arch_text(text, "bad.yaml")


@pytest.mark.parametrize("field,value,match", [
    ("clock_hz", ".inf", "must be a finite number, got inf"),
    ("clock_hz", ".nan", "must be a finite number"),
    ("clock_hz", "true", "true and false are not numbers"),
    ("technology_nm", "false", "true and false are not numbers"),
])
def test_non_physical_numbers_refused(field, value, match):
    text = (PRESETS / "ideal.yaml").read_text()
    lines = [f"{field}: {value}" if ln.startswith(f"{field}:") else ln
             for ln in text.splitlines()]
    with pytest.raises(ArchError, match=match):
        load_arch_text("\n".join(lines), "ideal.yaml")


@pytest.mark.parametrize("where", ["file", "under_file", "foreign_dir"])
def test_bad_out_fails_before_work(tmp_path, capsys, where):
    f = tmp_path / "f"
    f.write_text("x")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "keep.txt").write_text("mine")
    out = {"file": f, "under_file": f / "x", "foreign_dir": tmp_path / "d"}[where]
    code, stdout, err = run(capsys, "run", "tiny", "--arch", "ideal", "--out", str(out))
    assert code == 2 and err.startswith("error: --out ")
    assert "lowering" not in stdout and "cycles" not in stdout
    assert (tmp_path / "d" / "keep.txt").read_text() == "mine" and f.read_text() == "x"


def test_lower_out_on_a_file_fails_before_lowering(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    code, stdout, err = run(capsys, "lower", "tiny", "--out", str(tmp_path / "f"))
    assert code == 2 and "--out" in err and "GConvs" not in stdout + err


def test_run_output_is_atomic_with_manifest(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "run", "tiny", "--arch", "ideal")
    assert code == 0
    m = json.loads((tmp_path / "out" / "tiny-ideal" / "manifest.json").read_text())
    assert m["complete"] and m["command"].startswith("accelscope run tiny --arch=ideal")
    assert [f["path"] for f in m["files"]] == list(RESULT_FILES)
    assert "wrote out/tiny-ideal/: " + ", ".join(RESULT_FILES) in " ".join((out + err).split())
    # an interrupted rerun leaves the complete previous output
    from accelscope.report import plots

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(plots, "plot_network", interrupted)
    monkeypatch.setattr("accelscope.report.plot_network", interrupted)
    code, _, _ = run(capsys, "run", "tiny", "--arch", "ideal", "--seed", "1")
    assert code != 0
    m2 = json.loads((tmp_path / "out" / "tiny-ideal" / "manifest.json").read_text())
    assert m2 == m
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["tiny-ideal"]


def test_internal_error_is_one_line_exit_3(monkeypatch, capsys):
    def boom(*a, **k):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("accelscope.arch.load_arch", boom)
    code, _, err = run(capsys, "archs", "show", "ideal")
    assert code == 3
    assert err.startswith("internal error: ZeroDivisionError: division by zero. This is a bug")
    assert "--debug" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    with pytest.raises(ZeroDivisionError):
        cli.main(["archs", "show", "ideal", "--debug"])


def test_python_m_accelscope_runs():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "accelscope", "archs", "show", "bad/../x"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("error: bad/../x: no such file")


def test_options_that_would_be_ignored_or_fail_late_are_refused_first(capsys):
    code, out, err = run(capsys, "run", "tiny", "--arch", "spots", "--host", "gpu")
    assert code == 2 and "--host and --host-threads apply to --strategy host-fallback" in err
    code, out, err = run(capsys, "run", "resnet18", "--arch", "spots", "--prune", "0.7x")
    assert code == 2 and "prune spec '0.7x'" in err and "cycles" not in out
