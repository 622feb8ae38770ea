"""The model registry, the conformance kit, and the ideal (roofline) and host models."""

from __future__ import annotations

import math

import pytest
import torch

import accelscope
from accelscope.arch import load_arch
from accelscope.models.conformance import check_model, check_result
from accelscope.models.contract import LayerWorkload, UnknownModelError, UnsupportedLayerError
from accelscope.models.registry import get_model, model_names
from accelscope.pipeline import build_workloads, evaluate_network
from accelscope.results import LayerResult


@pytest.fixture(scope="module")
def allops():
    zm = accelscope.zoo.get("tiny-allops")
    chain = accelscope.lower(zm)
    return chain, build_workloads(chain, zm.example_input())


def test_registry_lists_builtin_models_and_rejects_unknown():
    assert {"ideal", "host"} <= set(model_names())
    with pytest.raises(UnknownModelError, match=r"registered: .*ideal"):
        get_model("nonexistent")


def test_ideal_model_conforms(allops):
    _, workloads = allops
    assert check_model("ideal", load_arch("ideal"), workloads) == []


def test_host_model_conforms(allops):
    _, workloads = allops
    spec = load_arch("cpu")
    spec = spec.model_copy(update={"host": spec.host.model_copy(update={"repeats": 1,
                                                                        "warmup": 0})})
    assert check_model("host", spec, workloads[:6]) == []


def test_the_kit_catches_a_model_that_breaks_the_rules(allops):
    _, workloads = allops
    w = next(x for x in workloads if x.gconv.kind == "conv")
    spec = load_arch("ideal")
    good = get_model("ideal").evaluate(w, spec)
    cheat = LayerResult(**{**{f: getattr(good, f) for f in good.__dataclass_fields__},
                           "cycles": 1, "macs_useful": good.macs + 1,
                           "energy_pj": {"compute": -1.0}, "accesses": ()})
    problems = check_result(w, cheat, spec)
    text = "\n".join(problems)
    assert "useful MACs" in text and "cycles" in text and "energy component" in text
    assert "compulsory" in text


def test_the_input_floor_counts_only_rows_a_window_reads():
    """A 7x7 stride-2 window on 32 rows reaches rows 0..30 only (13 outputs): row and column
    31 need not be read (SqueezeNet's first convolution at 32x32 on scalesim-32x32)."""
    from accelscope.models.conformance import _compulsory_bits, _touched
    from accelscope.workload.gconv import GConv

    assert _touched(32, 13, 7, 1, 2, 0, 1).tolist() == [True] * 31 + [False]
    assert _touched(8, 4, 1, 1, 2, 0, 1).tolist() == [True, False] * 4      # 1x1 stride 2
    assert _touched(3, 5, 3, 1, 1, 1, 2).tolist() == [True] * 3              # transposed
    g = GConv(name="c", N=1, G=1, K=4, C=3, H=32, W=32, P=13, Q=13, R=7, S=7, input="x",
              output="y", operand="w", operand_kind="weight", stride=(2, 2))
    x = torch.ones(1, 3, 32, 32)
    w = LayerWorkload(gconv=g, network="t", input=x, operand=torch.ones(4, 3, 7, 7))
    spec = load_arch("scalesim-32x32")
    bits = int(spec.compute.operand_bits)
    assert _compulsory_bits(w, spec)[("input", "read")] == 3 * 31 * 31 * bits
    r = get_model("systolic").evaluate(w, spec)
    assert check_result(w, r, spec) == []


def test_ideal_is_a_roofline(allops):
    _, workloads = allops
    spec = load_arch("ideal")
    for w in workloads:
        r = get_model("ideal").evaluate(w, spec)
        bound = r.details["bound_cycles"]
        assert r.cycles == max(bound.values())
        assert bound["compute"] == math.ceil(w.gconv.macs / 1024)
        assert r.utilization <= 1.0


def test_ideal_counts_useful_macs_exactly():
    conv = torch.nn.Conv2d(4, 3, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(3, 4, 3, 3) * (torch.rand(3, 4, 3, 3) < 0.5))
    x = torch.randn(1, 4, 6, 6) * (torch.rand(1, 4, 6, 6) < 0.3)
    chain = accelscope.lower(conv, x)
    (w,) = build_workloads(chain, x)
    r = get_model("ideal").evaluate(w, load_arch("ideal"))
    # Brute force: count pairs of non-zero input and weight that meet in a window.
    xp = torch.nn.functional.pad(x, (1, 1, 1, 1))
    want = 0
    for k in range(3):
        for p in range(6):
            for q in range(6):
                win = xp[0, :, p:p + 3, q:q + 3]
                want += int(((win != 0) & (conv.weight[k] != 0)).sum())
    assert r.macs_useful == want
    assert r.macs_issued == r.macs == 3 * 4 * 9 * 36


def test_statistical_mode_uses_densities(allops):
    chain, _ = allops
    ws = build_workloads(chain, mode="statistical")
    assert all(w.input is None for w in ws)
    res = evaluate_network(chain, "ideal", mode="statistical")
    assert res.cycles > 0 and res.macs == chain.total_macs


def test_a_model_error_names_the_gconv(allops):
    _, workloads = allops
    spec = load_arch("ideal").model_copy(update={"energy_table": "eyeriss-normalized"})
    with pytest.raises(UnsupportedLayerError, match=r"'conv'.*normalized"):
        get_model("ideal").evaluate(workloads[0], spec)


def test_host_on_a_machine_without_cuda_says_so(allops):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    _, workloads = allops
    with pytest.raises(Exception, match="no CUDA device; use --arch cpu"):
        get_model("host").evaluate(workloads[0], load_arch("gpu"))


def test_workload_is_what_the_model_sees(allops):
    _, workloads = allops
    w = workloads[0]
    assert isinstance(w, LayerWorkload)
    assert w.input_is_network_input and w.operand is not None
    assert w.input.shape == (1, 3, 32, 32)
