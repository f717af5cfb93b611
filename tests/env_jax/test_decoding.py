"""chapter_rnn/decoding.md's JAX helpers, in the JAX tab's environment:
the tempered softmax and its limits, what top-k and top-p keep, sampling
with explicit PRNG keys (the distribution drawn from, the support after a
cut, the same key giving the same text), beam search (width 1 is greedy
decoding, a wider beam finds what greedy misses, each beam keeps its own
state), one compiled step whatever the prefix, and the errors."""
import math

import jax
import numpy as np
import pytest
from flax import nnx
from jax import numpy as jnp

from gluonbook import jax as gb

VOCAB = list('abcde')
CHAR_TO_IDX = {c: i for i, c in enumerate(VOCAB)}
ALPHABET = list(' abcdefghijklmnopqrstuvwxyz')
ALPHABET_TO_IDX = {c: i for i, c in enumerate(ALPHABET)}


class NextCharModel(nnx.Module):
    """A stand-in RNNModel whose scores are 1 for the character after its
    input and 0 for the others."""
    def __init__(self, vocab_size=len(VOCAB)):
        self.vocab_size = vocab_size
        self.weight = nnx.Param(jnp.ones(()))

    def __call__(self, inputs, state):
        # inputs: (batch_size, num_steps); rows time step major.
        after = (inputs.T.reshape(-1) + 1) % self.vocab_size
        return self.weight[...] * jax.nn.one_hot(after, self.vocab_size), state

    def begin_state(self, batch_size):
        return jnp.zeros((1, batch_size, 1))


class TableModel(nnx.Module):
    """A stand-in whose next-character probabilities are a fixed table."""
    def __init__(self, table):
        self.log_table = nnx.Param(jnp.log(jnp.array(table)))

    def __call__(self, inputs, state):
        return self.log_table[...][inputs.T.reshape(-1)], state

    def begin_state(self, batch_size):
        return jnp.zeros((1, batch_size, 1))


def small_model(seed, cell=nnx.LSTMCell, num_hiddens=32, vocab=ALPHABET,
                scale=2.0):
    """An untrained gb.RNNModel with weights large enough to prefer some
    text."""
    rngs = nnx.Rngs(seed)
    model = gb.RNNModel(nnx.RNN(cell(len(vocab), num_hiddens, rngs=rngs)),
                        len(vocab), rngs=rngs)
    keys = iter(jax.random.split(jax.random.key(seed), 64))
    for _, param in nnx.iter_graph(model):
        if isinstance(param, nnx.Param):
            param[...] = scale * jax.random.normal(next(keys), param.shape)
    return model


def decode(decoder, prefix, num_chars, model=None, **kwargs):
    return decoder(prefix, num_chars, model or NextCharModel(), len(VOCAB),
                   VOCAB, CHAR_TO_IDX, **kwargs)


KEY = jax.random.key(0)

# --- the distributions ------------------------------------------------------


def test_softmax_with_temperature_and_its_limits():
    np.testing.assert_allclose(
        gb.softmax_with_temperature([0, np.log(2)], 1), [1 / 3, 2 / 3])
    np.testing.assert_allclose(
        gb.softmax_with_temperature([0, np.log(2)], 0.5), [1 / 5, 4 / 5])
    scores = np.float32([2.0, 1.0, 0.0, -1.0])
    # As the temperature goes to 0: all mass on the largest score (no
    # overflow for large scores); to infinity: uniform.
    cold = gb.softmax_with_temperature(scores, 1e-3)
    assert cold.dtype == np.float64
    assert cold[0] == 1 and cold[1:].max() < 1e-300
    big = gb.softmax_with_temperature(np.float32([1000.0, 999.0]), 0.01)
    assert big[0] == 1 and big[1] < 1e-40
    np.testing.assert_allclose(gb.softmax_with_temperature(scores, 1e6),
                               np.full(4, 0.25), atol=1e-6)
    # Sharper below 1, flatter above: the largest probability falls with
    # the temperature.
    largest = [gb.softmax_with_temperature(scores, t)[0]
               for t in (0.25, 0.5, 1, 2, 4)]
    assert all(a > b for a, b in zip(largest, largest[1:]))


def test_top_k_keeps_the_k_largest_renormalised():
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


def test_top_p_keeps_the_fewest_largest_reaching_p():
    probs = np.array([0.1, 0.4, 0.2, 0.3])
    # 0.4 + 0.3 reaches 0.6 and 0.7; 0.4 alone reaches 0.4; p = 1 keeps
    # all.
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


