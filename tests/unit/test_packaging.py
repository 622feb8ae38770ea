"""Packaging: the optional extras fail with an error naming the extra, the version lives in one
place, and the pinned constraints agree with the ranges pyproject.toml declares."""

from __future__ import annotations

import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import accelscope
from accelscope._extras import EXTRAS, needs_extra
from accelscope.errors import AccelscopeError

ROOT = Path(__file__).resolve().parents[2]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _onnx_relu(path: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 4, 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "relu", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


# -- a missing extra, simulated by a None entry in sys.modules (import raises ImportError) ----

def test_lower_onnx_verify_without_onnxruntime_names_the_onnx_extra(tmp_path, monkeypatch,
                                                                      capsys):
    from accelscope.cli import EXIT_BAD_INPUT, main

    model = _onnx_relu(tmp_path / "relu.onnx")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(SystemExit) as exc:
        main(["lower", str(model), "--verify"])
    assert exc.value.code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "the ONNX Runtime check" in err
    assert "needs the 'onnx' extra: pip install 'accelscope[onnx]'" in err
    assert "Traceback" not in err


def test_digits_data_without_scikit_learn_names_the_digits_extra(monkeypatch):
    from accelscope.workload.digits import digits_data

    # A module already imported by an earlier test is found in sys.modules without its
    # parent package being looked at, so every sklearn module is hidden, not just the top.
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(AccelscopeError,
                       match=r"needs the 'digits' extra: pip install 'accelscope\[digits\]' "
                             r"\(sklearn is not installed\)"):
        digits_data("test")


def test_an_unrelated_import_error_passes_through(monkeypatch):
    monkeypatch.setitem(sys.modules, "not_an_extra_module", None)
    with pytest.raises(ImportError) as exc, needs_extra("onnx", "something"):
        import not_an_extra_module  # noqa: F401
    assert not isinstance(exc.value, AccelscopeError)


def test_an_unknown_extra_is_a_bug_not_a_user_error():
    with pytest.raises(KeyError, match="unknown extra"), needs_extra("nope", "something"):
        pass


def test_the_extras_table_matches_pyproject():
    extras = _pyproject()["project"]["optional-dependencies"]
    assert set(extras) - {"dev"} == set(EXTRAS)
    # the tests need every extra: dev pulls them all
    dev = [Requirement(r) for r in extras["dev"]]
    assert any(r.name == "accelscope" and r.extras == set(EXTRAS) for r in dev)


# -- one version, ranges in pyproject, exact pins in constraints.txt --------------------------

def test_version_comes_from_the_installed_metadata():
    assert accelscope.__version__ == metadata.version("accelscope")
    assert accelscope.__version__ == _pyproject()["project"]["version"]


def _pins() -> dict[str, Requirement]:
    reqs = [Requirement(line.split("#")[0].strip())
            for line in (ROOT / "constraints.txt").read_text().splitlines()
            if line.split("#")[0].strip()]
    assert all(len(r.specifier) == 1 and next(iter(r.specifier)).operator == "=="
               for r in reqs), "constraints.txt holds exact pins only"
    return {r.name.lower(): r for r in reqs}


def test_constraints_pin_every_runtime_dependency_inside_its_declared_range():
    project = _pyproject()["project"]
    declared = [Requirement(r) for r in project["dependencies"]]
    declared += [Requirement(r) for name, reqs in project["optional-dependencies"].items()
                 if name != "dev" for r in reqs]
    pins = _pins()
    for req in declared:
        assert req.name.lower() in pins, f"{req.name} has no pin in constraints.txt"
        pinned = next(iter(pins[req.name.lower()].specifier)).version
        assert req.specifier.contains(pinned), f"{req.name}=={pinned} is outside {req}"
    # a library states ranges, so that installing it keeps the user's torch
    for name in ("torch", "torchvision"):
        spec = next(r for r in declared if r.name == name).specifier
        assert all(s.operator not in ("==", "===") for s in spec), f"{name} is pinned exactly"


def test_make_install_uses_the_constraints():
    assert "-c constraints.txt" in (ROOT / "Makefile").read_text()
