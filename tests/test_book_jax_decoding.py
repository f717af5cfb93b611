"""decoding's JAX tab: its code is the other tabs' counterpart, and what its
own prose says of keys, of the one compiled step and of the weights it
exports for the page is what the built notebook and its files show. (The
claims that every tab makes are checked by test_book.py's
tab-parametrized tests; the decoders themselves, in process, by
env_jax/test_decoding.py.)"""
import base64
import json
import os
import re

import numpy as np

import outputs

SECTION = 'chapter_rnn/decoding'


def shared_outputs(tabs=('mxnet', 'jax'), skip='sys.path'):
    """{source: (output per tab)} of the cells that the tabs' notebooks
    share, but for those containing skip (the imports)."""
    result = []
    for tab in tabs:
        nb = outputs.read_notebook(SECTION, tab=tab)
        result.append({c.source: outputs.cell_output(nb, c.source)
                       for c in nb.cells if c.cell_type == 'code'
                       and skip not in c.source})
    common = set.intersection(*(set(r) for r in result))
    return {s: tuple(r[s] for r in result) for s in common}


def test_jax_decoding_shares_the_numpy_cells():
    # softmax_with_temperature, top_k_probs, top_p_probs and the toy
    # distributions are one code for all tabs, with the same outputs.
    shared = shared_outputs()
    for snippet in ['def softmax_with_temperature(', 'toy_scores = [',
                    'def top_k_probs(', 'toy_probs = softmax_with_',
                    'fig, ax = plt.subplots(']:
        (source,) = [s for s in shared if snippet in s]
        mxnet, jax = shared[source]
        assert mxnet == jax, source
    jax = outputs.code_sources(SECTION, 'jax')
    assert 'mxnet' not in jax and 'torch' not in jax


def test_jax_decoders_draw_with_keys_from_set_seed():
    # "JAX has no hidden random state: the caller passes a PRNG key ...
    # the keys of this section all come from the one that gb.set_seed
    # returned": one root key, split for every use; nothing drawn with
    # NumPy's or Python's generators.
    jax = outputs.code_sources(SECTION, 'jax')
    assert jax.count('key = gb.set_seed()') == 1
    assert 'np.random' not in jax and 'random.' not in jax.replace(
        'jax.random.', '')
    assert 'jax.random.choice(subkey' in jax
    assert 'key, subkey = jax.random.split(key)' in jax
    # Every sampler call of the table gets a key of its own.
    assert 'key, sample_key = jax.random.split(key)' in jax


TRACE_LINE = re.compile(r'^tokens of shape \((\d+), (\d+)\): traced '
                        r'(\d+) time\(s\)$')


def test_score_step_is_traced_once_per_shape():
    # "score_step was traced once for each shape of its tokens: the
    # perplexity's minibatches, the single character ..., the beams of
    # width 4 and 8, and the two padded lengths of the scored texts ...;
    # never again for a new prefix or a new number of characters."
    text = outputs.output(SECTION, "print('tokens of shape %s: traced",
                          'jax')
    traces = {}
    for line in text.strip().split('\n'):
        m = TRACE_LINE.match(line)
        assert m, line
        traces[int(m.group(1)), int(m.group(2))] = int(m.group(3))
    assert set(traces.values()) == {1}
    padded = sorted(n for (b, n) in traces if b == 1 and n > 1)
    assert len(padded) == 2 and all(n % 64 == 0 for n in padded)
    assert set(traces) == {(32, 35), (1, 1), (4, 1), (8, 1)} | {
        (1, n) for n in padded}
    # The prefixes of the table have five different lengths and the
    # decoders wrote 45 texts of them.
    jax = outputs.code_sources(SECTION, 'jax')
    assert "prefixes = ['the time traveller ', 'the machine ', 'it was ', " \
        "'i saw ',\n            'we ']" in jax
    assert len({len(p) for p in ['the time traveller ', 'the machine ',
                                 'it was ', 'i saw ', 'we ']}) == 5
    # "(Greedy decoding runs through gb.predict_rnn_jax's own compiled
    # step.)"
    assert "('greedy', gb.predict_rnn_jax, {})" in jax


def test_jax_exported_weights_have_flax_biases_on_one_side():
    # "writes the four biases as b_hh and zeros as b_ih": the file the
    # JAX tab wrote has an all-zero b_ih and a b_hh that is not zero.
    path = os.path.join(outputs.eval_dir('jax'), 'chapter_rnn', 'results',
                        'lstm-jax.js')
    with open(path) as f:
        text = f.read()
    spec = json.loads(text[text.index('] = ') + 4:].rstrip()
                              .rstrip(';'))
    weights = {k: np.frombuffer(base64.b64decode(w['data']),
                                dtype='<f4').reshape(w['shape'])
               for k, w in spec['weights'].items()}
    assert spec['vocab'] == list(' abcdefghijklmnopqrstuvwxyz')
    assert not weights['b_ih'].any() and weights['b_hh'].any()
    assert weights['W_ih'].shape == (1024, 27)
    assert weights['W_out'].shape == (27, 256)
