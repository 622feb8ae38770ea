"""Measured baselines: each GConv run with PyTorch on this machine's CPU or GPU.

This model measures instead of modelling. Every GConv runs as the PyTorch operation the
executor uses for it (``run_gconv``: conv2d, pooling, element-wise ops with their fused
post-ops), ``warmup`` times and then ``repeats`` times; the layer time is the median. Cycles
are that time at the preset's clock, so ``seconds`` is the measurement. Energy comes from the
Linux RAPL package counters (CPU) or NVML's total-energy counter (GPU) when they can be read;
otherwise it is the preset's TDP times the measured time, marked as an estimate in warnings.
"""

from __future__ import annotations

import ctypes
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import torch

from accelscope.arch.spec import HostSpec
from accelscope.energy.area import no_area_provenance
from accelscope.errors import AccelscopeError
from accelscope.models.common import spec_provenance
from accelscope.models.contract import LayerWorkload, ModelInfo, UnsupportedLayerError
from accelscope.results import LayerResult
from accelscope.workload.execute import run_gconv

ENERGY_WINDOW_S = 0.1  # counters tick every ~1 ms (RAPL) to ~20 ms (NVML): measure >= 100 ms
RAPL_ROOT = Path("/sys/class/powercap")
_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class HostDeviceError(AccelscopeError):
    """The host model was asked for a device this machine does not have."""


# -- energy counters ------------------------------------------------------------------------
def _rapl_packages() -> list[Path]:
    """Top-level RAPL package domains whose counter this process can read."""
    out = []
    for d in sorted(RAPL_ROOT.glob("intel-rapl:*")):
        if d.name.count(":") != 1:
            continue  # sub-domains (core, uncore, dram) are inside the package counter
        try:
            int((d / "energy_uj").read_text())
            out.append(d)
        except (OSError, ValueError):
            continue
    return out


class _Rapl:
    def __init__(self, domains: list[Path]):
        self.domains = domains
        self.ranges = [int((d / "max_energy_range_uj").read_text()) for d in domains]

    def read(self) -> list[int]:
        return [int((d / "energy_uj").read_text()) for d in self.domains]

    def joules(self, before: list[int], after: list[int]) -> float:
        total = 0
        for b, a, r in zip(before, after, self.ranges, strict=True):
            total += a - b if a >= b else a + r - b  # the counter wraps at max_energy_range
        return total * 1e-6


class _Nvml:
    """The one NVML call needed (total energy since driver load, mJ), through ctypes."""

    def __init__(self, index: int):
        lib = ctypes.CDLL("libnvidia-ml.so.1")
        if lib.nvmlInit_v2() != 0:
            raise OSError("nvmlInit failed")
        self.handle = ctypes.c_void_p()
        if lib.nvmlDeviceGetHandleByIndex_v2(index, ctypes.byref(self.handle)) != 0:
            raise OSError("no NVML handle for the device")
        self.lib = lib
        self.read()  # raises when the GPU has no energy counter (pre-Volta)

    def read(self) -> int:
        mj = ctypes.c_ulonglong()
        if self.lib.nvmlDeviceGetTotalEnergyConsumption(self.handle, ctypes.byref(mj)) != 0:
            raise OSError("nvmlDeviceGetTotalEnergyConsumption failed")
        return int(mj.value)


def energy_counter(device: str
                   ) -> tuple[str, Callable[[], object], Callable[[Any, Any], float]] | None:
    """(name, read, joules(before, after)) for the device's energy counter, or None."""
    if device == "cpu":
        domains = _rapl_packages()
        if not domains:
            return None
        rapl = _Rapl(domains)
        return f"RAPL {', '.join(d.name for d in domains)}", rapl.read, rapl.joules
    try:
        nvml = _Nvml(torch.cuda.current_device())
    except (OSError, AttributeError):
        return None
    return "NVML total energy counter", nvml.read, lambda b, a: (a - b) * 1e-3


