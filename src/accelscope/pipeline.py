"""The pipeline: chain -> real activations -> one ``LayerWorkload`` per GConv -> model -> results.

``evaluate_network(chain, arch)`` executes the chain once (``keep_intermediates=True``) so
that every GConv is evaluated on the real tensors it reads, then calls the accelerator model
named by the architecture spec on each GConv in chain order.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast

import torch

from accelscope.errors import AccelscopeError
from accelscope.models.contract import LayerWorkload
from accelscope.models.registry import get_model
from accelscope.results import LayerResult, NetworkResult
from accelscope.workload.execute import execute
from accelscope.workload.gconv import Chain, GConv, shape4


def _density(t: torch.Tensor) -> float:
    return float(torch.count_nonzero(t)) / max(t.numel(), 1)


def default_input(chain: Chain, seed: int = 0) -> torch.Tensor:
    """The seeded N(0, 1) input used when the caller gives none."""
    shape = chain.tensors[chain.inputs[0]].shape
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def build_workloads(chain: Chain, inputs: torch.Tensor | Sequence[torch.Tensor] | None = None,
                    *, mode: Literal["actual", "statistical"] = "actual",
                    densities: Mapping[str, float] | None = None,
                    seed: int = 0) -> list[LayerWorkload]:
    """One workload per GConv of ``chain``.

    ``actual``: the chain is executed on ``inputs`` (a seeded random input if ``None``) and
    each workload carries its real tensors and measured densities. ``statistical``: no
    tensors; densities come from ``densities`` (tensor name -> density) where given, else they
    are measured from one execution (weights always from the parameters).
    """
    if mode not in ("actual", "statistical"):
        raise AccelscopeError(f"mode must be 'actual' or 'statistical', got {mode!r}")
    tensors: dict[str, torch.Tensor] = {}
    given = dict(densities or {})
    for name, d in given.items():
        if isinstance(d, bool) or not isinstance(d, int | float) or not 0.0 <= d <= 1.0:
            raise AccelscopeError(f"densities[{name!r}] = {d!r}: a density is a number in "
                                  "[0, 1] (the fraction of non-zero elements)")
    need_run = mode == "actual" or any(
        t not in given for g in chain.gconvs for t in (g.input, g.output))
    if need_run:
        x = default_input(chain, seed) if inputs is None else inputs
        _, tensors = execute(chain, x, keep_intermediates=True)
    network_inputs = set(chain.inputs)
    out = []
    for i, g in enumerate(chain.gconvs):
        x4 = tensors[g.input].reshape(shape4(tensors[g.input].shape)) if tensors else None
        y4 = tensors[g.output].reshape(shape4(tensors[g.output].shape)) if tensors else None
        operand = _operand(g, chain, tensors)
        dens = {
            "input": given.get(g.input, _density(x4) if x4 is not None else 1.0),
            "output": given.get(g.output, _density(y4) if y4 is not None else 1.0),
            "operand": given.get(g.operand or "", _density(operand)
                                 if operand is not None else 1.0),
        }
        used = {k: v for k, v in chain.params.items()
                if k == g.operand or any(p.tensor == k for p in g.post_ops)}
        actual = mode == "actual"
        out.append(LayerWorkload(
            gconv=g, network=chain.name, mode=mode,
            input=x4 if actual else None, operand=operand if actual else None,
            output=y4 if actual else None, params=used,
            input_density=dens["input"], operand_density=dens["operand"],
            output_density=dens["output"], input_is_network_input=g.input in network_inputs,
            index=i, operand_elems=_numel(chain, cast(str, g.operand))
            if g.operand_kind == "tensor" else 0))  # a tensor operand is named
    return out


def _numel(chain: Chain, tensor: str) -> int:
    n = 1
    for s in chain.tensors[tensor].shape:
        n *= s
    return n


def _operand(g: GConv, chain: Chain, tensors: Mapping[str, torch.Tensor]
             ) -> torch.Tensor | None:
    # a weight or tensor operand is named (g.operand is set)
    if g.operand_kind == "weight":
        weight: torch.Tensor = chain.params[cast(str, g.operand)]
        return weight
    if g.operand_kind == "tensor" and tensors:
        t = tensors[cast(str, g.operand)]
        return t.reshape(shape4(t.shape))
    return None


def with_geometry(result: LayerResult, g: GConv) -> LayerResult:
    """``result`` with its GConv's geometry line in ``details['shape']`` (what a report or
    a reader of results.json shows for the layer without the network at hand)."""
    if result.details.get("shape") == g.geometry:
        return result
    return replace(result, details={**result.details, "shape": g.geometry})


def evaluate_workloads(workloads: Sequence[LayerWorkload], spec: Any, *, network: str,
                       progress: Callable[[int, int], None] | None = None,
                       details: Mapping[str, Any] | None = None) -> NetworkResult:
    info = get_model(spec.model)
    layers = []
    for i, w in enumerate(workloads):
        layers.append(with_geometry(info.evaluate(w, spec), w.gconv))
        if progress is not None:
            progress(i + 1, len(workloads))
    provenance = {"arch": f"{spec.name}: {spec.source}", "model": info.description}
    return NetworkResult(network=network, model=spec.model, arch=spec.name,
                         clock_hz=float(spec.clock_hz), layers=tuple(layers),
                         provenance=provenance, details=dict(details or {}),
                         warnings=tuple(spec.plausibility()), spec=spec.resolved())


def evaluate_network(chain: Chain, arch: Any, *,
                     inputs: torch.Tensor | Sequence[torch.Tensor] | None = None,
                     mode: Literal["actual", "statistical"] = "actual",
                     densities: Mapping[str, float] | None = None, seed: int = 0,
                     progress: Callable[[int, int], None] | None = None) -> NetworkResult:
    """Evaluate every GConv of ``chain`` on ``arch`` (a preset name, a YAML path or a spec)."""
    from accelscope.arch import load_arch

    spec = load_arch(arch)  # a name, a path, a mapping or a spec; anything else: ArchError
    workloads = build_workloads(chain, inputs, mode=mode, densities=densities, seed=seed)
    return evaluate_workloads(workloads, spec, network=chain.name, progress=progress,
                              details={"mode": mode, "chain_source": chain.source})


@dataclass(frozen=True)
class PreparedNetwork:
    """A network lowered (and pruned) with its per-GConv workloads, built once for any number
    of evaluations. ``options`` records how it was prepared (JSON values)."""

    chain: Chain
    workloads: tuple[LayerWorkload, ...]
    prune: str | None = None
    prune_density: float | None = None
    prune_layers: int = 0
    prune_warnings: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"PreparedNetwork({self.chain.name!r}: {len(self.workloads)} GConvs, "
                f"{self.chain.total_macs / 1e9:.3f} G MACs, mode "
                f"{self.options.get('mode', '?')}, prune {self.prune or 'none'})")


def _shape_text(shape: str | Sequence[int] | None) -> str | None:
    if shape is None or isinstance(shape, str):
        return shape
    return ",".join(str(int(s)) for s in shape)


def prepare_network(model: str | os.PathLike[str] | Chain | torch.nn.Module, *,
                    input_shape: str | Sequence[int] | None = None,
                    batch: int | None = None, weights: str | Path | None = None, seed: int = 0,
                    input: str | torch.Tensor = "random", prune: str | None = None,
                    mode: Literal["actual", "statistical"] = "actual",
                    status: Callable[[str], contextlib.AbstractContextManager[Any]] | None = None
                    ) -> PreparedNetwork:
    """Lower ``model`` (a zoo name, an ``.onnx`` path, an ``nn.Module`` with
    ``input_shape``, or a ``Chain``), prune its weights (``prune``: a ``--prune`` spec,
    docs/sparsity.md), run it on ``input`` (``random``: seeded N(0, 1), an image file, or a
    tensor) and build its workloads. ``status(text)`` returns a context manager shown around
    each slow step (a spinner in the CLI)."""
    from accelscope.workload.inputs import input_tensor, resolve_model
    from accelscope.workload.lower import lower

    step = status or (lambda text: contextlib.nullcontext())
    if mode not in ("actual", "statistical"):
        raise AccelscopeError(f"mode {mode!r} is not a mode; use 'actual' (real tensors) or "
                              "'statistical' (densities)")
    if prune is not None:  # a bad prune spec fails before the lowering, not after it
        from accelscope.sparsity.prune import parse_prune_spec

        if not prune.strip():
            raise AccelscopeError("prune is empty; give a prune spec such as 0.7, "
                                  "magnitude:0.3, nm:2:4 (docs/sparsity.md), or leave it out")
        parse_prune_spec(prune)
    given = input if isinstance(input, torch.Tensor) else None
    if given is not None and given.dtype not in (torch.float32, torch.float64, torch.float16,
                                                 torch.bfloat16):
        raise AccelscopeError(f"input: a float tensor is needed, got {given.dtype}")
    if isinstance(model, Chain):
        if input_shape is not None or batch is not None or weights is not None:
            raise AccelscopeError("input_shape, batch and weights apply to a model that is "
                                  "still to be lowered; a Chain has its shapes and weights")
        chain, label = model, model.name
        xin = given
    elif isinstance(model, torch.nn.Module):
        if weights is not None:
            raise AccelscopeError("weights applies to zoo models; load a state dict into your "
                                  "module yourself (module.load_state_dict)")
        if given is None and input_shape is None:
            raise AccelscopeError("an nn.Module needs input_shape=(N, C, H, W) or an input "
                                  "tensor to be traced with")
        from accelscope.workload.inputs import parse_shape

        shape = (tuple(given.shape) if given is not None else parse_shape(
            cast(str, _shape_text(input_shape))))
        if batch is not None:
            shape = (batch, *shape[1:])
        example = given if given is not None and tuple(given.shape) == shape else \
            torch.randn(shape, generator=torch.Generator().manual_seed(seed))
        label = type(model).__name__
        with step(f"lowering {label} ..."):
            chain = lower(model, example, name=label)
        xin = example
    else:
        label = str(model)
        zm, onnx_path, x = resolve_model(label, _shape_text(input_shape), batch, weights, seed)
        with step(f"lowering {label} ..."):
            if zm is not None:
                chain = lower(zm.module, x, name=zm.name)
            else:
                chain = lower(str(onnx_path), input_shape=x)
        xin = given if given is not None else input_tensor(
            cast(str, input), zm, chain.tensors[chain.inputs[0]].shape, seed)
    density = None
    layers = 0
    warnings: tuple[str, ...] = ()
    if prune:
        from accelscope.sparsity.prune import prune as prune_weights

        pruned = prune_weights(chain, prune)
        chain = pruned.chain
        density, layers, warnings = pruned.density, len(pruned.layers), tuple(pruned.warnings())
    with step(f"executing {chain.name} to capture real activations ..."):
        workloads = build_workloads(chain, xin, mode=mode, seed=seed)
    first = chain.tensors[chain.inputs[0]].shape
    options = {"network": chain.name, "network_ref": label, "input_shape": list(first),
               "batch": first[0], "weights": str(weights) if weights is not None else None,
               "seed": seed, "input": "tensor" if given is not None else str(input),
               "prune": prune or None, "mode": mode, "gconvs": len(chain.gconvs),
               "macs": chain.total_macs}
    return PreparedNetwork(chain, tuple(workloads), prune or None, density, layers, warnings,
                           options)
