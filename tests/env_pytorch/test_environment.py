"""The PyTorch tab's environment (.venv-pytorch) is what its pins say, with
the numpy a reader of that tab gets and no MXNet."""
import importlib.util
import sys

import numpy as np
import torch

sys.path.insert(0, __file__.rsplit('/', 2)[0])
from env_pins import mismatches, pins  # noqa: E402


def test_every_pin_is_installed_exactly():
    assert mismatches('build/pins-pytorch.txt') == {}


def test_numpy_2_and_torch_2_13_without_mxnet_or_jax():
    assert sys.version_info[:2] == (3, 11)
    assert np.__version__ == pins('build/pins-pytorch.txt')['numpy']
    assert int(np.__version__.split('.')[0]) == 2
    assert torch.__version__.split('+')[0] == '2.13.0'
    for name in ['mxnet', 'jax', 'flax']:
        assert importlib.util.find_spec(name) is None, name