# --- sampling with keys -----------------------------------------------------

@pytest.mark.parametrize('kwargs', [{'temperature': 0.01}, {'k': 1},
                                    {'p': 0.1, 'temperature': 3}])
def test_sampling_that_keeps_one_character_is_greedy(kwargs):
    # The stand-in scores its next character 1 and the others 0.
    assert decode(gb.predict_sample, 'da', 8, key=KEY,
                  **kwargs) == 'dabcdeabcd'


def transitions(text):
    return list(zip(map(CHAR_TO_IDX.get, text), map(CHAR_TO_IDX.get,
                                                     text[1:])))


def test_sampling_follows_the_model_distribution_and_the_cut():
    # At temperature 1 the character after the input has probability
    # e / (e + 4) = 0.405; with k = 2 it is e / (e + 1) = 0.731, and only
    # it or the lowest other index is ever drawn; at temperature 2,
    # e^0.5 / (e^0.5 + 4) = 0.292.
    n = 2000
    for kwargs, expected in [({}, np.e / (np.e + 4)),
                             ({'k': 2}, np.e / (np.e + 1)),
                             ({'temperature': 2},
                              np.exp(0.5) / (np.exp(0.5) + 4))]:
        text = decode(gb.predict_sample, 'a', n, key=KEY, **kwargs)
        hits = sum(b == (a + 1) % len(VOCAB) for a, b in transitions(text))
        # Binomial standard deviation: at most sqrt(0.25 / n) = 0.011.
        assert abs(hits / n - expected) < 0.035, (kwargs, hits)
        if 'k' in kwargs:
            for a, b in transitions(text):
                after = (a + 1) % len(VOCAB)
                assert b in (after, 1 if after == 0 else 0)
        else:  # every character is drawn now and then
            assert set(text) == set(VOCAB)


def test_nucleus_sampling_draws_only_from_the_nucleus():
    # After 'a': 'b' 0.5, 'c' 0.3, 'd' 0.15, 'e' 0.04, 'a' 0.01. With
    # p = 0.8 the nucleus is {'b', 'c'}, drawn 5 : 3; with p = 0.9 'd'
    # joins it.
    row = [0.01, 0.5, 0.3, 0.15, 0.04]
    model = TableModel([row] * len(VOCAB))
    for p, support in [(0.8, {'b', 'c'}), (0.9, {'b', 'c', 'd'})]:
        text = decode(gb.predict_sample, 'a', 1000, model, key=KEY, p=p)
        assert set(text[1:]) == support, p
        if p == 0.8:
            assert abs(text[1:].count('b') / 1000 - 5 / 8) < 0.05


def test_the_same_key_gives_the_same_sample():
    model = small_model(1)
    key, other = jax.random.split(jax.random.key(3))
    args = (model, len(ALPHABET), ALPHABET, ALPHABET_TO_IDX)
    texts = [gb.predict_sample('the ', 40, *args, k)
             for k in (key, key, other)]
    assert texts[0] == texts[1] != texts[2]
    assert gb.predict_top_k('the ', 40, *args, key, k=3) == \
        gb.predict_top_k('the ', 40, *args, key, k=3)
    assert gb.predict_top_p('the ', 40, *args, key, p=0.8) == \
        gb.predict_sample('the ', 40, *args, key, p=0.8)
    # The keys of the book come from gb.set_seed: the same seed gives the
    # same key and the same text.
    seeded = [gb.predict_sample('the ', 40, *args, gb.set_seed(seed))
              for seed in (0, 0, 1)]
    assert seeded[0] == seeded[1] != seeded[2]


def test_draw_splits_the_key_and_never_draws_a_zero():
    key = jax.random.key(0)
    probs = np.array([0.0, 0.5, 0.0, 0.5, 0.0])
    drawn = []
    for _ in range(200):
        new_key, index = gb.draw(key, probs)
        assert not np.array_equal(jax.random.key_data(new_key),
                                  jax.random.key_data(key))
        key = new_key
        drawn.append(int(index))
    assert set(drawn) == {1, 3}


