"""chapter_rnn/comparison.md's JAX helpers, in the JAX tab's environment:
`char_predictions` scores the validation text exactly as `eval_perplexity`
does (the same characters, the same state carried from one minibatch to
the next, so the same perplexity), its gate is `layer_gate` at the step
that made each prediction, it gives back the perplexity that the build's
trained models printed (where the build has run), and bad inputs raise
errors that name the cause."""
import json
import math
import os

import jax
import numpy as np
import pytest
from flax import nnx
from jax import numpy as jnp

from gluonbook import jax as gb

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
RESULTS = os.path.join(ROOT, '_build', 'eval', 'chapter_rnn', 'results')
V = 27  # the book's vocabulary; the toy corpora use as many symbols


def corpus(length=12000, seed=0):
    """A random corpus whose validation text holds two minibatches of
    8 rows and 10 steps (and a few characters more)."""
    return list(np.random.default_rng(seed).integers(0, V, length))


def model_of(cell, num_hiddens=16, seed=0, scale=0.3, bidirectional=False,
             num_layers=1):
    """An RNNModel with every weight ~ N(0, scale^2): the gates and the
    predictions are far from uniform."""
    rngs = nnx.Rngs(seed)
    if bidirectional:
        layer = nnx.Bidirectional(nnx.RNN(cell(V, num_hiddens, rngs=rngs)),
                                  nnx.RNN(cell(V, num_hiddens, rngs=rngs)))
    else:
        layer = [nnx.RNN(cell(V if i == 0 else num_hiddens, num_hiddens,
                              rngs=rngs)) for i in range(num_layers)]
        layer = layer[0] if num_layers == 1 else layer
    model = gb.RNNModel(layer, V, rngs=rngs)
    keys = iter(jax.random.split(jax.random.key(seed + 1), 64))
    for _, param in nnx.iter_graph(model):
        if isinstance(param, nnx.Param):
            param[...] = scale * jax.random.normal(next(keys), param.shape)
    return model


CELLS = {'rnn': lambda i, h, rngs: nnx.SimpleCell(
             i, h, activation_fn=nnx.relu, rngs=rngs),
         'gru': nnx.GRUCell, 'lstm': nnx.LSTMCell}


@pytest.mark.parametrize('name', list(CELLS))
def test_the_bits_give_back_eval_perplexity(name):
    # "char_predictions reads the validation text exactly as
    # eval_perplexity does, 32 rows carried on from one window of 35
    # characters to the next": the mean bits over the characters it scores
    # give back eval_perplexity's perplexity.
    indices = corpus()
    model = model_of(CELLS[name])
    batch_size, num_steps = 8, 10
    positions, log_probs, gate = gb.char_predictions(
        model, indices, V, batch_size=batch_size, num_steps=num_steps)
    _, val = gb.train_val_split(indices)
    truth = np.array(val)[positions]
    nll = -log_probs[np.arange(len(positions)), truth].mean()
    model.eval()
    expected = gb.eval_perplexity(
        model, lambda b: model.begin_state(batch_size=b), val, batch_size,
        num_steps)
    assert abs(math.exp(nll) - expected) < 1e-4 * expected
    # Every character is scored once, each row of the minibatches on from
    # its own start; the log-probabilities are those of distributions.
    batch_len = len(val) // batch_size
    steps = (batch_len - 1) // num_steps * num_steps
    assert len(positions) == len(set(positions)) == batch_size * steps
    assert positions.min() == 1 and positions[steps] == batch_len + 1
    assert np.allclose(np.exp(log_probs).sum(axis=1), 1, atol=1e-5)
    assert gate is None


