"""Read SCALE-Sim's own config and topology files, write SCALE-Sim's three reports.

``accelscope scalesim --config FILE.cfg --topology FILE.csv [--gemm] [--out DIR]`` lets a
SCALE-Sim user switch with the files they already have. The compute columns come from the
closed-form engine (``models/systolic/core.py``) and the memory columns from the vectorised
re-implementation of SCALE-Sim's double-buffered scratchpads
(``models/systolic/memory.py``); both are compared with SCALE-Sim on every reference case
(``docs/systolic.md``).

Friendlier than SCALE-Sim on input, identical on output: a v2-era config without the
``[layout]`` and ``[sparsity]`` sections is accepted (their defaults are reported), a
topology row may omit the trailing comma (SCALE-Sim silently drops the last field, usually
the stride), a missing layout file is not needed, and every error names the file, the line
and the fix.
"""

from __future__ import annotations

import configparser
import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, overload

from accelscope.errors import InputFileError
from accelscope.models.systolic.core import Gemm, SystolicTiming, systolic_timing
from accelscope.output import check_name

if TYPE_CHECKING:
    from accelscope.models.systolic.memory import ScaleSimMemoryReport


class ScaleSimInputError(InputFileError):
    """A SCALE-Sim config or topology file that cannot be used."""


@dataclass(frozen=True)
class ScaleSimConfig:
    run_name: str
    array_rows: int
    array_cols: int
    ifmap_sram_kb: int
    filter_sram_kb: int
    ofmap_sram_kb: int
    dataflow: str
    bandwidth_mode: str  # "calc" or "user"
    bandwidth_words: int
    ifmap_bank_bandwidth_words: int
    filter_bank_bandwidth_words: int
    read_request_buffer: int
    write_request_buffer: int
    defaults_used: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScaleSimLayer:
    name: str
    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    num_filter: int
    stride: int
    line: int = 0

    @property
    def ofmap_h(self) -> int:  # SCALE-Sim's output size (no padding)
        return math.ceil((self.ifmap_h - self.filter_h + self.stride) / self.stride)

    @property
    def ofmap_w(self) -> int:
        return math.ceil((self.ifmap_w - self.filter_w + self.stride) / self.stride)

    def gemm(self) -> Gemm:
        return Gemm(self.ofmap_h * self.ofmap_w,
                    self.filter_h * self.filter_w * self.channels, self.num_filter)


_LAYOUT_DEFAULTS = {"IfmapSRAMBankBandwidth": 10, "FilterSRAMBankBandwidth": 10}

#: Upper bounds of the config's numbers: an array side of 16,384 PEs (a TPU has 128 or 256),
#: 1 GiB per SRAM, 2**20 words per cycle and request-buffer entries.
_MAX_CONFIG = {"ArrayHeight": 16_384, "ArrayWidth": 16_384, "IfmapSramSzkB": 2**20,
               "FilterSramSzkB": 2**20, "OfmapSramSzkB": 2**20}
_MAX_CONFIG_DEFAULT = 2**20

#: A topology row's sizes are at most 10,000,000, and the topology (``DP`` rows expanded
#: into one layer per channel, as SCALE-Sim does) at most 100,000 layers.
MAX_TOPOLOGY_SIZE = 10_000_000
MAX_TOPOLOGY_LAYERS = 100_000

#: The compute cycles a simulation may cover by default (distinct layer geometries summed;
#: about 2 to 15 minutes of this machine's time, depending on the dataflow); more needs
#: ``max_cycles`` (``accelscope scalesim --max-cycles``).
MAX_SIM_CYCLES = 2_000_000_000