def test_decoders_predict_without_dropout_and_leave_training_mode():
    # A model with dropout: were it active while decoding, the scores
    # would not be the model's, and the decoders that keep only the best
    # character would not write greedy decoding's text.
    rngs = nnx.Rngs(0)
    model = gb.RNNModel(nnx.RNN(nnx.LSTMCell(27, 32, rngs=rngs)), 27,
                        dropout=0.5, rngs=rngs)
    keys = iter(jax.random.split(jax.random.key(1), 64))
    for _, param in nnx.iter_graph(model):
        if isinstance(param, nnx.Param):
            param[...] = 2.0 * jax.random.normal(next(keys), param.shape)
    args = (model, 27, ALPHABET, ALPHABET_TO_IDX)
    greedy = gb.predict_rnn_jax('the ', 30, *args)
    assert gb.predict_sample('the ', 30, *args, KEY, k=1) == greedy
    assert gb.predict_beam_search('the ', 30, *args, beam_width=1) == greedy
    dropouts = [m for _, m in nnx.iter_graph(model)
                if isinstance(m, nnx.Dropout)]
    assert dropouts and not any(d.deterministic for d in dropouts)


# --- beam search ------------------------------------------------------------

@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('cell', [nnx.LSTMCell, nnx.GRUCell])
def test_beam_search_of_width_one_is_greedy(seed, cell):
    # An LSTM's state is a tuple (H, C), a GRU's one array.
    model = small_model(seed, cell)
    for prefix in ['t', 'the time ', 'zq']:
        greedy = gb.predict_rnn_jax(prefix, 60, model, 27, ALPHABET,
                                    ALPHABET_TO_IDX)
        # Not a trivial model: 6 to 15 different characters for these.
        assert len(set(greedy[len(prefix):])) >= 5
        assert gb.predict_beam_search(prefix, 60, model, 27, ALPHABET,
                                      ALPHABET_TO_IDX, beam_width=1) == greedy
    assert decode(gb.predict_beam_search, 'da', 4, beam_width=1) == 'dabcde'
    assert decode(gb.predict_beam_search, 'ca', 0, beam_width=3) == 'ca'


def test_beam_search_finds_the_likelier_text_that_greedy_misses():
    # After 'a': 'b' 0.6, 'c' 0.4. After 'b' every character is equally
    # likely; after 'c', 'd' is nearly certain. Greedy takes 'b' and ends
    # with probability 0.6 * 0.2 = 0.12; 'cd' has 0.4 * 0.96.
    eps = 0.01
    table = [[eps, 0.6 - eps, 0.4 - 2 * eps, eps, eps],  # after 'a'
             [0.2] * 5,                                  # after 'b'
             [eps, eps, eps, 0.96, eps],                 # after 'c'
             [0.96, eps, eps, eps, eps],                 # after 'd'
             [0.96, eps, eps, eps, eps]]                 # after 'e'
    model = TableModel(table)
    assert decode(gb.predict_beam_search, 'a', 2, model, beam_width=1) == \
        'aba'
    assert decode(gb.predict_beam_search, 'a', 2, model, beam_width=2) == \
        'acd'
    assert decode(gb.predict_beam_search, 'a', 3, model, beam_width=2) == \
        'acda'


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('cell', [nnx.LSTMCell, nnx.GRUCell])
def test_beam_search_wide_enough_is_exhaustive_search(seed, cell):
    # With 5 characters and width 25, beam search keeps every
    # continuation for two steps and picks the best of all 125 of three
    # characters: it must find the likeliest, as scored by running the
    # model over each whole text. Each beam's state must follow it.
    model = small_model(seed, cell, vocab=VOCAB, scale=1.0)
    for prefix in ['ab', 'e', 'dcb']:
        start = [CHAR_TO_IDX[c] for c in prefix]
        texts = np.array([start + [x, y, z] for x in range(5)
                          for y in range(5) for z in range(5)])
        n = len(start)
        Y, _ = model(jnp.array(texts[:, :-1]), model.begin_state(len(texts)))
        # Y: (steps * 125 texts, 5); rows of step t are t * 125 + b.
        log_probs = np.asarray(jax.nn.log_softmax(Y, axis=1)).reshape(
            n + 2, len(texts), 5)
        scores = sum(log_probs[t, np.arange(len(texts)), texts[:, t + 1]]
                     for t in range(n - 1, n + 2))
        top = np.sort(scores)[::-1]
        assert top[0] - top[1] > 1e-4  # one answer
        best = ''.join(VOCAB[i] for i in texts[scores.argmax()])
        assert decode(gb.predict_beam_search, prefix, 3, model,
                      beam_width=25) == best


# --- one compiled step ------------------------------------------------------

