"""OpenEdgeCGRA (Carpentieri et al., CF '24) targets on the paper's base layer: 16x16 input,
C = K = 16, 3x3, stride 1, on the ``openedgecgra`` preset with seeded random int32 data.

The paper's body is not available (shared/references/gconv_dct_cgra.md Sec. 3): the ranking
"weight parallelism is best" is from its abstract and must hold; 0.665 MAC/cycle comes from a
secondary summary and the CPU ratios from the abstract (averages over its layers, with a CPU
set-up we do not know), so they are informative. The launch counts follow from the mappings'
host loops in the authors' public code and must hold exactly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from accelscope.validate import Target, register

if TYPE_CHECKING:
    from accelscope.models.cgra.cost import Priced
    from accelscope.models.cgra.mappings import MappingRun
    from accelscope.models.cgra.spec import CgraSpec
    from accelscope.models.cgra.study import LayerStudy, MappingOutcome

CF24 = ("N. Carpentieri et al., 'Performance evaluation of acceleration of convolutional "
        "layers on OpenEdgeCGRA', CF '24 (arXiv 2403.01236), abstract")
SUMMARY = "sciencestack.ai summary of arXiv 2403.01236 (secondary source, [S])"
CODE = ("NicCarp11/HEEPsilon@convolution-for-CGRA, sw/applications/{wp,oc,im2c-ic,im2c-oc}"
        "_test/main.c host loops (shared/references/gconv_dct_cgra.md Sec. 3.4)")
BASE = "16x16x16x16"


@functools.cache
def _study() -> LayerStudy:
    from accelscope.arch import load_arch
    from accelscope.models.cgra.layout import ConvShape
    from accelscope.models.cgra.study import study_layer

    return study_layer(ConvShape.parse(BASE), cast("CgraSpec", load_arch("openedgecgra")), "all")


def _rank(metric: str) -> float:
    st = _study()
    if not all(o.exact for o in st.outcomes.values()):
        bad = [m for m, o in st.outcomes.items() if not o.exact]
        raise RuntimeError(f"mapping output differs from the NumPy convolution: {bad}")
    key: Callable[[MappingOutcome], float] = {"latency": lambda o: o.priced.cycles,
           "energy": lambda o: o.priced.total_energy_pj}[metric]
    order = sorted(st.outcomes, key=lambda m: key(st.outcomes[m]))
    return float(order.index("wp") + 1)


def _wp() -> MappingOutcome:
    return _study().outcomes["wp"]


register(Target(
    name="cgra.wp_rank_latency", published=1.0, unit="rank", source=CF24, tolerance=0.0,
    level="must_hold", compute=lambda: _rank("latency"),
    note="rank of the weight-parallel mapping among the four by layer latency (1 = "
         "fastest) on the base layer"))
register(Target(
    name="cgra.wp_rank_energy", published=1.0, unit="rank", source=CF24, tolerance=0.0,
    level="must_hold", compute=lambda: _rank("energy"),
    note="rank of the weight-parallel mapping among the four by layer energy (1 = least)"))
register(Target(
    name="cgra.wp.macs_per_cycle", published=0.665, unit="MAC/cycle", source=SUMMARY,
    tolerance=0.20, level="informative", compute=lambda: _wp().macs_per_cycle,
    note="host and CGRA time together (launch overhead, parameter writes, output clear); "
         "the layer the figure refers to is not known"))
register(Target(
    name="cgra.wp.speedup_vs_cpu", published=9.9, unit="x", source=CF24, tolerance=0.25,
    level="informative",
    compute=lambda: _study().cpu.cycles / cast("Priced", _wp().priced).cycles,
    note="our CPU is a cycle model of the naive 7-deep loop on a cv32e20-like core "
         "(docs/cgra.md), not the paper's measured CPU; published is an average over layers"))
register(Target(
    name="cgra.wp.energy_eff_vs_cpu", published=3.4, unit="x", source=CF24, tolerance=0.25,
    level="informative",
    compute=lambda: _study().cpu.total_energy_pj / cast("Priced", _wp().priced).total_energy_pj,
    note="cells priced with the 2025 ESL-CGRA characterisation (post-dates the paper), SRAM "
         "from the 65 nm SRAM model, host from X-HEEP FEMU power; the paper's energy "
         "method is not known"))
for _m, _n in (("wp", 256), ("oc", 196), ("im2col-ic", 3136), ("im2col-oc", 196)):
    register(Target(
        name=f"cgra.{_m}.launches", published=float(_n), unit="launches", source=CODE,
        tolerance=0.0, level="must_hold",
        compute=functools.partial(
            lambda m: float(cast("MappingRun", _study().outcomes[m].run).launches), _m),
        note="C*K (wp), Ho*Wo (oc, im2col-oc), K*Ho*Wo (im2col-ic) on the base layer"))
