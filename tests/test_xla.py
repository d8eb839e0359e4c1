"""XLA:CPU defaults applied at import (neurosim/_xla.py)."""

import os
import subprocess
import sys

from neurosim import _xla


def test_flag_is_added_or_merged():
    assert _xla.with_small_loop_threshold("") == f"--xla_backend_extra_options={_xla.OPTION}={_xla.VALUE}"
    merged = _xla.with_small_loop_threshold("--xla_force_host_platform_device_count=4 --xla_backend_extra_options=a=1")
    assert merged == f"--xla_force_host_platform_device_count=4 --xla_backend_extra_options=a=1,{_xla.OPTION}={_xla.VALUE}"


def _flags_after_import(**env):
    e = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "NEUROSIM_XLA_DEFAULTS")}
    e.update(env)
    code = "import neurosim, os, jax; jax.numpy.zeros(1).block_until_ready(); print(os.environ.get('XLA_FLAGS', ''))"
    return subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True, check=True).stdout.strip()


def test_import_sets_the_threshold_unless_opted_out_or_set():
    assert f"{_xla.OPTION}={_xla.VALUE}" in _flags_after_import()
    assert _xla.OPTION not in _flags_after_import(NEUROSIM_XLA_DEFAULTS="0")
    mine = f"--xla_backend_extra_options={_xla.OPTION}=4096"
    assert _flags_after_import(XLA_FLAGS=mine) == mine


def test_import_after_jax_started_changes_nothing():
    e = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS",)}
    code = "import jax; jax.devices(); import neurosim, os; print(repr(os.environ.get('XLA_FLAGS')))"
    out = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True, check=True).stdout.strip()
    assert out == "None"
