"""chapter_rnn/decoding.md's JAX helpers, in the JAX tab's environment:
the tempered softmax and its limits, what top-k and top-p keep, sampling
with explicit PRNG keys (the distribution drawn from, the support after a
cut, the same key giving the same text), beam search (width 1 is greedy
decoding, a wider beam finds what greedy misses, each beam keeps its own
state), one compiled step whatever the prefix, and the errors."""
import sys

import jax
import numpy as np
import pytest
from flax import nnx
from jax import numpy as jnp

from gluonbook import jax as gb

sys.path.insert(0, __file__.rsplit('/', 2)[0])
import decoding_checks  # noqa: E402

VOCAB, CHAR_TO_IDX = decoding_checks.VOCAB, decoding_checks.CHAR_TO_IDX
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
    decoding_checks.check_softmax_with_temperature(gb)


def test_top_k_keeps_the_k_largest_renormalised():
    decoding_checks.check_top_k(gb)


def test_top_p_keeps_the_fewest_largest_reaching_p():
    decoding_checks.check_top_p(gb)


# --- sampling with keys -----------------------------------------------------

def sample_with_key_0(prefix, num_chars, **kwargs):
    return decode(gb.predict_sample, prefix, num_chars, key=KEY, **kwargs)


def test_sampling_that_keeps_one_character_is_greedy():
    decoding_checks.check_sampling_keeps_one_character_greedy(
        sample_with_key_0)


def test_sampling_follows_the_model_distribution_and_the_cut():
    decoding_checks.check_sampling_follows_the_model_distribution(
        sample_with_key_0)


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


def test_decoders_predict_without_dropout_and_keep_the_models_mode():
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
    dropouts = [m for _, m in nnx.iter_graph(model)
                if isinstance(m, nnx.Dropout)]
    assert len(dropouts) == 2
    for mode in (model.train, model.eval):
        mode()
        deterministic = [d.deterministic for d in dropouts]
        greedy = gb.predict_rnn_jax('the ', 30, *args)
        assert gb.predict_sample('the ', 30, *args, KEY, k=1) == greedy
        assert gb.predict_top_k('the ', 30, *args, KEY, k=1) == greedy
        assert gb.predict_beam_search('the ', 30, *args,
                                      beam_width=1) == greedy
        # Each decoder predicted from a view: the model's mode is as the
        # caller left it.
        assert [d.deterministic for d in dropouts] == deterministic
    assert deterministic == [True, True]  # the last mode: eval


def test_split_for_prediction_shares_the_arrays_with_dropout_off():
    rngs = nnx.Rngs(0)
    model = gb.RNNModel(nnx.RNN(nnx.GRUCell(5, 8, rngs=rngs)), 5,
                        dropout=0.5, rngs=rngs)
    graphdef, params, rest = gb.split_for_prediction(model)
    view = nnx.merge(graphdef, params, rest)
    assert all(m.deterministic for _, m in nnx.iter_graph(view)
               if isinstance(m, nnx.Dropout))
    assert not any(m.deterministic for _, m in nnx.iter_graph(model)
                   if isinstance(m, nnx.Dropout))
    own = jax.tree.leaves(nnx.state(model, nnx.Param))
    assert all(a is b for a, b in zip(jax.tree.leaves(params), own))
    # A stand-in without dropout splits too.
    assert gb.split_for_prediction(NextCharModel())[1]


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
    model = TableModel(decoding_checks.BEAM_TABLE)
    assert decode(gb.predict_rnn_jax, 'a', 2, model) == \
        decoding_checks.GREEDY_ON_TABLE
    for prefix, num_chars, beam_width, text in decoding_checks.BEAM_CASES:
        assert decode(gb.predict_beam_search, prefix, num_chars, model,
                      beam_width=beam_width) == text


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

@pytest.mark.parametrize('name,prefix,kwargs,message',
                         decoding_checks.BAD_ARGUMENTS,
                         ids=decoding_checks.BAD_ARGUMENT_IDS)
def test_decoders_refuse_bad_arguments(name, prefix, kwargs, message):
    kwargs = dict(kwargs)
    num_chars = kwargs.pop('num_chars', 3)
    if name != 'predict_beam_search':
        kwargs['key'] = KEY  # the samplers draw with a key
    with pytest.raises(ValueError, match=message):
        decode(getattr(gb, name), prefix, num_chars, **kwargs)


@pytest.mark.parametrize('decoder,kwargs', [
    (gb.predict_sample, {'key': KEY}),
    (gb.predict_beam_search, {'beam_width': 2})])
def test_decoders_predict_nothing_for_a_length_of_zero(decoder, kwargs):
    assert decode(decoder, 'ab', 0, **kwargs) == 'ab'