# -- timing -------------------------------------------------------------------------------
@contextmanager
def _threads(n: int | None) -> Iterator[int]:
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def _operands(layer: LayerWorkload, device: torch.device, dtype: torch.dtype,
              ) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The GConv's input, parameters and second operand on the device (real data when the
    workload carries it, else seeded random tensors at the workload's densities)."""
    g = layer.gconv
    gen = torch.Generator().manual_seed(layer.index)

    def rand(shape: tuple[int, ...], density: float) -> torch.Tensor:
        t = torch.randn(shape, generator=gen)
        if density < 1.0:
            t = t * (torch.rand(shape, generator=gen) < density)
        return t

    x = layer.input if layer.input is not None else rand(
        (g.N, g.G * g.C, g.H, g.W), layer.input_density)
    params = {k: v.to(device=device, dtype=dtype) for k, v in layer.params.items()}
    env: dict[str, torch.Tensor] = {}
    if g.operand_kind == "tensor":
        op = layer.operand
        if op is None:
            op = rand((g.N, g.G * g.K, g.P, g.Q) if layer.operand_elems == g.output_elems
                      else (g.N, g.G * g.K, 1, 1), layer.operand_density)
        env[cast(str, g.operand)] = op.to(device=device, dtype=dtype)
    return x.to(device=device, dtype=dtype), params, env


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def evaluate(layer: LayerWorkload, spec: HostSpec) -> LayerResult:
    g = layer.gconv
    if not isinstance(spec, HostSpec):
        raise UnsupportedLayerError("host", g, "the spec is not a host spec (model: host)")
    hp = spec.host
    if hp.device == "cuda" and not torch.cuda.is_available():
        raise HostDeviceError(f"arch {spec.name!r} runs on CUDA but this machine has no CUDA "
                              "device; use --arch cpu")
    device = torch.device(hp.device)
    dtype = _DTYPES[hp.dtype]
    x, params, env = _operands(layer, device, dtype)
    warnings: list[str] = []
    with torch.no_grad(), _threads(hp.threads if hp.device == "cpu" else None) as threads:
        try:
            for _ in range(hp.warmup):
                run_gconv(g, x, params, env)
            _sync(device)
        except RuntimeError as exc:
            raise UnsupportedLayerError("host", g, f"PyTorch cannot run it on {device} in "
                                        f"{hp.dtype}: {exc}") from None
        times = []
        for _ in range(hp.repeats):
            _sync(device)
            t0 = time.perf_counter()
            run_gconv(g, x, params, env)
            _sync(device)
            times.append(time.perf_counter() - t0)
        seconds = statistics.median(times)
        counter = energy_counter(hp.device)
        if counter is not None:
            name, read, joules = counter
            runs, t0 = 0, time.perf_counter()
            before = read()
            while runs < hp.repeats or time.perf_counter() - t0 < ENERGY_WINDOW_S:
                run_gconv(g, x, params, env)
                runs += 1
            _sync(device)
            energy = {"measured_" + hp.device: joules(before, read()) / runs * 1e12}
            energy_src = f"{name}, {runs} runs over >= {ENERGY_WINDOW_S} s (whole package, "\
                         "idle power included)"
        else:
            energy = {"tdp_estimate": hp.tdp_w * seconds * 1e12}
            energy_src = f"TDP {hp.tdp_w} W x measured time (assumption from the preset)"
            warnings.append(f"energy is an estimate (TDP {hp.tdp_w} W x time): no "
                            f"{'RAPL' if hp.device == 'cpu' else 'NVML'} energy counter "
                            "readable on this machine")
    peak = int(spec.compute.macs_per_cycle)
    prov = {**spec_provenance(spec), "timing": f"median of {hp.repeats} runs after "
            f"{hp.warmup} warm-up runs, torch {torch.__version__}, {threads} threads"
            if hp.device == "cpu" else f"median of {hp.repeats} runs after {hp.warmup} "
            f"warm-up runs, torch {torch.__version__}, {torch.cuda.get_device_name(device)}",
            "energy": energy_src, "constant.ENERGY_WINDOW_S": str(ENERGY_WINDOW_S),
            **no_area_provenance(NO_AREA)}
    if layer.input is None:
        warnings.append("statistical mode: timed on seeded random tensors at the densities")
    return LayerResult(
        layer=g.name, kind=g.kind, model="host", arch=spec.name, clock_hz=float(spec.clock_hz),
        peak_macs_per_cycle=peak, cycles=max(1, round(seconds * spec.clock_hz)), macs=g.macs,
        macs_issued=g.macs, macs_useful=g.macs, energy_pj=energy,
        details={"seconds_median": seconds, "seconds_min": min(times),
                 "seconds_max": max(times), "repeats": hp.repeats, "threads": threads,
                 "device": str(device), "dtype": hp.dtype},
        provenance=prov, warnings=tuple(warnings))


NO_AREA = ("a measured machine (this computer's CPU or GPU): its silicon is not modelled, "
           "and the preset's compute and memory sections are a roofline reference of a slice "
           "of a server chip, not a design to size")

MODEL = ModelInfo(
    name="host", spec_class=HostSpec, evaluate=evaluate,
    description="measured: PyTorch on this machine's CPU or GPU, median "
                "of repeats after warm-up; energy from RAPL / NVML or TDP x time",
                uses_data=False, measured=True, counts_accesses=False, no_area=NO_AREA,
)
