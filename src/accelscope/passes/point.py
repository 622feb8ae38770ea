"""One network evaluated on one spec with the pass options of a run: the evaluation that
``accelscope.evaluate`` / ``compare`` and the design-space sweeps (``accelscope.dse``) share.

* ``check_pass_options``: option combinations that are not modelled together, refused before
  any work;
* ``parse_strategy_option``: a strategy option (text, list or None) as a tuple of names;
* ``evaluate_plain``: the models, then the DCT codec and maps on chip (``code_and_place``);
* ``evaluate_with_strategy``: one execution strategy of the whole chain.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from accelscope.arch import ArchSpec
from accelscope.errors import AccelscopeError
from accelscope.pipeline import PreparedNetwork, evaluate_workloads
from accelscope.results import LayerResult, NetworkResult

Status = Callable[[str], contextlib.AbstractContextManager[Any]]
Progress = Callable[[str, int, int], None]
"""``progress(label, done, total)``: called after each layer of an evaluation."""

OPTION_NAMES = {"strategy": "strategy", "host": "host", "host_threads": "host_threads",
                "compress": "compress", "fmaps_on_chip": "fmaps_on_chip",
                "host_fallback": "strategy='host-fallback'"}
"""How the pass options are spelled in messages (the command line passes its own)."""


def check_pass_options(strategies: Sequence[str], compress: str | None, fmaps_on_chip: bool,
                       host: str, host_threads: int,
                       names: Mapping[str, str] = OPTION_NAMES) -> None:
    """Refuse option combinations that are not modelled together, and host options that
    would be ignored, before any work; ``names`` spells the options in the messages."""
    n = names
    if not strategies:
        if host != "cpu" or host_threads != 1:
            raise AccelscopeError(f"{n['host']} and {n['host_threads']} apply to "
                                  f"{n['host_fallback']}; add it (or leave them out)")
    elif compress is not None or fmaps_on_chip:
        raise AccelscopeError(f"{n['strategy']} cannot be combined with {n['compress']} or "
                              f"{n['fmaps_on_chip']} yet; run them separately")
    if compress is not None:
        from accelscope.passes import check_compress

        check_compress(compress)
    if host_threads < 0:
        raise AccelscopeError(f"{n['host_threads']} must be >= 0 (0: the host preset's "
                              f"setting), got {host_threads}")


def parse_strategy_option(strategy: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"gconv,dedicated"``, ``["gconv", "dedicated"]`` or None as a tuple of strategy
    names (checked)."""
    if strategy is None:
        return ()
    from accelscope.passes import parse_strategies

    text = strategy if isinstance(strategy, str) else ",".join(strategy)
    return tuple(parse_strategies(text))


def _details(net: PreparedNetwork) -> dict[str, Any]:
    return {"mode": net.options.get("mode"), "input": net.options.get("input"),
            "prune": net.prune or "none", "seed": net.options.get("seed")}


def evaluate_plain(net: PreparedNetwork, spec: ArchSpec, compress: str | None,
                   fmaps_on_chip: bool, options: Mapping[str, Any],
                   progress: Progress | None = None) -> NetworkResult:
    """Every GConv of ``net`` on ``spec``, then the codec (``compress``) and the maps kept
    on chip (``fmaps_on_chip``); ``options`` are recorded in the result."""
    from accelscope.passes import code_and_place

    details = _details(net)
    if compress is not None:
        details["compress"] = compress
    result = evaluate_workloads(
        net.workloads, spec, network=net.chain.name, details=details,
        progress=(lambda i, n: progress(spec.name, i, n)) if progress else None)
    result, summary = code_and_place(result, net.workloads, spec, compress, fmaps_on_chip)
    if summary is not None:
        result = replace(result, details={**result.details, "on_chip": summary.line()})
    return replace(result, options=options)


def evaluate_with_strategy(net: PreparedNetwork, spec: ArchSpec, strategy: str, host: str,
                           fuse: bool, host_threads: int,
                           cache: dict[tuple[Any, ...], LayerResult],
                           options: Mapping[str, Any], status: Status | None = None
                           ) -> NetworkResult:
    """The whole chain of ``net`` under one execution ``strategy`` on ``spec`` (layers the
    strategy leaves to the host measured on ``host``); ``cache`` keeps the host measurements
    of the layers for other specs and strategies."""
    from accelscope.passes import evaluate_strategy

    step = status or (lambda text: contextlib.nullcontext())
    with step(f"{spec.name}: strategy {strategy} ..."):
        result = evaluate_strategy(net.workloads, spec, strategy, chain=net.chain,
                                   host_spec=host, fuse=fuse, details=_details(net),
                                   cache=cache, host_threads=host_threads or None)
    return replace(result, options={**options, "strategy": strategy})


__all__ = ["OPTION_NAMES", "Progress", "Status", "check_pass_options", "evaluate_plain",
           "evaluate_with_strategy", "parse_strategy_option"]