def read_config(path: str | Path) -> ScaleSimConfig:
    """Parse a SCALE-Sim ``.cfg`` (INI) file."""
    path = Path(path)
    if not path.is_file():
        raise ScaleSimInputError(f"{path}: no such SCALE-Sim config file")
    cp = configparser.ConfigParser(interpolation=None)  # a % in a value is text, not a reference
    try:
        cp.read_string(path.read_text(), source=str(path))
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise ScaleSimInputError(f"{path}: not a SCALE-Sim config (INI) file: "
                                 f"{str(exc).splitlines()[0]}") from None
    defaults: list[str] = []

    @overload
    def get(section: str, key: str) -> str: ...

    @overload
    def get(section: str, key: str, kind: type[int], default: int | None = None) -> int: ...

    def get(section: str, key: str, kind: type[str] | type[int] = str,
            default: str | int | None = None) -> str | int:
        if not cp.has_section(section):
            if default is not None:
                defaults.append(f"[{section}] {key} = {default}")
                return default
            raise ScaleSimInputError(f"{path}: section [{section}] is missing; SCALE-Sim "
                                     f"configs need [general], [architecture_presets] and "
                                     "[run_presets]")
        if not cp.has_option(section, key):
            if default is not None:
                defaults.append(f"[{section}] {key} = {default}")
                return default
            raise ScaleSimInputError(f"{path}: [{section}] has no {key}")
        raw = cp.get(section, key).strip()
        if kind is int:
            try:
                v = int(raw)
            except ValueError:
                raise ScaleSimInputError(f"{path}: [{section}] {key} = {raw!r} is not an "
                                         "integer") from None
            # every number read is a size, a bandwidth or a buffer depth: 0 is meaningless
            # (SCALE-Sim itself divides by it) and the bounds keep the work finite
            if v < 1:
                raise ScaleSimInputError(f"{path}: [{section}] {key} = {v} must be positive")
            top = _MAX_CONFIG.get(key, _MAX_CONFIG_DEFAULT)
            if v > top:
                raise ScaleSimInputError(f"{path}: [{section}] {key} = {v:,} is beyond any "
                                         f"real array; it must be at most {top:,}")
            return v
        return raw

    arch = "architecture_presets"
    df = get(arch, "Dataflow").lower()
    if df not in ("os", "ws", "is"):
        raise ScaleSimInputError(f"{path}: [{arch}] Dataflow = {df!r}; use os, ws or is")
    mode = get("run_presets", "InterfaceBandwidth").upper()
    if mode not in ("CALC", "USER"):
        raise ScaleSimInputError(f"{path}: [run_presets] InterfaceBandwidth = {mode!r}; use "
                                 "CALC or USER")
    if cp.has_section("sparsity") and cp.get("sparsity", "SparsitySupport",
                                             fallback="false").strip().lower() == "true":
        raise ScaleSimInputError(f"{path}: [sparsity] SparsitySupport = true is not supported "
                                 "by accelscope's SCALE-Sim interop; set it to false (use the "
                                 "sparse models, e.g. --arch spots, for sparsity)")
    bw = get(arch, "Bandwidth", int, 10 if mode == "CALC" else None)
    lay = "layout"
    return ScaleSimConfig(
        run_name=check_name(get("general", "run_name"), f"{path}: [general] run_name"),
        array_rows=get(arch, "ArrayHeight", int),
        array_cols=get(arch, "ArrayWidth", int), ifmap_sram_kb=get(arch, "IfmapSramSzkB", int),
        filter_sram_kb=get(arch, "FilterSramSzkB", int),
        ofmap_sram_kb=get(arch, "OfmapSramSzkB", int), dataflow=df,
        bandwidth_mode=mode.lower(), bandwidth_words=bw,
        ifmap_bank_bandwidth_words=get(lay, "IfmapSRAMBankBandwidth", int,
                                       _LAYOUT_DEFAULTS["IfmapSRAMBankBandwidth"]),
        filter_bank_bandwidth_words=get(lay, "FilterSRAMBankBandwidth", int,
                                        _LAYOUT_DEFAULTS["FilterSRAMBankBandwidth"]),
        read_request_buffer=get(arch, "ReadRequestBuffer", int, 512),
        write_request_buffer=get(arch, "WriteRequestBuffer", int, 512),
        defaults_used=tuple(defaults))


