"""gluonbook: the helpers that the RNN chapter saves for later sections.

Two modules, both generated from the chapter's ``#@save`` cells by
``make lib``:

* ``chapter_rnn.py``, the MXNet (Gluon) tab's helpers, which this package
  exports: ``import gluonbook as gb; gb.rnn(...)``, as in gluonbook 0.8;
* ``torch.py``, the PyTorch tab's: ``from gluonbook import torch as gb``;
* ``jax.py``, the JAX tab's: ``from gluonbook import jax as gb``.

The MXNet module is imported on first use of one of its names, so that
importing ``gluonbook.torch`` or ``gluonbook.jax`` never imports mxnet.
"""
import importlib

__version__ = '0.9.0'
_SUBMODULES = ('chapter_rnn', 'torch', 'jax')


def _mxnet_helpers():
    return importlib.import_module('.chapter_rnn', __name__)


def __getattr__(name):
    # Also called for `__all__`, by `from gluonbook import *`.
    if name.startswith('__') and name != '__all__':
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    if name in _SUBMODULES:
        # `from gluonbook import torch` asks for the attribute first.
        return importlib.import_module('.' + name, __name__)
    try:
        module = _mxnet_helpers()
    except ImportError as e:
        # An AttributeError, as hasattr() and IPython expect, that says why.
        raise AttributeError(
            f'module {__name__!r} has no attribute {name!r}: the MXNet '
            f'helpers (gluonbook.chapter_rnn) cannot be imported ({e}); '
            'for the PyTorch helpers use `from gluonbook import torch as '
            'gb`') from e
    try:
        return getattr(module, name)
    except AttributeError:
        raise AttributeError(
            f'module {__name__!r} has no attribute {name!r}') from None


def __dir__():
    try:
        names = _mxnet_helpers().__all__
    except ImportError:  # no mxnet: list what is here
        names = _SUBMODULES
    return sorted(set(globals()) | set(names))
