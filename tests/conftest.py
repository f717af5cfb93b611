"""Shared fixtures of the test suite.

The tests run in the build tools' environment (.venv), except the folders
env_pytorch/ and env_jax/, which `make test` runs with that tab's own
environment's Python (.venv-pytorch, .venv-jax): there they check what a
reader of that tab has. They are not collected where mxnet is installed,
which only .venv has.
"""
import os
import sys
from importlib.util import find_spec

import pytest

if find_spec('mxnet') is not None:
    collect_ignore = ['env_pytorch', 'env_jax']

# The tests run notebooks and train small models as the build does: one
# math thread per process (build/evaluate.py's KERNEL_THREADS), set before
# any test module imports torch or mxnet. With two threads and another
# process holding a core, PyTorch's steps stall (docs/measurements.md).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'build'))
from evaluate import KERNEL_THREADS  # noqa: E402

if 'OMP_NUM_THREADS' not in os.environ:
    os.environ.update(KERNEL_THREADS)


@pytest.fixture
def measured(record_property):
    """Record the values a check measured, for `make robustness`'s table.

    measured(val=4.52, ratio=2.3) shows as "val=4.52 ratio=2.3" in the
    check's row (floats rounded to 3 significant digits).
    """
    def record(**values):
        for name, value in values.items():
            if isinstance(value, float):
                value = float('%.3g' % value)
            record_property(name, value)
    return record
