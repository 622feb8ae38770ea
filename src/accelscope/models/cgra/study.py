"""One convolution layer through the CGRA mappings and on the host CPU, side by side (the
CF '24 study): ``study_layer(shape, spec)``."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np

from accelscope.errors import AccelscopeError
from accelscope.models.cgra.cost import Priced, price_cpu, price_run
from accelscope.models.cgra.layout import CgraMemoryError, ConvShape
from accelscope.models.cgra.mappings import MAPPINGS, RUNNERS, MappingRun, reference_conv
from accelscope.models.cgra.sim import Cgra
from accelscope.models.cgra.spec import CgraSpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass
class MappingOutcome:
    mapping: str
    run: MappingRun | None
    priced: Priced | None
    exact: bool | None  # output equals the NumPy reference
    sim_seconds: float
    error: str | None = None  # e.g. the layer does not fit the banks
    banks: int = 0  # banks the run used (more than the spec's when grow_banks was needed)

    # ``run`` and ``priced`` are set together (both None when the mapping did not run)
    @property
    def macs_per_cycle(self) -> float:
        return (cast(MappingRun, self.run).shape.macs / self.priced.cycles
                if self.priced else 0.0)

    @property
    def macs_per_cgra_cycle(self) -> float:
        return (cast(MappingRun, self.run).shape.macs / self.priced.cgra_cycles
                if self.priced else 0.0)


@dataclass
class LayerStudy:
    shape: ConvShape
    outcomes: dict[str, MappingOutcome]
    cpu: Priced

    def ranking(self) -> list[str]:
        ok = [m for m, o in self.outcomes.items() if o.priced is not None]
        return sorted(ok, key=lambda m: cast(Priced, self.outcomes[m].priced).cycles)


def random_operands(shape: ConvShape, seed: int = 0, low: int = -128, high: int = 128
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Seeded int32 input (C, H, W) and weights (K, C, R, S) with 8-bit-range values."""
    rng = np.random.default_rng(seed)
    x = rng.integers(low, high, (shape.C, shape.H, shape.W)).astype(np.int32)
    w = rng.integers(low, high, (shape.K, shape.C, shape.R, shape.S)).astype(np.int32)
    return x, w


def resolve_mappings(text: str | Sequence[str]) -> list[str]:
    names = [t.strip() for t in text.split(",")] if isinstance(text, str) else list(text)
    if names == ["all"]:
        return [m for m in MAPPINGS if m in RUNNERS]
    bad = [n for n in names if n not in MAPPINGS]
    if bad:
        raise AccelscopeError(f"unknown CGRA mapping {', '.join(bad)}; use all or a comma list "
                              f"of {', '.join(MAPPINGS)}")
    missing = [n for n in names if n not in RUNNERS]
    if missing:
        raise AccelscopeError(f"CGRA mapping {', '.join(missing)} has no kernel yet")
    return names


def with_banks(spec: CgraSpec, n_banks: int) -> CgraSpec:
    """``spec`` with ``n_banks`` SRAM banks (the memory level resized to match)."""
    a = spec.cgra.array
    mem = tuple(m.model_copy(update={"size_bytes": m.size_bytes * n_banks // a.n_banks,
                                     "banks": n_banks}) for m in spec.memory)
    cg = spec.cgra.model_copy(update={"array": a.model_copy(update={"n_banks": n_banks})})
    return spec.model_copy(update={"cgra": cg, "memory": mem})


#: Simulated CGRA cycles per MAC, an upper estimate over the mappings (measured: wp 1.55,
#: oc 1.72, im2col-oc 1.70, im2col-ic 2.66 on 16x16x16x16 ... 32x32x16x16).
CYCLES_PER_MAC = 2.7

#: The simulated cycles a study may cover by default, all mappings together: about a minute
#: here (the simulator runs about 5 million cycles a second); more needs ``max_cycles``
#: (``accelscope cgra --max-cycles``). The paper's largest sweep layer is 7e7.
MAX_SIM_CYCLES = 300_000_000


def estimate_cycles(shape: ConvShape, mappings: str | Sequence[str] = "all") -> int:
    """Simulated CGRA cycles of ``study_layer`` (every mapping), estimated before any work."""
    return int(CYCLES_PER_MAC * shape.macs * len(resolve_mappings(mappings)))


def check_budget(shape: ConvShape, mappings: str | Sequence[str] = "all",
                 max_cycles: int | None = MAX_SIM_CYCLES) -> int:
    """``estimate_cycles``, or an ``AccelscopeError`` when it exceeds ``max_cycles``."""
    est = estimate_cycles(shape, mappings)
    if max_cycles is not None and est > max_cycles:
        n = len(resolve_mappings(mappings))
        raise AccelscopeError(
            f"--layer {shape}: {shape.macs:,} MACs, about {est:.3g} simulated CGRA cycles over "
            f"{n} mapping(s) (~{est / 5e6 / 60:,.0f} min at 5e6 cycles/s), beyond the limit "
            f"of {max_cycles:,}; give a smaller layer, or pass --max-cycles {est} "
            "(max_cycles= in Python) to run it anyway")
    return est


