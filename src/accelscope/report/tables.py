"""Tables of results for a terminal (rich): the GConv chain, a network's layers, the feature
maps coded or kept on chip, a strategy's summary line; ``fitted_table`` keeps every column at
its full width and lets one column shrink. Plain text: no cell is read as markup."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from rich import box
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from accelscope.results import LayerResult, NetworkResult
    from accelscope.workload.gconv import Chain


def human(n: float) -> str:
    """1234567 -> '1.23M' (SI, three significant digits)."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{unit}" if n / scale < 100 else f"{n / scale:.0f}{unit}"
    return f"{n:g}"


def gconv_table(chain: Chain, limit: int | None) -> Table:

    batch = chain.gconvs[0].N if chain.gconvs else 1
    table = Table(title=f"{chain.name}: {len(chain.gconvs)} GConvs, {len(chain.views)} views, "
                        f"batch {batch} ({chain.source})", box=box.SIMPLE_HEAD, show_edge=False,
                  padding=(0, 0), pad_edge=False)
    cols = ("#", "name", "kind", "G", "K", "C", "PxQ", "RxS", "stride", "MACs", "weights",
            "output")
    rows: list[tuple[str, ...]] = []
    for i, g in enumerate(chain.gconvs if limit is None else chain.gconvs[:limit]):
        stride = (f"{g.stride[0]}x{g.stride[1]}" if g.stride[0] != g.stride[1]
                  else str(g.stride[0]))
        rows.append((str(i), g.name, g.kind, str(g.G), str(g.K), str(g.C), f"{g.P}x{g.Q}",
                     f"{g.R}x{g.S}", stride, human(g.macs), human(g.weight_elems),
                     human(g.output_elems)))
    if limit is not None and len(chain.gconvs) > limit:
        rows.append(("...", f"({len(chain.gconvs) - limit} more)", *[""] * 10))
    total = ("", "total", "", *[""] * 6, human(chain.total_macs), human(chain.weight_elems), "")
    for j, col in enumerate(cols):
        width = max(len(r[j]) for r in [*rows, total, cols])
        table.add_column(col, justify="left" if col in ("name", "kind") else "right",
                         no_wrap=True, overflow="ellipsis",
                         min_width=None if col == "name" else width)
    for r in rows:
        table.add_row(*r)
    table.add_section()
    table.add_row(*total)
    return table


def fitted_table(title: str, cols: list[str], rows: Sequence[Sequence[str | Text]], *, flex: str,
                  right: set[str]) -> Table:
    """A table whose columns keep their full width; only ``flex`` shrinks (and folds or
    ellipsises) when the terminal is narrow."""

    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for i, col in enumerate(cols):
        width = max([len(col)] + [Text(c).cell_len if isinstance(c, str)
                                  else c.cell_len for c in (r[i] for r in rows)])
        table.add_column(col, justify="right" if col in right else "left",
                         no_wrap=col != flex,
                         overflow="fold" if col == flex else "ellipsis",
                         min_width=None if col == flex else width)
    for r in rows:
        table.add_row(*r)
    return table


def layer_table(result: NetworkResult, limit: int | None) -> Table:

    how = (f", strategy {result.details['strategy']}" if "strategy" in result.details
           else "")
    table = Table(title=f"{result.network} on {result.arch} ({result.model} model{how})",
                  box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 0), pad_edge=False)
    for col in ("#", "layer", "kind", "cycles", "ms", "util", "MACs", "useful", "energy uJ",
                "DRAM kB"):
        table.add_column(col, justify="left" if col in ("layer", "kind") else "right",
                         no_wrap=True, overflow="ellipsis",
                         min_width=None if col == "layer" else len(col) + 1)
    layers = result.layers if limit is None else result.layers[:limit]
    for i, r in enumerate(layers):
        table.add_row(str(i), r.layer, r.kind, human(r.cycles), f"{r.seconds * 1e3:.3f}",
                      f"{r.utilization:.0%}", human(r.macs),
                      f"{r.macs_useful / r.macs:.0%}" if r.macs else "-",
                      f"{r.total_energy_pj * 1e-6:.1f}",
                      f"{r.level_bits('dram') / 8e3:.1f}" if r.level_bits("dram") else "-")
    if limit is not None and len(result.layers) > limit:
        table.add_row("...", f"({len(result.layers) - limit} more)", *[""] * 8)
    table.add_section()
    dram = result.level_bits("dram")
    table.add_row("", "total", "", human(result.cycles), f"{result.seconds * 1e3:.3f}",
                  f"{result.utilization:.0%}", human(result.macs),
                  f"{result.macs_useful / result.macs:.0%}" if result.macs else "-",
                  f"{result.total_energy_pj * 1e-6:.1f}", f"{dram / 8e3:.1f}" if dram else "-")
    return table


