"""One conformance test over every registered model (issue 19): its spec class and a preset
exist, the kit passes on the all-ops net, results pickle and deep-copy, evaluation is
deterministic, and a spec of another model's class gets the located error. The toy model of
docs/models.md is registered with one line and passes the same kit."""

from __future__ import annotations

import copy
import importlib.util
import pickle
from pathlib import Path

import pytest

from accelscope.arch import ArchSpec, load_arch, preset_names, spec_class
from accelscope.arch import spec as arch_spec
from accelscope.models import registry
from accelscope.models.conformance import check_model
from accelscope.models.contract import ModelInfo, UnsupportedLayerError
from accelscope.models.registry import BUILTIN, get_model, model_names, register_model
from accelscope.pipeline import evaluate_workloads

TOY = Path(__file__).parents[2] / "examples" / "toy_model" / "toy.py"
MODELS = [m.name for m in BUILTIN]


def _preset(name: str):
    for p in preset_names():
        spec = load_arch(p)
        if spec.model == name:
            if name == "host":  # a measured model: one quick repeat
                spec = spec.model_copy(update={"host": spec.host.model_copy(
                    update={"repeats": 1, "warmup": 0, "device": "cpu"})})
            return spec
    raise AssertionError(f"no preset for model {name!r}")


def _some(workloads, model: str):
    # the CGRA and host models are slow per GConv; a few of every kind are enough there
    if model in ("cgra", "host"):
        seen, out = set(), []
        for w in workloads:
            if w.gconv.kind not in seen:
                seen.add(w.gconv.kind)
                out.append(w)
        return out
    return workloads


def test_every_builtin_model_is_registered():
    assert sorted(MODELS) == model_names()
    for name in MODELS:
        info = get_model(name)
        assert isinstance(info, ModelInfo) and info.description
        assert spec_class(name) is info.spec_class


@pytest.mark.parametrize("name", MODELS)
def test_model_conforms(name, allops_workloads):
    info = get_model(name)
    spec = _preset(name)
    assert isinstance(spec, info.spec_class)
    ws = _some(allops_workloads, name)
    assert check_model(name, spec, ws) == []
    first = evaluate_workloads(ws, spec, network="tiny-allops")
    again = pickle.loads(pickle.dumps(first))
    assert again == first and copy.deepcopy(first) == first
    assert again.to_json() == first.to_json()
    if not info.measured:
        assert evaluate_workloads(ws, spec, network="tiny-allops") == first
    if info.area is not None:
        area = info.area(spec)
        assert area and all(v >= 0 for v in area.values())


@pytest.mark.parametrize("name", [m for m in MODELS if m != "ideal"])
def test_a_spec_of_another_model_gets_the_located_error(name, allops_workloads):
    w = allops_workloads[0]
    with pytest.raises(UnsupportedLayerError) as exc:
        get_model(name).evaluate(w, load_arch("ideal"))
    assert exc.value.gconv.name == w.gconv.name and w.gconv.name in str(exc.value)
    assert pickle.loads(pickle.dumps(exc.value)).args == exc.value.args


def test_the_toy_model_is_one_folder_and_one_registration_line(allops_workloads):
    spec_ = importlib.util.spec_from_file_location("toy", TOY)
    toy = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(toy)
    register_model(toy.MODEL)
    try:
        spec = load_arch({**load_arch("ideal").model_dump(), "name": "toy-16", "model": "toy"})
        assert type(spec) is ArchSpec and spec.model == "toy"
        assert check_model("toy", spec, allops_workloads) == []
        r = evaluate_workloads(allops_workloads, spec, network="tiny-allops")
        assert r.cycles > 0 and r.total_energy_pj > 0 and r.level_bits("dram") > 0
        assert any(k.startswith("energy") for k in r.layers[0].provenance)
        with pytest.raises(ValueError, match="registered twice"):
            register_model(ModelInfo(name="toy", spec_class=ArchSpec, evaluate=toy.evaluate,
                                     description="another"))
    finally:  # leave the registry as the other tests expect it
        registry._REGISTRY.pop("toy", None)
        arch_spec._SPECS.pop("toy", None)
