"""Area: the published area figures next to the area models' (``energy.area``,
``docs/area.md``).

* Eyeriss (65 nm): the chip's core area and the shares the JSSC paper gives (storage, spads
  against GLB, multipliers and adders), against the ``eyeriss`` preset's area from the
  generic constants;
* the same constants against CACTI / Aladdin estimates of Eyeriss's parts at 45 nm
  (Accelergy's area reference table of the Sparseloop Eyeriss set-up): a check of the
  storage and MAC constants by an independent tool;
* SCNN (16 nm): the generic constants scaled to 16 nm against the PE parts of SCNN's
  Table 4, a check of the node-scaling rule (SCNN's own area targets, which use Table 4
  itself, are in ``scnn_targets``).

No published area exists in the available sources for SPOTS (its Table 1), the DCT codec
(the abstract says only "light hardware area overhead") or OpenEdgeCGRA: no target is made
up for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from accelscope.validate import Target, register

if TYPE_CHECKING:
    from accelscope.energy.area import AreaReport

JSSC_AREA = ("Chen, Krishna, Emer, Sze, 'Eyeriss: An Energy-Efficient Reconfigurable "
             "Accelerator for Deep CNNs', IEEE JSSC 52(1) 2017: die 4.0 x 4.0 mm, core "
             "3.5 x 3.5 mm (the references file marks the core size [M], recalled), on-chip "
             "storage about two-thirds of the core area, spads 2.5x the GLB area, "
             "multipliers and adders 7.4 % (shared/references/spots_scnn_eyeriss.md Sec. 3.1)")
ACCELERGY_ART = ("Accelergy area reference table of the Sparseloop Eyeriss set-up, 45 nm "
                 "(Accelergy-Project/micro22-sparseloop-artifact, table7_eyeriss_setup/ert_art/"
                 "ART_summary.yaml: shared_glb 12800 x 64 b, CACTI, 641,718.8 um2; "
                 "weights_spad 224 x 16 b, CACTI, 3,474.22 um2; MACs 16 b, Aladdin table, "
                 "1,239.5 um2)")
SCNN_T4 = ("Parashar et al., ISCA 2017, Table 4 (shared/references/spots_scnn_eyeriss.md "
           "Sec. 2.2): per PE IARAM+OARAM 0.031, weight FIFO 0.004, accumulators 0.036, "
           "multipliers 0.008 mm2 (the per-memory split is [M], recalled)")

_CORE_MM2 = 3.5 * 3.5


def _eyeriss() -> AreaReport:
    from accelscope.arch import load_arch
    from accelscope.models.registry import get_model

    spec = load_arch("eyeriss")
    fn = get_model(spec.model).area
    assert fn is not None
    return fn(spec)


def _storage(r: AreaReport) -> float:
    return sum(v for k, v in r.components.items() if "spad" in k or k.startswith("glb"))


def _spads(r: AreaReport) -> float:
    return sum(v for k, v in r.components.items() if "spad" in k)


def _glb(r: AreaReport) -> float:
    return sum(v for k, v in r.components.items() if k.startswith("glb"))


_NOT_MODELLED = ("the estimate leaves out the NoC (GIN/GON buses, 180 multicast controllers, "
                 "psum links), the RLC codec, control, the scan chain and the clock tree")
register(Target(
    name="eyeriss.area.core_mm2", published=_CORE_MM2, unit="mm2", source=JSSC_AREA,
    tolerance=0.25, level="informative", compute=lambda: _eyeriss().total_mm2,
    note=f"the eyeriss preset from the generic constants (65 nm storage of the ISCA 2016 "
         f"framework, Horowitz's 45 nm MAC scaled, the framework's 20,000 um2 PE logic); "
         f"{_NOT_MODELLED}; the storage alone is half the chip's (eyeriss.area.storage_mm2)"))
register(Target(
    name="eyeriss.area.storage_mm2", published=_CORE_MM2 * 2 / 3, unit="mm2",
    source=f"{JSSC_AREA}; 2/3 x 12.25 mm2 [D]", tolerance=0.25, level="informative",
    compute=lambda: _storage(_eyeriss()),
    note="spads (one instance per spad and PE) + GLB banks at the framework's 65 nm area per "
         "byte: about half of the chip's; the same factor as SCNN's memories at 16 nm "
         "(scnn.area.generic_pe_parts_mm2): the constants describe storage macros without "
         "the layout's overheads; no utilisation factor is applied, it would be fitted to "
         "these targets"))
register(Target(
    name="eyeriss.area.storage_fraction", published=2 / 3, unit="fraction",
    source=JSSC_AREA, tolerance=0.10, level="informative",
    compute=lambda: _storage(_eyeriss()) / _eyeriss().total_mm2,
    note=f"storage / our total; {_NOT_MODELLED} (they would lower the fraction further), "
         "and the storage constants are about half the silicon's"))
register(Target(
    name="eyeriss.area.spad_over_glb", published=2.5, unit="x", source=JSSC_AREA,
    tolerance=0.10, level="informative",
    compute=lambda: _spads(_eyeriss()) / _glb(_eyeriss()),
    note="a ratio of two storage estimates, free of the unmodelled logic: 168 x (24 B ifmap "
         "registers, 448 B filter SRAM, 48 B psum registers) against 27 x 4 KB GLB banks; the "
         "framework's per-byte curve makes small spads 1.7-11x dearer per byte than 4 KB "
         "banks, the chip about 3.75x (2.5 x 1.5 less capacity)"))
register(Target(
    name="eyeriss.area.mac_fraction", published=0.074, unit="fraction", source=JSSC_AREA,
    tolerance=0.10, level="informative",
    compute=lambda: _eyeriss()["pe_array.mac"] / _eyeriss().total_mm2,
    note="168 x (16-bit multiplier + 16-bit adder) from Horowitz's 45 nm areas (16 bits "
         "interpolated) scaled to 65 nm: 2,218 um2 per PE; the chip's two-stage pipelined "
         "multiplier with bit selection is larger (7.4 % of 12.25 mm2 = 5,400 um2 per PE)"))


# -- the same constants against CACTI / Aladdin at 45 nm -----------------------------------------
def _at45(what: str) -> float:
    from accelscope.energy.area import AreaModel

    am = AreaModel(45)
    if what == "glb":
        return am.storage_um2(12800 * 8)
    if what == "spad":
        return am.storage_um2(224 * 2)
    return am.mac_um2(16, 16)


register(Target(
    name="eyeriss.area.cacti45.glb_um2", published=641718.8, unit="um2", source=ACCELERGY_ART,
    tolerance=0.10, level="must_hold", compute=lambda: _at45("glb"),
    note="one 100 KB bank: the ISCA 2016 framework's 4 KB-and-above 12.70 um2/B at 65 nm x "
         "(45/65)^2 against CACTI (plus Accelergy's address generators): two independent "
         "estimates of one SRAM; tolerance 10 %, a CACTI-class model's accuracy"))
register(Target(
    name="eyeriss.area.cacti45.weight_spad_um2", published=3474.22, unit="um2",
    source=ACCELERGY_ART, tolerance=0.25, level="informative", compute=lambda: _at45("spad"),
    note="448 B: the framework's per-byte curve (interpolated between 256 B and 512 B) is "
         "above CACTI's small-array estimate"))
register(Target(
    name="eyeriss.area.cacti45.mac_um2", published=1239.5, unit="um2", source=ACCELERGY_ART,
    tolerance=0.25, level="informative", compute=lambda: _at45("mac"),
    note="Horowitz's 8- and 32-bit multipliers interpolated to 16 bits (993 um2) + a 16-bit "
         "adder (70 um2) against Aladdin's 16-bit MAC table"))


# -- SCNN: the generic constants at 16 nm against its Table 4 --------------------------------------
def _scnn_generic() -> float:
    from accelscope.arch import load_arch
    from accelscope.energy.area import AreaModel
    from accelscope.models.scnn.spec import ScnnSpec

    spec = cast(ScnnSpec, load_arch("scnn"))
    p = spec.scnn
    am = AreaModel(spec.technology_nm)
    halves = 2 if p.accumulator_double_buffered else 1
    bank = p.accumulator_bank_entries * spec.compute.accumulator_bits / 8
    um2 = (p.weight_vector * p.activation_vector
           * am.multiplier_um2(int(spec.compute.operand_bits))
           + am.storage_um2(spec.per_pe_bytes("iaram")) + am.storage_um2(spec.per_pe_bytes("oaram"))
           + am.storage_um2(spec.per_pe_bytes("weight_fifo"))
           + halves * p.accumulator_banks * am.storage_um2(bank))
    return um2 / 1e6


register(Target(
    name="scnn.area.generic_pe_parts_mm2", published=0.031 + 0.004 + 0.036 + 0.008,
    unit="mm2", source=f"{SCNN_T4}; sum [D]", tolerance=0.25, level="informative",
    compute=_scnn_generic,
    note="one PE's IARAM + OARAM (10 KB each), weight FIFO (500 B), 64 accumulator banks of "
         "96 B and 16 multipliers from the generic constants (65 nm storage, 45 nm logic) "
         "scaled to 16 nm by (node)^2: storage about half of Table 4's, as for Eyeriss at its "
         "own node, so the gap is the constants', not only the scaling rule's; multipliers "
         "a quarter (SCNN's multiplier array includes its operand and product registers)"))