def compress_table(result: NetworkResult, limit: int | None) -> Table:
    rows: list[list[str]] = []

    def before(r: LayerResult) -> int:
        return cast(int, r.details.get(
            "dram_bits_uncompressed",
            r.details.get("dram_bits_before_on_chip", r.level_bits("dram"))))

    for i, r in enumerate(result.layers):
        ratios = r.details.get("dct_ratio") or {}
        kept = r.details.get("fmaps_on_chip")
        if not ratios and kept is None:
            continue
        new, old = r.level_bits("dram"), before(r)
        rows.append([str(i), r.layer, f"{ratios['input']:.2f}x" if "input" in ratios else "-",
                     f"{ratios['output']:.2f}x" if "output" in ratios else "-",
                     "-" if kept is None else ("output" if "output" in kept else "no"),
                     f"{old / 8e3:,.1f}", f"{new / 8e3:,.1f}",
                     f"{100 * (1 - new / old):.1f}%" if old else "-"])
    total_old = sum(before(r) for r in result.layers)
    total_new = result.level_bits("dram")
    shown = rows if limit is None else rows[:limit]
    if limit is not None and len(rows) > limit:
        shown.append(["", f"... ({len(rows) - limit} more)", "", "", "", "", "", ""])
    shown.append(["", "total", "", "", "", f"{total_old / 8e3:,.1f}", f"{total_new / 8e3:,.1f}",
                  f"{100 * (1 - total_new / total_old):.1f}%" if total_old else "-"])
    cols = ["#", "layer", "input ratio", "output ratio", "on chip", "DRAM kB before",
            "DRAM kB after", "saved"]
    what = result.details.get("compress") or "no compression"
    return fitted_table(f"feature maps on {result.arch} ({what}"
                         + (", maps kept on chip" if "fmaps_on_chip" in result.details else "")
                         + ")", cols, shown, flex="layer", right=set(cols) - {"layer"})


def strategy_line(r: NetworkResult) -> str:
    d = r.details
    parts = [f"{r.arch} ({d['strategy']}): {d['placement']['accelerator']} GConvs on the "
             f"accelerator, {d['placement']['host']} on the host; non-conv time "
             f"{d['nonconv_time_share']:.1%} of {r.seconds * 1e3:.4g} ms"]
    if d.get("transfers"):
        parts.append(f"{d['transfers']} boundary transfers, {d['transfer_bits'] / 8e6:.4g} MB "
                     f"through DRAM in {d['transfer_seconds'] * 1e3:.4g} ms")
    if d.get("im2col_layers"):
        parts.append(f"{d['im2col_layers']} im2col expansions "
                     f"({d['im2col_expanded_elems']:,} elements) in "
                     f"{d['transfer_seconds'] * 1e3:.4g} ms")
    f = d.get("fusion")
    if f:
        parts.append(f"fusion kept {f['fused']} intermediates on chip (capacity "
                     f"{f['capacity_bytes'] / 1024:,.0f} KiB of {f['capacity_from'].split(' ')[0]},"
                     f" peak {f['peak_bytes'] / 1024:,.1f} KiB), DRAM "
                     f"{f['dram_bits_saved'] / 8e6:.4g} MB saved")
    return "; ".join(parts)