def read_topology(path: str | Path, gemm: bool = False) -> list[ScaleSimLayer]:
    """Parse a SCALE-Sim topology CSV: conv rows ``name, IFMAP H, IFMAP W, Filter H, Filter
    W, Channels, Num Filter, Stride[, N:M]`` or, with ``gemm``, ``name, M, N, K[, N:M]``."""
    path = Path(path)
    if not path.is_file():
        raise ScaleSimInputError(f"{path}: no such SCALE-Sim topology file")
    try:
        lines = path.read_text().splitlines()
    except UnicodeDecodeError:
        raise ScaleSimInputError(f"{path}: not a text (CSV) file") from None
    layers: list[ScaleSimLayer] = []
    want = 4 if gemm else 8
    for no, raw in enumerate(lines[1:], start=2):
        cells = [c.strip() for c in raw.split(",")]
        while cells and cells[-1] == "":
            cells.pop()
        if not cells:
            continue
        if len(cells) < want:
            what = "name, M, N, K" if gemm else ("name, IFMAP H, IFMAP W, Filter H, Filter W, "
                                                 "Channels, Num Filter, Stride")
            raise ScaleSimInputError(f"{path}:{no}: {len(cells)} fields, expected {what}"
                                     + ("" if gemm else " (a GEMM topology needs --gemm)"))
        if len(cells) > want and ":" in cells[want]:
            nm_n, nm_m = cells[want].split(":", 1)
            if nm_n.strip() != nm_m.strip():
                raise ScaleSimInputError(f"{path}:{no}: N:M sparsity {cells[want]} is not "
                                         "supported; use 1:1 or drop the column")
            cells = cells[:want]
        try:
            nums = [int(c) for c in cells[1:want]]
        except ValueError:
            raise ScaleSimInputError(f"{path}:{no}: {cells[1:want]} are not all integers "
                                     "(is the header row missing?)") from None
        if min(nums) < 1:
            raise ScaleSimInputError(f"{path}:{no}: sizes must be positive, got {nums}")
        if max(nums) > MAX_TOPOLOGY_SIZE:
            raise ScaleSimInputError(f"{path}:{no}: size {max(nums):,} is beyond any real "
                                     f"layer; sizes must be at most {MAX_TOPOLOGY_SIZE:,}")
        name = cells[0]
        if gemm:
            m, n, k = nums
            layer = ScaleSimLayer(name, m, k, 1, k, 1, n, 1, line=no)
        else:
            h, w, fh, fw, c, k, s = nums
            if fh > h or fw > w:
                raise ScaleSimInputError(f"{path}:{no}: filter {fh}x{fw} is larger than the "
                                         f"input {h}x{w} (SCALE-Sim has no padding: give the "
                                         "padded size)")
            if "DP" in name:  # SCALE-Sim: one single-channel layer per channel (filters kept)
                if len(layers) + c > MAX_TOPOLOGY_LAYERS:
                    raise ScaleSimInputError(
                        f"{path}:{no}: the name {name!r} contains 'DP', which SCALE-Sim "
                        f"expands into one layer per channel: {c:,} layers, "
                        f"{len(layers) + c:,} in the topology so far, more than the "
                        f"{MAX_TOPOLOGY_LAYERS:,} accelscope simulates; rename the row "
                        "(without DP) to run it as one layer, or give fewer channels")
                layers += [ScaleSimLayer(f"{name}Channel_{i}", h, w, fh, fw, 1, k, s, line=no)
                           for i in range(c)]
                continue
            layer = ScaleSimLayer(name, h, w, fh, fw, c, k, s, line=no)
        layers.append(layer)
        if len(layers) > MAX_TOPOLOGY_LAYERS:
            raise ScaleSimInputError(f"{path}:{no}: more than {MAX_TOPOLOGY_LAYERS:,} layers; "
                                     "split the topology into several files")
    if not layers:
        raise ScaleSimInputError(f"{path}: no layer rows after the header")
    return layers


@dataclass(frozen=True)
class LayerReport:
    layer: ScaleSimLayer
    timing: SystolicTiming
    compute: dict[str, float] = field(default_factory=dict)
    bandwidth: dict[str, float] = field(default_factory=dict)
    detail: dict[str, tuple[int, int, int]] = field(default_factory=dict)


