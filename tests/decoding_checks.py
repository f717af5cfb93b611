"""Checks of chapter_rnn/decoding.md's saved helpers that are the same in
every tab, written once and run by each tab's tests in that tab's
environment: tests/test_gluonbook.py (MXNet, .venv),
tests/env_pytorch/test_gluonbook_torch.py and tests/env_jax/test_decoding.py.

The probability helpers (`softmax_with_temperature`, `top_k_probs`,
`top_p_probs`) are NumPy code that `make lib` writes into every module, so
their checks take the module `gb` and nothing else. The decoders differ by
framework in how they are called (a context, a device or a key), so what is
shared for them is data: the stand-in table of next-character probabilities
with the texts beam search must find in it, and the bad arguments with the
message each must raise. This module imports NumPy only.
"""
import math

import numpy as np

# The stand-ins' vocabulary: five characters.
VOCAB = list('abcde')
CHAR_TO_IDX = {c: i for i, c in enumerate(VOCAB)}


def check_softmax_with_temperature(gb):
    np.testing.assert_allclose(
        gb.softmax_with_temperature([0, np.log(2)], 1), [1 / 3, 2 / 3])
    np.testing.assert_allclose(
        gb.softmax_with_temperature([0, np.log(2)], 0.5), [1 / 5, 4 / 5])
    scores = np.float32([2.0, 1.0, 0.0, -1.0])
    # As the temperature goes to 0: all mass on the largest score, in
    # float64 whatever the scores' type, and no overflow for large scores;
    # to infinity: uniform.
    cold = gb.softmax_with_temperature(scores, 1e-3)
    assert cold.dtype == np.float64
    assert cold[0] == 1 and cold[1:].max() < 1e-300
    big = gb.softmax_with_temperature(np.float32([1000.0, 999.0]), 0.01)
    assert big[0] == 1 and big[1] < 1e-40
    np.testing.assert_allclose(gb.softmax_with_temperature(scores, 1e6),
                               np.full(4, 0.25), atol=1e-6)
    # Sharper below 1, flatter above: the largest probability falls as the
    # temperature rises.
    largest = [gb.softmax_with_temperature(scores, t)[0]
               for t in (0.25, 0.5, 1, 2, 4)]
    assert all(a > b for a, b in zip(largest, largest[1:]))


def check_top_k(gb):
    probs = np.array([0.1, 0.4, 0.2, 0.3])
    np.testing.assert_allclose(gb.top_k_probs(probs, 2),
                               [0, 4 / 7, 0, 3 / 7])
    np.testing.assert_allclose(gb.top_k_probs(probs, 1), [0, 1, 0, 0])
    np.testing.assert_allclose(gb.top_k_probs(probs, 4), probs)
    # Ties go to the lower index, as with argmax.
    np.testing.assert_allclose(gb.top_k_probs(np.full(4, 0.25), 2),
                               [0.5, 0.5, 0, 0])
    rng = np.random.default_rng(0)
    for k in range(1, 11):
        probs = rng.dirichlet(np.ones(10))
        kept = gb.top_k_probs(probs, k)
        assert np.count_nonzero(kept) == k
        assert set(np.flatnonzero(kept)) == set(np.argsort(-probs)[:k])
        assert math.isclose(kept.sum(), 1)
        np.testing.assert_allclose(kept[kept > 0],
                                   probs[kept > 0] / probs[kept > 0].sum())


def check_top_p(gb):
    probs = np.array([0.1, 0.4, 0.2, 0.3])
    # 0.4 + 0.3 reaches 0.6 and 0.7; 0.4 alone reaches 0.4; 0.71 needs
    # three; p = 1 keeps all.
    np.testing.assert_allclose(gb.top_p_probs(probs, 0.6),
                               [0, 4 / 7, 0, 3 / 7])
    np.testing.assert_allclose(gb.top_p_probs(probs, 0.7),
                               [0, 4 / 7, 0, 3 / 7])
    np.testing.assert_allclose(gb.top_p_probs(probs, 0.4), [0, 1, 0, 0])
    np.testing.assert_allclose(gb.top_p_probs(probs, 0.71),
                               [0, 4 / 9, 2 / 9, 3 / 9])
    np.testing.assert_allclose(gb.top_p_probs(probs, 1), probs)
    thirds = np.full(3, 1 / 3)  # the running sum may stay just below 1
    np.testing.assert_allclose(gb.top_p_probs(thirds, 1), thirds)
    rng = np.random.default_rng(1)
    for p in [0.05, 0.3, 0.5, 0.9, 0.99]:
        probs = rng.dirichlet(np.ones(10))
        kept = gb.top_p_probs(probs, p)
        n = np.count_nonzero(kept)
        sorted_probs = np.sort(probs)[::-1]
        # The n largest reach p; the n - 1 largest do not.
        assert sorted_probs[:n].sum() >= p > sorted_probs[:n - 1].sum()
        assert set(np.flatnonzero(kept)) == set(np.argsort(-probs)[:n])
        assert math.isclose(kept.sum(), 1)


# A text that greedy decoding misses. After 'a': 'b' 0.6, 'c' 0.4. After
# 'b' every character is equally likely; after 'c', 'd' is nearly certain.
# Greedy takes 'b' and ends with probability 0.6 * 0.2 = 0.12; 'cd' has
# 0.4 * 0.96. Row i is the distribution after VOCAB[i].
_EPS = 0.01
BEAM_TABLE = [[_EPS, 0.6 - _EPS, 0.4 - 2 * _EPS, _EPS, _EPS],  # after 'a'
              [0.2] * 5,                                        # after 'b'
              [_EPS, _EPS, _EPS, 0.96, _EPS],                   # after 'c'
              [0.96, _EPS, _EPS, _EPS, _EPS],                   # after 'd'
              [0.96, _EPS, _EPS, _EPS, _EPS]]                   # after 'e'