def test_no_decoder_recompiles_for_a_new_prefix_or_length():
    model = small_model(4)
    args = (model, len(ALPHABET), ALPHABET, ALPHABET_TO_IDX)
    gb.predict_sample('a', 2, *args, KEY)
    gb.predict_beam_search('a', 2, *args, beam_width=3)
    before = dict(gb.step_traces)
    for prefix, num_chars in [('the ', 5), ('the time traveller ', 30),
                              ('q', 1)]:
        gb.predict_sample(prefix, num_chars, *args, KEY, temperature=0.7)
        gb.predict_top_k(prefix, num_chars, *args, KEY, k=4)
        gb.predict_top_p(prefix, num_chars, *args, KEY, p=0.5)
        gb.predict_beam_search(prefix, num_chars, *args, beam_width=3)
    assert dict(gb.step_traces) == before
    assert before[(1, 1)] >= 1 and before[(3, 1)] >= 1
    # A shape not seen before is traced once, and only once.
    X = jnp.zeros((2, 7), jnp.int32)
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    for _ in range(3):
        gb.score_step(graphdef, params, rest, model.begin_state(2), X)
    assert gb.step_traces[(2, 7)] - before.get((2, 7), 0) == 1


def test_score_step_is_the_model():
    model = small_model(5)
    X = jnp.array([[1, 2, 3], [4, 5, 6]], jnp.int32)
    state = model.begin_state(2)
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    Y, new_state = gb.score_step(graphdef, params, rest, state, X)
    Y_eager, state_eager = model(X, state)
    np.testing.assert_allclose(Y, Y_eager, rtol=1e-5, atol=1e-6)
    for a, b in zip(jax.tree.leaves(new_state), jax.tree.leaves(state_eager)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# --- errors -----------------------------------------------------------------

@pytest.mark.parametrize('decoder,prefix,kwargs,message', [
    (gb.predict_sample, 'ab', {'temperature': 0},
     'temperature must be > 0, got 0'),
    (gb.predict_sample, 'ab', {'temperature': -1.5},
     'temperature must be > 0, got -1.5'),
    (gb.predict_sample, 'ab', {'k': 0},
     'k must be a whole number from 1 to vocab_size = 5, got 0'),
    (gb.predict_sample, 'ab', {'k': -2},
     'k must be a whole number from 1 to vocab_size = 5, got -2'),
    (gb.predict_sample, 'ab', {'k': 6},
     'k must be a whole number from 1 to vocab_size = 5, got 6'),
    (gb.predict_sample, 'ab', {'k': 2.5},
     'k must be a whole number from 1 to vocab_size = 5, got 2.5'),
    (gb.predict_top_k, 'ab', {'k': 0},
     'k must be a whole number from 1 to vocab_size = 5, got 0'),
    (gb.predict_sample, 'ab', {'p': 0}, r'p must be in \(0, 1\], got 0'),
    (gb.predict_sample, 'ab', {'p': -0.5},
     r'p must be in \(0, 1\], got -0.5'),
    (gb.predict_sample, 'ab', {'p': 1.01},
     r'p must be in \(0, 1\], got 1.01'),
    (gb.predict_top_p, 'ab', {'p': 2}, r'p must be in \(0, 1\], got 2'),
    (gb.predict_sample, '', {}, 'prefix is empty'),
    (gb.predict_beam_search, '', {'beam_width': 2}, 'prefix is empty'),
    (gb.predict_sample, 'abx', {}, "contains 'x', which is not in"),
    (gb.predict_beam_search, 'abx', {'beam_width': 2},
     "contains 'x', which is not in"),
    (gb.predict_beam_search, 'ab', {'beam_width': 0},
     'beam_width must be a whole number >= 1, got 0'),
    (gb.predict_beam_search, 'ab', {'beam_width': 1.5},
     'beam_width must be a whole number >= 1, got 1.5'),
])
def test_decoders_refuse_bad_arguments(decoder, prefix, kwargs, message):
    if decoder is not gb.predict_beam_search:
        kwargs = dict(kwargs, key=KEY)
        if decoder is gb.predict_top_k:
            kwargs.setdefault('k', 2)
        if decoder is gb.predict_top_p:
            kwargs.setdefault('p', 0.5)
    with pytest.raises(ValueError, match=message):
        decode(decoder, prefix, 3, **kwargs)


@pytest.mark.parametrize('decoder,kwargs', [
    (gb.predict_sample, {'key': KEY}),
    (gb.predict_beam_search, {'beam_width': 2})])
def test_decoders_refuse_a_negative_length(decoder, kwargs):
    with pytest.raises(ValueError, match='num_chars must be >= 0, got -1'):
        decode(decoder, 'ab', -1, **kwargs)
    assert decode(decoder, 'ab', 0, **kwargs) == 'ab'
