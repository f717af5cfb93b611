"""gluonbook: the helpers that the RNN chapter saves for later sections.

Everything public comes from ``chapter_rnn.py``, which is generated from the
chapter's ``#@save`` cells by ``make lib``.
"""
from .chapter_rnn import *  # noqa: F401,F403
from .chapter_rnn import __all__  # noqa: F401

__version__ = '0.9.0'