COMPUTE_HEADER = ("LayerID, Total Cycles (incl. prefetch), Total Cycles, Stall Cycles, "
                  "Overall Util %, Mapping Efficiency %, Compute Util %,")
BANDWIDTH_HEADER = ("LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, "
                    "Avg IFMAP DRAM BW, Avg FILTER DRAM BW, Avg OFMAP DRAM BW,")
DETAIL_HEADER = ("LayerID, SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, "
                 "SRAM Filter Start Cycle, SRAM Filter Stop Cycle, SRAM Filter Reads, "
                 "SRAM OFMAP Start Cycle, SRAM OFMAP Stop Cycle, SRAM OFMAP Writes, "
                 "DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, DRAM IFMAP Reads, "
                 "DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, "
                 "DRAM OFMAP Start Cycle, DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,")


def check_work(cfg: ScaleSimConfig, layers: list[ScaleSimLayer], source: str = "topology",
               max_cycles: int | None = MAX_SIM_CYCLES) -> int:
    """The compute cycles ``simulate`` covers (each distinct layer geometry once), estimated in
    closed form; a ``ScaleSimInputError`` naming the largest layer when beyond
    ``max_cycles`` (None: no limit)."""
    seen: dict[tuple[int, ...], tuple[int, ScaleSimLayer]] = {}
    for layer in layers:
        key = (layer.ifmap_h, layer.ifmap_w, layer.filter_h, layer.filter_w, layer.channels,
               layer.num_filter, layer.stride)
        if key not in seen:
            t = systolic_timing(layer.gemm(), cfg.array_rows, cfg.array_cols, cfg.dataflow)
            seen[key] = (t.compute_cycles, layer)
    total = sum(c for c, _ in seen.values())
    if max_cycles is not None and total > max_cycles:
        cycles, big = max(seen.values(), key=lambda cl: cl[0])
        where = f"{source}:{big.line}" if big.line else source
        raise ScaleSimInputError(
            f"{where}: layer {big.name!r} ({big.gemm().macs:,} MACs) alone is {cycles:,} "
            f"compute cycles on the {cfg.array_rows}x{cfg.array_cols} array; the topology "
            f"is {total:,} cycles to simulate, beyond the limit of {max_cycles:,} (minutes "
            f"per 10^9 cycles); pass --max-cycles {total} (max_cycles= in Python) to run "
            "it anyway")
    return total


def simulate(cfg: ScaleSimConfig, layers: list[ScaleSimLayer],
             max_cycles: int | None = MAX_SIM_CYCLES) -> list[LayerReport]:
    """SCALE-Sim's three reports for every layer of a topology. A topology of more than
    ``max_cycles`` compute cycles is refused before any work (``check_work``)."""
    from accelscope.models.systolic.memory import scalesim_memory

    check_work(cfg, layers, max_cycles=max_cycles)
    out = []
    done: dict[tuple[int, ...], LayerReport] = {}
    for layer in layers:
        key = (layer.ifmap_h, layer.ifmap_w, layer.filter_h, layer.filter_w, layer.channels,
               layer.num_filter, layer.stride)
        if key in done:  # identical geometry, identical numbers (SCALE-Sim is deterministic)
            out.append(dataclasses.replace(done[key], layer=layer))
            continue
        t = systolic_timing(layer.gemm(), cfg.array_rows, cfg.array_cols, cfg.dataflow)
        mem = scalesim_memory(
            dataflow=cfg.dataflow, array_rows=cfg.array_rows, array_cols=cfg.array_cols,
            ifmap_h=layer.ifmap_h, ifmap_w=layer.ifmap_w, filter_h=layer.filter_h,
            filter_w=layer.filter_w, channels=layer.channels, num_filter=layer.num_filter,
            stride=layer.stride, ifmap_sram_kb=cfg.ifmap_sram_kb,
            filter_sram_kb=cfg.filter_sram_kb, ofmap_sram_kb=cfg.ofmap_sram_kb,
            bandwidth_mode=cfg.bandwidth_mode,
            ifmap_dram_bw_words=cfg.ifmap_bank_bandwidth_words,
            filter_dram_bw_words=cfg.filter_bank_bandwidth_words,
            ofmap_dram_bw_words=cfg.bandwidth_words,
            read_request_buffer=cfg.read_request_buffer,
            write_request_buffer=cfg.write_request_buffer)
        done[key] = _report(layer, t, mem)
        out.append(done[key])
    return out