@pytest.mark.parametrize('name', ['gru', 'lstm'])
def test_the_gate_is_that_of_the_step_that_predicted(name):
    # "the mean, over the hidden units, of one gate at the step that made
    # the prediction (the step that read the character before)", computed
    # by layer_gate from the step's input and the state it started from.
    indices = corpus()
    model = model_of(CELLS[name])
    batch_size, num_steps = 8, 10
    positions, _, gate = gb.char_predictions(
        model, indices, V, gate_block=1, batch_size=batch_size,
        num_steps=num_steps)
    assert gate.shape == positions.shape
    _, val = gb.train_val_split(indices)
    batch_len = len(val) // batch_size
    # Row b's first window, from the zero state, without the carry.
    X = jnp.array([val[b * batch_len:b * batch_len + num_steps]
                   for b in range(batch_size)])
    inputs = jax.nn.one_hot(X.T, V)
    Y = gb.run_layer(model, inputs)
    H_prev = jnp.concatenate([jnp.zeros_like(Y[:1]), Y[:-1]])
    expected = gb.layer_gate(model.layers[0], inputs, H_prev, 1).mean(
        axis=2)  # (steps, batch)
    steps = len(positions) // batch_size
    got = gate.reshape(batch_size, steps)[:, :num_steps]
    assert np.allclose(got, np.asarray(expected).T, atol=1e-6)
    assert 0 < gate.min() and gate.max() < 1 and gate.std() > 0.01


@pytest.mark.parametrize('name', ['rnn-jax', 'gru-jax', 'lstm-jax'])
def test_the_trained_models_give_back_their_printed_perplexity(name):
    # comparison: "Each model's bits per character ... must give back the
    # validation perplexity that its section printed ... and saved in its
    # history": the build's trained JAX models, read back by load_params.
    history = os.path.join(RESULTS, name + '.json')
    if not os.path.exists(os.path.join(RESULTS, name + '.npz')):
        pytest.skip(f'the build has not trained {name} yet')
    with open(history) as f:
        printed = json.load(f)['val'][-1]
    cell = {'rnn-jax': CELLS['rnn'], 'gru-jax': nnx.GRUCell,
            'lstm-jax': nnx.LSTMCell}[name]
    rngs = nnx.Rngs(0)
    model = gb.RNNModel(nnx.RNN(cell(V, 256, rngs=rngs)), V, rngs=rngs)
    old = gb.RESULTS_DIR
    gb.RESULTS_DIR = RESULTS
    try:
        gb.load_params(name, model)
    finally:
        gb.RESULTS_DIR = old
    corpus_indices, _, _, vocab_size = gb.load_data_time_machine(
        os.path.join(ROOT, 'data', 'timemachine.txt'))
    assert vocab_size == V
    positions, log_probs, _ = gb.char_predictions(model, corpus_indices, V)
    _, val = gb.train_val_split(corpus_indices)
    truth = np.array(val)[positions]
    bits = -log_probs[np.arange(len(positions)), truth] / math.log(2)
    assert len(positions) == 16800
    assert abs(bits.mean() - math.log2(printed)) < 1e-4


def test_bad_inputs_raise_clear_errors():
    indices = corpus()
    with pytest.raises(ValueError, match='one-layer, one-direction'):
        gb.char_predictions(model_of(nnx.GRUCell, bidirectional=True),
                            indices, V, batch_size=8, num_steps=10)
    with pytest.raises(ValueError, match='2 layers'):
        gb.char_predictions(model_of(nnx.GRUCell, num_layers=2), indices,
                            V, batch_size=8, num_steps=10)
    # A ReLU RNN has no gate; a GRU's block 2 is its candidate, no gate.
    with pytest.raises(ValueError, match='SimpleCell'):
        gb.char_predictions(model_of(CELLS['rnn']), indices, V,
                            gate_block=1, batch_size=8, num_steps=10)
    with pytest.raises(ValueError, match='block 2'):
        gb.char_predictions(model_of(nnx.GRUCell), indices, V,
                            gate_block=2, batch_size=8, num_steps=10)
    # A validation text too short for one minibatch.
    with pytest.raises(ValueError, match='too short'):
        gb.char_predictions(model_of(nnx.GRUCell), corpus(800), V,
                            batch_size=8, num_steps=10)
    # The n-gram model needs n - 1 characters of context.
    with pytest.raises(ValueError, match='needs 4 characters'):
        gb.ngram_predictions(indices, 5, 0.01, V, [3, 10])
