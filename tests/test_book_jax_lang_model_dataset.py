"""Claims that only the JAX tab of lang-model-dataset makes, checked on the
executed notebooks (run in .venv; no jax needed)."""
import outputs
from outputs import output

SECTION = 'chapter_rnn/lang-model-dataset'


def test_jax_random_order_is_that_of_the_other_tabs():
    # "The order is drawn by Python's random.shuffle, as in the other tabs
    # ...: with the same seed all three tabs serve the subsequences in the
    # same order."
    snippet = 'for X, Y in data_iter_random(my_seq'
    texts = {tab: output(SECTION, snippet, tab) for tab in outputs.TABS}
    assert texts['jax'].count('X: [[') == 2
    assert texts['jax'] == texts['pytorch'] == texts['mxnet']


def test_jax_iterators_yield_int32():
    # "They yield int32 arrays": the iterators convert to np.int32 (and
    # tests/env_jax/test_core.py checks the arrays' dtype).
    sources = outputs.code_sources(SECTION, 'jax')
    assert sources.count('dtype=np.int32') == 3
