"""Instruction-set detection recorded by the benchmarks (neurosim/_cpuinfo.py)."""

import neurosim._cpuinfo as ci
from neurosim.bench._report import env_line, environment


def test_flags_map_to_features():
    f = ci.cpu_features({"fpu", "avx2", "avx512f", "avx512_vpopcntdq"})
    assert f["AVX2"] and f["AVX-512F"] and f["AVX512-VPOPCNTDQ"]
    g = ci.cpu_features({"fpu", "avx", "avx2", "popcnt"})
    assert g["AVX2"] and not g["AVX-512F"] and not g["AVX512-VPOPCNTDQ"]


def test_summary_names_the_set_and_the_xla_cap():
    avx2 = {"AVX2": True, "AVX-512F": False, "AVX512-VPOPCNTDQ": False, "NEON": False}
    avx512 = {"AVX2": True, "AVX-512F": True, "AVX512-VPOPCNTDQ": True, "NEON": False}
    assert ci.isa_summary(avx2, max_isa="") == "AVX2, no AVX-512"
    assert ci.isa_summary(avx512, max_isa="AVX2") == "AVX-512F + VPOPCNTDQ, XLA capped at AVX2"
    assert ci.xla_max_isa("--foo=1 --xla_cpu_max_isa=avx2") == "AVX2"
    assert ci.xla_max_isa("--foo=1") is None


def test_every_benchmark_header_carries_the_instruction_set():
    env = environment()
    assert env["cpu_isa"] == ci.isa_summary()
    assert "instruction set: " + env["cpu_isa"] in env_line(env)


def test_isa_tag_follows_the_xla_cap():
    avx2 = {"AVX2": True, "AVX-512F": False, "AVX512-VPOPCNTDQ": False, "NEON": False}
    avx512 = {"AVX2": True, "AVX-512F": True, "AVX512-VPOPCNTDQ": True, "NEON": False}
    arm = {"AVX2": False, "AVX-512F": False, "AVX512-VPOPCNTDQ": False, "NEON": True}
    assert ci.isa_tag(avx512, max_isa="") == "avx512"
    assert ci.isa_tag(avx512, max_isa="AVX512_VNNI") == "avx512"
    assert ci.isa_tag(avx512, max_isa="AVX2") == "avx2"
    assert ci.isa_tag(avx512, max_isa="SSE4_2") == "baseline"
    assert ci.isa_tag(avx2, max_isa="") == "avx2"
    assert ci.isa_tag(avx2, max_isa="AVX512") == "avx2"  # a cap never adds what the CPU lacks
    assert ci.isa_tag(arm, max_isa="") == "neon"
