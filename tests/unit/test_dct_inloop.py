"""The DCT codec in the loop: executor hook, accuracy sweep, DRAM pricing, CLI options."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest
import torch

import accelscope
from accelscope.arch import load_arch
from accelscope.compress.dct import DctCodec, DctError
from accelscope.compress.inloop import inter_layer_tensors, parse_compress, run_with_codec
from accelscope.passes.codec import apply_codec
from accelscope.pipeline import build_workloads, evaluate_workloads
from accelscope.report.dct_accuracy import accuracy_sweep


@pytest.fixture(scope="module")
def tiny():
    zm = accelscope.zoo.get("tiny", batch=2)
    chain = accelscope.lower(zm)
    return zm, chain


def test_parse_compress_and_its_errors():
    c = parse_compress("dct:quality=75,format=bitmap,wordlength=12")
    assert (c.quality, c.fmt, c.wordlength) == (75, "bitmap", 12)
    assert parse_compress("dct") == DctCodec()
    with pytest.raises(DctError, match="only codec is 'dct'"):
        parse_compress("jpeg:quality=5")
    with pytest.raises(DctError, match=r"unknown key 'qualty'.*quality"):
        parse_compress("dct:qualty=5")
    with pytest.raises(DctError, match="not key=value"):
        parse_compress("dct:75")
    with pytest.raises(DctError, match="quality"):
        parse_compress("dct:quality=0")


def test_no_coded_tensor_is_the_plain_executor(tiny):
    zm, chain = tiny
    x = zm.example_input()
    out, stats = run_with_codec(chain, x, DctCodec(), tensors=[])
    assert stats == [] and torch.equal(out, accelscope.execute(chain, x))


def test_near_lossless_codec_keeps_the_output(tiny):
    zm, chain = tiny
    x = zm.example_input()
    ref = accelscope.execute(chain, x)
    fine = DctCodec(table="flat", step=1e-4, dtype="float64")
    out, stats = run_with_codec(chain, x, fine)
    assert [s.tensor for s in stats] == inter_layer_tensors(chain)
    assert float((out - ref).abs().max() / ref.abs().max()) < 1e-5
    assert min(s.snr_db for s in stats) > 80
    coarse, cstats = run_with_codec(chain, x, DctCodec(quality=10))
    assert sum(s.compressed_bits for s in cstats) < sum(s.compressed_bits for s in stats)
    assert float((coarse - ref).abs().max()) > float((out - ref).abs().max())


@pytest.mark.parametrize("grid", [2.0 ** -8, 2.0 ** -12])
def test_lossless_setting_reproduces_the_fixed_point_network_exactly(tiny, grid):
    from accelscope.compress.inloop import lossless_codec, on_grid

    zm, chain = tiny
    x = zm.example_input()
    maps = set(inter_layer_tensors(chain))
    # the uncompressed network with its maps stored on the fixed-point grid
    ref = accelscope.execute(chain, x, transform=lambda n, y: on_grid(y, grid)
                             if n in maps else y)
    assert not torch.equal(ref, accelscope.execute(chain, x))  # the grid is not a no-op
    out, stats = run_with_codec(chain, x, lossless_codec(grid), grid=grid)
    assert torch.equal(out, ref)
    assert all(s.max_abs_error == 0 and s.snr_db == math.inf for s in stats)
    assert all(s.compressed_bits > 0 for s in stats)
    # a step above the bound (grid / 8) is not lossless: the test can fail
    out, stats = run_with_codec(chain, x, lossless_codec(grid, step=2 * grid), grid=grid)
    assert not torch.equal(out, ref) and max(s.max_abs_error for s in stats) >= grid


def test_stats_are_the_codecs_sizes_image_by_image(tiny):
    zm, chain = tiny
    x = zm.example_input()
    codec = DctCodec(quality=60)
    _, stats = run_with_codec(chain, x, codec)
    _, env = accelscope.execute(chain, x, keep_intermediates=True)
    s = stats[0]
    y = env[s.tensor]
    want = sum(codec.size_bits(y[i:i + 1].numpy()) for i in range(y.shape[0]))
    assert s.compressed_bits == want and s.original_bits == y.numel() * 16
    assert s.ratio == pytest.approx(s.original_bits / want)


def test_unknown_tensor_is_refused(tiny):
    zm, chain = tiny
    with pytest.raises(DctError, match="not inter-layer feature maps"):
        run_with_codec(chain, zm.example_input(), DctCodec(), tensors=["nope"])


def test_dram_traffic_at_the_coded_sizes(tiny):
    zm, chain = tiny
    works = build_workloads(chain, zm.example_input())
    spec = load_arch("systolic-dense")
    res = evaluate_workloads(works, spec, network=chain.name)
    codec = DctCodec(quality=50)
    comp = apply_codec(res, works, spec, codec)
    assert comp.level_bits("dram") < res.level_bits("dram")
    i = next(k for k, w in enumerate(works) if not w.input_is_network_input
             and w.input.dim() == 4)
    w, before, after = works[i], res.layers[i], comp.layers[i]
    f = codec.size_bits(w.input[0:1].numpy()) + codec.size_bits(w.input[1:2].numpy())
    f /= w.input.numel() * spec.compute.operand_bits
    old = next(a for a in before.accesses if a.level == "dram" and a.tensor == "input")
    new = next(a for a in after.accesses if a.level == "dram" and a.tensor == "input")
    assert new.read_bits == math.ceil(old.read_bits * f)
    assert after.energy_pj["dct"] > 0 and "compress" in after.provenance
    # weights are not feature maps
    ow = [a for a in before.accesses if a.level == "dram" and a.tensor == "weight"]
    nw = [a for a in after.accesses if a.level == "dram" and a.tensor == "weight"]
    assert ow == nw


def test_models_that_code_maps_already_are_refused(tiny):
    zm, chain = tiny
    works = build_workloads(chain, zm.example_input())
    spec = load_arch("eyeriss")
    res = evaluate_workloads(works, spec, network=chain.name)
    with pytest.raises(DctError, match=r"eyeriss\.rlc"):
        apply_codec(res, works, spec, DctCodec())
    stat = build_workloads(chain, zm.example_input(), mode="statistical")
    spec = load_arch("systolic-dense")
    with pytest.raises(DctError, match="--mode actual"):
        apply_codec(evaluate_workloads(stat, spec, network="t"), stat, spec, DctCodec())


def test_accuracy_sweep_on_the_digits_cnn(tmp_path):
    df = accuracy_sweep(["dct:table=flat,step=0.01,dtype=float64", "dct:quality=10"],
                        out_dir=tmp_path, images=60)
    fine, coarse = df.iloc[0], df.iloc[1]
    assert fine["agreement"] == 1.0 and fine["accuracy"] == fine["baseline_accuracy"]
    assert coarse["ratio"] > fine["ratio"] and coarse["mean_snr_db"] < fine["mean_snr_db"]
    assert fine["baseline_accuracy"] > 0.9  # the committed weights are trained
    assert (tmp_path / "dct_accuracy.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_run_with_compress(tmp_path):
    r = subprocess.run([sys.executable, "-m", "accelscope.cli", "run", "tiny", "--arch",
                        "systolic-dense", "--compress", "dct:quality=75", "--out",
                        str(tmp_path)], capture_output=True, text=True, timeout=600,
                       env={**os.environ, "COLUMNS": "160"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "feature maps on systolic-dense (dct:quality=75" in r.stdout and "saved" in r.stdout
    r = subprocess.run([sys.executable, "-m", "accelscope.cli", "run", "tiny", "--arch",
                        "spots", "--compress", "dct:qualty=75"], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 2 and "unknown key 'qualty'" in r.stderr


def test_measured_baselines_are_left_as_measured(tiny):
    zm, chain = tiny
    works = build_workloads(chain, zm.example_input())
    spec = load_arch("cpu")
    res = evaluate_workloads(works, spec, network=chain.name)
    out = apply_codec(res, works, spec, DctCodec())
    assert out.layers == res.layers and "not applied" in out.details["compress"]


@pytest.mark.parametrize("unified", [0, 4096, 65536, None])
def test_allocation_never_exceeds_the_sram(tiny, unified):
    from accelscope.passes import allocate, keep_on_chip, map_sizes

    zm, chain = tiny
    works = build_workloads(chain, zm.example_input())
    spec = load_arch("systolic-dense")
    sizes = map_sizes(works, spec, DctCodec(quality=50))
    alloc = allocate(works, spec, sizes, unified_bytes=unified)
    total = spec.on_chip_bytes if unified is None else unified
    produced = {w.gconv.output: i for i, w in enumerate(works)}
    last = {}
    for i, w in enumerate(works):
        for t in (w.gconv.input, w.gconv.operand):
            if t in produced:
                last[t] = i
    for j in range(len(works)):
        assert alloc.scratchpad_bytes[j] + alloc.fmap_buffer_bytes[j] == total
        live = [t for t in alloc.on_chip if produced[t] <= j <= last[t]]
        assert sum(sizes[t] for t in live) <= alloc.fmap_buffer_bytes[j]
    if unified == 0:
        assert not alloc.on_chip
    res = evaluate_workloads(works, spec, network=chain.name)
    kept = keep_on_chip(res, works, spec, alloc)
    for w, r in zip(works, kept.layers, strict=True):
        dram = {a.tensor for a in r.accesses if a.level == "dram"}
        if w.gconv.output in alloc.on_chip:
            assert "output" not in dram
        if w.gconv.input in alloc.on_chip:
            assert "input" not in dram
    assert kept.level_bits("dram") <= res.level_bits("dram")


def test_coded_maps_fit_better_than_dense_ones(tiny):
    from accelscope.passes import allocate, map_sizes

    zm, chain = tiny
    works = build_workloads(chain, zm.example_input())
    spec = load_arch("systolic-dense")
    budget = 40_000
    dense = allocate(works, spec, map_sizes(works, spec, None), unified_bytes=budget)
    coded = allocate(works, spec, map_sizes(works, spec, DctCodec(quality=25)),
                     unified_bytes=budget)
    assert len(coded.on_chip) > len(dense.on_chip) >= 1


def test_codec_hardware_parameters(tiny):
    from accelscope.compress.inloop import DctHardware, parse_hardware

    hw = parse_hardware("dct:quality=75,hw_units=2,hw_blocks_per_cycle=0.5,hw_latency=4")
    assert (hw.units, hw.blocks_per_cycle, hw.latency) == (2, 0.5, 4)
    assert parse_compress("dct:quality=75,hw_units=2").quality == 75  # codec keys only
    assert parse_hardware("dct") == DctHardware()
    with pytest.raises(DctError, match="hw_units"):
        parse_hardware("dct:hw_units=0")
    # 100 blocks out, 60 in, two pairs at 1/8 block per cycle: 100 / 0.25 + latency
    assert DctHardware(units=2).cycles(100, 60) == 400 + 16
    assert DctHardware().cycles(0, 0) == 0
    assert DctHardware(units=2).area_mm2(32) == pytest.approx(8 * DctHardware().area_mm2(16))
    # a slow codec becomes the bottleneck of a layer, and says so
    zm, chain = tiny
    works = build_workloads(chain, zm.example_input())
    spec = load_arch("systolic-dense")
    res = evaluate_workloads(works, spec, network=chain.name)
    slow = apply_codec(res, works, spec, DctCodec(), DctHardware(blocks_per_cycle=1e-3))
    assert any(r.stall_cycles.get("dct_codec", 0) > 0 for r in slow.layers)
    assert slow.cycles > res.cycles and slow.details["dct_area_mm2"] > 0


def test_agreement_sweep_on_an_unlabelled_zoo_model(tmp_path):
    df = accuracy_sweep(["dct:table=flat,step=0.01,dtype=float64"], model="tiny", images=3,
                        out_dir=tmp_path)
    r = df.iloc[0]
    assert math.isnan(r["accuracy"]) and r["agreement"] == 1.0 and r["images"] == 3
    assert (tmp_path / "dct_accuracy.png").exists()


@pytest.mark.parametrize("arch", ["systolic-dense", "spots", "scalesim-32x32", "gemmini",
                                  "dcnn", "scnn", "eyeriss", "ideal"])
@pytest.mark.parametrize("unified", [None, 20_000])
def test_scratchpad_comes_from_each_models_tiling(tiny, arch, unified):
    from accelscope.passes import allocate, keep_on_chip, map_sizes

    zm, chain = tiny
    works = build_workloads(chain, zm.example_input())
    spec = load_arch(arch)
    res = evaluate_workloads(works, spec, network=chain.name)
    alloc = allocate(works, spec, map_sizes(works, spec, None), unified_bytes=unified,
                     results=res.layers)
    total = spec.on_chip_bytes if unified is None else unified
    kept = keep_on_chip(res, works, spec, alloc)
    for j, (w, r) in enumerate(zip(works, res.layers, strict=True)):
        s, f = alloc.scratchpad_bytes[j], alloc.fmap_buffer_bytes[j]
        assert 0 <= s <= total and s + f == total  # never more than the SRAM
        src = kept.layers[j].provenance["on_chip_fmaps.scratchpad"]
        if arch == "ideal":  # a roofline has no tiling: the fallback rule, said so
            assert r.scratchpad_bytes is None
            assert src.startswith("fallback (the ideal model reports no tiling)")
            assert s == min(w.gconv.weight_elems * 2, total)
        else:  # the model's own number, capped by the unified SRAM
            need = r.scratchpad_bytes
            assert src.startswith(f"{r.model}: ") and s == min(need, total)
            assert alloc.scratchpad_need_bytes[j] == need
            over = any("exceeds the unified SRAM" in x for x in kept.layers[j].warnings)
            assert over == (need > total)
    summary = kept.provenance["on_chip_fmaps"]
    assert ("fallback rule" in summary) == (arch == "ideal")


def test_the_split_follows_the_array(tiny):
    from accelscope.passes import allocate, map_sizes

    zm, chain = tiny
    works = build_workloads(chain, zm.example_input())
    needs = []
    for rows in (8, 32):
        d = load_arch("scalesim-32x32").model_dump()
        d["compute"].update(array=[rows, rows], macs_per_cycle=rows * rows)
        spec = load_arch(d)
        res = evaluate_workloads(works, spec, network=chain.name)
        needs.append(allocate(works, spec, map_sizes(works, spec, None),
                              results=res.layers).scratchpad_bytes)
    assert needs[0] != needs[1]


def test_a_software_im2col_matrix_is_neither_coded_nor_kept_on_chip(tiny):
    from accelscope.passes import allocate, keep_on_chip, map_sizes

    zm, chain = tiny
    works = build_workloads(chain, zm.example_input())
    spec = load_arch("gemmini")  # software IM2COL through DRAM
    res = evaluate_workloads(works, spec, network=chain.name)
    coded = apply_codec(res, works, spec, DctCodec(quality=50))
    alloc = allocate(works, spec, map_sizes(works, spec, None), results=res.layers)
    kept = keep_on_chip(res, works, spec, alloc)

    def dram_in(r):
        return sum(a.bits for a in r.accesses if a.level == "dram" and a.tensor == "input")

    checked = 0
    for w, r, c, k in zip(works, res.layers, coded.layers, kept.layers, strict=True):
        if r.software_im2col_elems and not w.input_is_network_input:
            assert dram_in(c) == dram_in(r) > 0  # the expanded matrix, not the map
            assert "input" not in c.details["dct_ratio"]
            assert "left uncoded" in c.provenance["compress"]
            if w.gconv.input in alloc.on_chip:
                assert dram_in(k) == dram_in(r)
                assert "still goes through DRAM" in k.provenance["on_chip_fmaps"]
                checked += 1
        elif not w.input_is_network_input and r.details.get("unit") == "array":
            assert "input" in c.details["dct_ratio"]  # a map read in place is coded
    assert checked