def study_layer(shape: ConvShape, spec: CgraSpec, mappings: str | Sequence[str] = "all",
                seed: int = 0, grow_banks: bool = False,
                max_cycles: int | None = MAX_SIM_CYCLES) -> LayerStudy:
    """Run ``shape`` on random data through each mapping (every launch simulated), check each
    output against the NumPy convolution, and price it; the CPU baseline beside them.

    A mapping whose tensors do not fit the banks is reported as such, or, with
    ``grow_banks``, run on a memory with as many more 32 KiB banks as it needs (the way the
    paper's sweep sized its platform), which the outcome records in ``banks``. A layer of
    more than ``max_cycles`` estimated cycles is refused before any work (None: no limit)."""
    if isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise AccelscopeError(f"--seed {seed}: a seed is an integer from 0 to 2**63 - 1")
    check_budget(shape, mappings, max_cycles)
    outcomes = {}
    x, w = random_operands(shape, seed)  # the runners copy them into the CGRA memory
    for m in resolve_mappings(mappings):
        use = spec
        t0 = time.perf_counter()
        try:
            run = RUNNERS[m](shape, x, w, Cgra(use.cgra.array.timing()))
        except CgraMemoryError as exc:
            if not grow_banks:
                outcomes[m] = MappingOutcome(m, None, None, None, time.perf_counter() - t0,
                                             str(exc))
                continue
            a = spec.cgra.array
            use = with_banks(spec, -(-exc.needed_bytes // a.bank_bytes))
            run = RUNNERS[m](shape, x, w, Cgra(use.cgra.array.timing()))
        dt = time.perf_counter() - t0
        exact = bool(np.array_equal(run.output, reference_conv(x, w)))
        outcomes[m] = MappingOutcome(m, run, price_run(run, use), exact, dt,
                                     banks=use.cgra.array.n_banks)
    return LayerStudy(shape, outcomes, price_cpu(shape, spec))


#: The layer sweeps of the CF '24 kernels (shared/references/gconv_dct_cgra.md Sec. 3.5):
#: input size at C = K = 16, input channels at 16x16 / K = 16, filters at 16x16 / C = 16.
SWEEPS: dict[str, list[ConvShape]] = {
    "input": [ConvShape(n, n, 16, 16) for n in (16, 32, 48, 64)],
    "channels": [ConvShape(16, 16, c, 16) for c in (16, 32, 48, 64, 80, 96, 128, 144)],
    "filters": [ConvShape(16, 16, 16, k) for k in (16, 32, 48, 64, 80, 96, 128)],
}


def sweep(spec: CgraSpec, mappings: str | Sequence[str] = "all", seed: int = 0,
          which: Sequence[str] = ("input", "channels", "filters"),
          progress: Callable[[str, ConvShape], object] | None = None
          ) -> dict[str, list[LayerStudy]]:
    """Every layer of the chosen sweeps through every mapping; a layer that does not fit the
    spec's banks runs on as many banks as it needs (``MappingOutcome.banks`` says how
    many)."""
    out: dict[str, list[LayerStudy]] = {}
    for name in which:
        if name not in SWEEPS:
            raise AccelscopeError(f"unknown CGRA sweep {name!r}; use {', '.join(SWEEPS)}")
        out[name] = []
        for shape in SWEEPS[name]:
            out[name].append(study_layer(shape, spec, mappings, seed, grow_banks=True))
            if progress is not None:
                progress(name, shape)
    return out


def study_rows(st: LayerStudy, sweep: str = "") -> list[dict[str, object]]:
    """One row per mapping (and one for the CPU) of a layer study: shape, cycles, MAC/cycle,
    energy [pJ], banks, exactness, error (``cgra.csv``)."""
    shape = {"sweep": sweep, "H": st.shape.H, "W": st.shape.W, "C": st.shape.C,
             "K": st.shape.K, "macs": st.shape.macs}
    rows: list[dict[str, object]] = []
    for m, o in st.outcomes.items():
        p = o.priced
        rows.append({**shape, "mapping": m, "exact": o.exact,
                     "cycles": p.cycles if p else None,
                     "cgra_cycles": p.cgra_cycles if p else None,
                     "macs_per_cycle": o.macs_per_cycle if p else None,
                     "energy_pj": p.total_energy_pj if p else None, "banks": o.banks,
                     "launches": o.run.launches if o.run else None, "error": o.error})
    rows.append({**shape, "mapping": "cpu", "exact": None, "cycles": st.cpu.cycles,
                 "cgra_cycles": None, "macs_per_cycle": st.shape.macs / st.cpu.cycles,
                 "energy_pj": st.cpu.total_energy_pj, "banks": None, "launches": None,
                 "error": None})
    return rows


def plot_sweep(results: dict[str, list[LayerStudy]],
               path: str | os.PathLike[str] | None = None) -> Figure:
    """MAC/cycle (host and CGRA together) against layer size, one panel per sweep, one line
    per mapping, and the CPU's; a Figure of its own (no pyplot), saved when ``path`` is
    given."""
    from matplotlib.figure import Figure as _Figure

    axis: dict[str, tuple[str, Callable[[ConvShape], int]]] = {
        "input": ("input height = width", lambda s: s.H),
        "channels": ("input channels C", lambda s: s.C),
        "filters": ("filters K", lambda s: s.K)}
    fig = _Figure(figsize=(5 * len(results), 4))
    axes = fig.subplots(1, len(results), squeeze=False)
    for ax, (name, studies) in zip(axes[0], results.items(), strict=True):
        label, key = axis[name]
        maps = list(studies[0].outcomes)
        for m in maps:
            pts = [(key(st.shape), st.outcomes[m].macs_per_cycle) for st in studies
                   if st.outcomes[m].priced is not None]
            if pts:
                ax.plot(*zip(*pts, strict=True), marker="o", label=m)
        ax.plot([key(st.shape) for st in studies],
                [st.shape.macs / st.cpu.cycles for st in studies], marker="x", ls="--",
                color="gray", label="cpu (naive)")
        ax.set_xlabel(label)
        ax.set_ylabel("MAC / cycle")
        ax.set_title(f"{name} sweep")
        ax.grid(alpha=0.3)
    axes[0][0].legend()
    fig.suptitle("OpenEdgeCGRA mappings (simulated) vs the host CPU")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
