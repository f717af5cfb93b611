"""comparison's claims about its JAX rows that the other tabs' tests do not
check: the speeds of Flax's layers against our code (measured in the JAX
tab only), read from the built notebooks. (The claims of the shared text
are checked for every framework by test_book.py and test_surprisal.py;
char_predictions itself, in process, by env_jax/test_comparison.py.)"""
import re

import outputs

SECTION = 'chapter_rnn/comparison'


def jax_speeds():
    """{(model, impl): tokens per second} of the JAX tab's table."""
    text = outputs.output(SECTION, 'short_budget, budget = 3, 8', 'jax')
    speeds = {}
    for line in text.strip().split('\n')[1:]:
        m = re.match(r'^(.+?)\s+jax\s+(scratch|nnx)\s+\d+\s+(\d+)\s', line)
        if m:
            speeds[(m.group(1).strip(), m.group(2))] = float(m.group(3))
    return speeds


def test_flax_layers_train_about_as_fast_as_our_code(measured):
    # "In JAX, jax.jit compiles both versions alike ... for no cell does
    # Flax's layer or our code train half again as fast as the other."
    # (1.5 times: a ratio between 1 / 1.5 and 1.5.)
    speeds = jax_speeds()
    assert len(speeds) == 9, speeds
    ratio = {model: speeds[(model, 'nnx')] / speeds[(model, 'scratch')]
             for model in ('RNN', 'GRU', 'LSTM')}
    measured(**{f'{model}_nnx_over_scratch': r
                for model, r in ratio.items()})
    assert all(1 / 1.5 < r < 1.5 for r in ratio.values()), ratio


def test_the_jax_tab_scores_with_one_compiled_function():
    # "One function, compiled by nnx.jit on its first call, scores every
    # minibatch; it never calls the model's dropout layer."
    code = outputs.code_sources(SECTION, 'jax')
    start = code.index('def char_predictions(')
    body = code[start:code.index('\ndef ', start)]
    assert body.count('@nnx.jit') == 1
    assert 'model.dropout' not in body and 'model(' not in body