# (prefix, num_chars, beam_width, the text beam search returns). Width 1
# is greedy; three steps of width 2 give 'acda' (0.4 * 0.96 * 0.96), which
# beats every 'ab.'.
BEAM_CASES = [('a', 2, 1, 'aba'), ('a', 2, 2, 'acd'), ('a', 3, 2, 'acda')]
GREEDY_ON_TABLE = 'aba'  # greedy decoding of 2 characters after 'a'

# (decoder, prefix, arguments, the message it raises) for a decoder of
# VOCAB, called with 3 characters to predict unless the arguments say
# num_chars. predict_top_k and predict_top_p take k and p as they are
# given here.
_K = 'k must be a whole number from 1 to vocab_size = 5, got '
_P = r'p must be in \(0, 1\], got '
_WIDTH = 'beam_width must be a whole number >= 1, got '
BAD_ARGUMENTS = [
    ('predict_sample', 'ab', {'temperature': 0},
     'temperature must be > 0, got 0'),
    ('predict_sample', 'ab', {'temperature': -1.5},
     'temperature must be > 0, got -1.5'),
    ('predict_sample', 'ab', {'k': 0}, _K + '0'),
    ('predict_sample', 'ab', {'k': -2}, _K + '-2'),
    ('predict_sample', 'ab', {'k': 6}, _K + '6'),
    ('predict_sample', 'ab', {'k': 2.5}, _K + '2.5'),
    ('predict_top_k', 'ab', {'k': 0}, _K + '0'),
    ('predict_sample', 'ab', {'p': 0}, _P + '0'),
    ('predict_sample', 'ab', {'p': -0.5}, _P + '-0.5'),
    ('predict_sample', 'ab', {'p': 1.01}, _P + '1.01'),
    ('predict_top_p', 'ab', {'p': 2}, _P + '2'),
    ('predict_beam_search', 'ab', {'beam_width': 0}, _WIDTH + '0'),
    ('predict_beam_search', 'ab', {'beam_width': 1.5}, _WIDTH + '1.5'),
    ('predict_sample', '', {}, 'prefix is empty'),
    ('predict_beam_search', '', {'beam_width': 2}, 'prefix is empty'),
    ('predict_sample', 'abx', {}, "contains 'x', which is not in"),
    ('predict_beam_search', 'abx', {'beam_width': 2},
     "contains 'x', which is not in"),
    ('predict_sample', 'ab', {'num_chars': -1},
     'num_chars must be >= 0, got -1'),
    ('predict_top_k', 'ab', {'num_chars': -1, 'k': 2},
     'num_chars must be >= 0, got -1'),
    ('predict_top_p', 'ab', {'num_chars': -1, 'p': 0.5},
     'num_chars must be >= 0, got -1'),
    ('predict_beam_search', 'ab', {'num_chars': -1, 'beam_width': 2},
     'num_chars must be >= 0, got -1'),
]
# Each case's test id: the decoder and what is wrong.
BAD_ARGUMENT_IDS = [
    f'{name[len("predict_"):]}-{prefix!r}-' + ','.join(
        f'{key}={value}' for key, value in kwargs.items())
    for name, prefix, kwargs, _ in BAD_ARGUMENTS]


# Sampling from the stand-in that scores the character after its input 1
# and the others 0 (each tab's NextCharModel). `sample(prefix, num_chars,
# **kwargs)` is that tab's predict_sample on the stand-in, with its random
# numbers drawn from a fixed seed or key.

# Arguments that leave one character to draw: sampling is then greedy.
ONE_CHARACTER_LEFT = [{'temperature': 0.01}, {'k': 1},
                      {'p': 0.1, 'temperature': 3}]
GREEDY_AFTER_DA = 'dabcdeabcd'  # 8 characters after 'da'


def check_sampling_keeps_one_character_greedy(sample):
    for kwargs in ONE_CHARACTER_LEFT:
        assert sample('da', 8, **kwargs) == GREEDY_AFTER_DA, kwargs


def _transitions(text):
    return list(zip(map(CHAR_TO_IDX.get, text), map(CHAR_TO_IDX.get,
                                                     text[1:])))


def check_sampling_follows_the_model_distribution(sample):
    # At temperature 1 the character after the input has probability
    # e / (e + 4) = 0.405; with k = 2 it is e / (e + 1) = 0.731, and only
    # it or the lowest other index is ever drawn; at temperature 2,
    # e^0.5 / (e^0.5 + 4) = 0.292.
    n = 2000
    for kwargs, expected in [({}, np.e / (np.e + 4)),
                             ({'k': 2}, np.e / (np.e + 1)),
                             ({'temperature': 2},
                              np.exp(0.5) / (np.exp(0.5) + 4))]:
        text = sample('a', n, **kwargs)
        hits = sum(b == (a + 1) % len(VOCAB) for a, b in _transitions(text))
        # Binomial standard deviation: at most sqrt(0.25 / n) = 0.011.
        assert abs(hits / n - expected) < 0.035, (kwargs, hits)
        if 'k' in kwargs:
            for a, b in _transitions(text):
                after = (a + 1) % len(VOCAB)
                assert b in (after, 1 if after == 0 else 0)
        else:  # every character is drawn now and then
            assert set(text) == set(VOCAB)
