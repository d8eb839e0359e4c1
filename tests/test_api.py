"""The Python API as a new user meets it: imports from the repo root, defaults tied to the run,
solutions in the problem's variables, overflow reported."""

import os
import subprocess
import sys
import sysconfig

import networkx as nx
import numpy as np
import pytest

import neurosim as ns

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_models_and_hardware_import_from_the_repo_root_without_an_install():
    """Python started at the repo root imports the local neurosim/ (shadowing any installed copy);
    models/ and hardware/ must be found from it. No .pth files (-S): as after a plain `pip install .`."""
    env = dict(os.environ, PYTHONPATH=sysconfig.get_paths()["purelib"])
    code = "import neurosim.models, neurosim.hardware; from neurosim.models import SA; from neurosim.hardware import LOIHI2; print(neurosim.models.__file__)"
    out = subprocess.run([sys.executable, "-S", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == os.path.join(ROOT, "models", "__init__.py")
