"""What the passes after evaluation share: where a GConv runs, the error they raise, the
tensors a GConv reads through layout views."""

from __future__ import annotations

from accelscope.errors import AccelscopeError
from accelscope.results import LayerResult
from accelscope.workload.gconv import Chain, GConv, View

ON_ACCEL, ON_HOST = "accelerator", "host"


class StrategyError(AccelscopeError):
    """A strategy was asked for something it cannot do (unknown name, wrong host spec)."""


def _views(chain: Chain | None) -> dict[str, View]:
    return {} if chain is None else {v.output: v for v in chain.views}


def base_tensors(chain: Chain | None, tensor: str) -> tuple[str, ...]:
    """The GConv outputs or chain inputs a tensor is made of, looking through layout views
    (reshape, permute, slice: their input; concat: all of its inputs)."""
    views = _views(chain)
    out: list[str] = []
    todo = [tensor]
    while todo:
        t = todo.pop()
        v = views.get(t)
        if v is None:
            if t not in out:
                out.append(t)
        else:
            todo.extend(reversed(v.inputs))
    return tuple(out)


def reads(g: GConv) -> tuple[str, ...]:
    return (g.input, g.operand) if g.operand_kind == "tensor" and g.operand else (g.input,)


def expanded_input(r: LayerResult) -> bool:
    """A layer whose DRAM ``input`` traffic is a software IM2COL matrix (systolic with
    ``im2col: software``), not the feature map: coding the map or keeping it on chip does
    not change that traffic (the host expands the map into DRAM either way)."""
    return r.software_im2col_elems > 0