def _report(layer: ScaleSimLayer, t: SystolicTiming, mem: ScaleSimMemoryReport) -> LayerReport:
    pe = t.rows * t.cols
    total = mem.total_cycles
    compute = {"total_cycles_incl_prefetch": mem.total_cycles_incl_prefetch,
               "total_cycles": total, "stall_cycles": mem.stall_cycles,
               "overall_util_pct": t.macs * 100 / (total * pe),
               "mapping_efficiency_pct": t.mapping_efficiency * 100,
               "compute_util_pct": t.compute_utilization * 100}
    sram = (t.ifmap_sram_reads, t.filter_sram_reads, t.ofmap_sram_writes_scalesim)
    detail = {
        "ifmap_sram": (mem.ifmap_sram_start_cycle, mem.ifmap_sram_stop_cycle, sram[0]),
        "filter_sram": (mem.filter_sram_start_cycle, mem.filter_sram_stop_cycle, sram[1]),
        "ofmap_sram": (mem.ofmap_sram_start_cycle, mem.ofmap_sram_stop_cycle, sram[2]),
        "ifmap_dram": (mem.ifmap_dram_start_cycle, mem.ifmap_dram_stop_cycle,
                       mem.ifmap_dram_reads),
        "filter_dram": (mem.filter_dram_start_cycle, mem.filter_dram_stop_cycle,
                        mem.filter_dram_reads),
        "ofmap_dram": (mem.ofmap_dram_start_cycle, mem.ofmap_dram_stop_cycle,
                       mem.ofmap_dram_writes)}
    bandwidth = {"ifmap_sram": sram[0] / total, "filter_sram": sram[1] / total,
                 "ofmap_sram": sram[2] / total}
    for k in ("ifmap_dram", "filter_dram", "ofmap_dram"):
        start, stop, n = detail[k]
        bandwidth[k] = n / (stop - start + 1)
    return LayerReport(layer, t, compute, bandwidth, detail)


def write_reports(reports: list[LayerReport], out: Path) -> list[Path]:
    """The three CSVs in SCALE-Sim's format, one row per layer (a ``DP`` topology row is one
    layer per channel, as in SCALE-Sim)."""
    out.mkdir(parents=True, exist_ok=True)
    comp, bw, det = [COMPUTE_HEADER], [BANDWIDTH_HEADER], [DETAIL_HEADER]
    for i, r in enumerate(reports):
        c = r.compute
        comp.append(", ".join(str(x) for x in (
            i, c["total_cycles_incl_prefetch"], c["total_cycles"], c["stall_cycles"],
            c["overall_util_pct"], c["mapping_efficiency_pct"], c["compute_util_pct"])) + ",")
        b = r.bandwidth
        bw.append(", ".join(str(x) for x in (
            i, b["ifmap_sram"], b["filter_sram"], b["ofmap_sram"], b["ifmap_dram"],
            b["filter_dram"], b["ofmap_dram"])) + ",")
        d = r.detail
        det.append(", ".join(str(x) for x in (
            i, *d["ifmap_sram"], *d["filter_sram"], *d["ofmap_sram"], *d["ifmap_dram"],
            *d["filter_dram"], *d["ofmap_dram"])) + ",")
    paths = []
    for name, rows in (("COMPUTE_REPORT.csv", comp), ("BANDWIDTH_REPORT.csv", bw),
                       ("DETAILED_ACCESS_REPORT.csv", det)):
        p = out / name
        p.write_text("\n".join(rows) + "\n")
        paths.append(p)
    return paths
