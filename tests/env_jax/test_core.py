"""The JAX tab's core helpers (lang-model-dataset, rnn-scratch, rnn-gluon),
run in .venv-jax: the scratch RNN is Flax's nnx.RNN(SimpleCell) with the
same weights, clipping bounds a step's global gradient norm, prediction
compiles one step for prefixes of any length, bad inputs are ValueErrors
that name the cause, and the checks of the book's training output reject
a model that does not learn."""
import importlib.util
import json
import math
import os
import random
import sys
import types

import jax
import numpy as np
import optax
import pytest
from flax import nnx
from jax import numpy as jnp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
from gluonbook import jax as gb  # noqa: E402

CORPUS, CHAR_TO_IDX, IDX_TO_CHAR, VOCAB = gb.load_data_time_machine()


def outputs_module():
    """tests/outputs.py, whose check_training the book's tests use; it
    imports nbformat, which .venv-jax does not have and check_training
    does not need."""
    sys.modules.setdefault('nbformat', types.ModuleType('nbformat'))
    spec = importlib.util.spec_from_file_location(
        'book_outputs', os.path.join(ROOT, 'tests', 'outputs.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def relu_model(key, num_hiddens=16, **kwargs):
    rngs = nnx.Rngs(key)
    layer = nnx.RNN(nnx.SimpleCell(VOCAB, num_hiddens,
                                   activation_fn=nnx.relu, rngs=rngs))
    return gb.RNNModel(layer, VOCAB, rngs=rngs, **kwargs)


# --- lang-model-dataset -------------------------------------------------------

@pytest.mark.parametrize('data_iter_fn', ['data_iter_random',
                                          'data_iter_consecutive'])
def test_iterators_yield_int32_jax_arrays(data_iter_fn):
    X, Y = next(getattr(gb, data_iter_fn)(list(range(100)), 3, 5))
    for A in (X, Y):
        assert isinstance(A, jax.Array) and A.dtype == jnp.int32
        assert A.shape == (3, 5)
    assert (Y == X + 1).all()


def test_random_order_comes_from_pythons_random():
    random.seed(3)
    order = [X[:, 0].tolist() for X, _ in gb.data_iter_random(
        list(range(30)), 2, 6)]
    random.seed(3)
    starts = list(range(4))
    random.shuffle(starts)
    assert sum(order, []) == [6 * s for s in starts]


@pytest.mark.parametrize('data_iter_fn', ['data_iter_random',
                                          'data_iter_consecutive'])
def test_too_short_corpus_is_a_value_error(data_iter_fn):
    with pytest.raises(ValueError, match='too short'):
        next(getattr(gb, data_iter_fn)(list(range(10)), 4, 7))


# --- rnn-scratch --------------------------------------------------------------

def test_scratch_rnn_is_nnx_rnn_with_the_same_weights():
    model = relu_model(jax.random.key(1), num_hiddens=32)
    # Weights large enough that the ReLU cuts and the state matters.
    gb.reinitialize(model, jax.random.key(2),
                    jax.nn.initializers.normal(0.3))
    cell = model.layers[0].cell
    b_h = jax.random.normal(jax.random.key(3), (32,)) * 0.3
    cell.dense_i.bias[...] = b_h
    params = [cell.dense_i.kernel[...], cell.dense_h.kernel[...], b_h,
              model.dense.kernel[...], model.dense.bias[...]]
    X = jnp.array(CORPUS[:3 * 20]).reshape((3, 20))
    state = model.begin_state(3).at[0].set(
        jax.random.uniform(jax.random.key(4), (3, 32)))
    output, H = model(X, state)
    outputs, (H_scratch,) = gb.rnn(gb.to_onehot(X, VOCAB), (state[0],),
                                   params)
    assert outputs.shape == (20, 3, VOCAB) and H.shape == (1, 3, 32)
    largest = float(jnp.abs(output).max())
    assert largest > 1
    assert float(jnp.abs(outputs.reshape((-1, VOCAB)) - output).max()) \
        < 1e-5 * largest
    assert float(jnp.abs(H[0] - H_scratch).max()) < 1e-5 * largest
    # One bias, as the scratch model: the same number of parameters.
    assert sum(p.size for p in jax.tree.leaves(
        nnx.state(model, nnx.Param))) == sum(p.size for p in params)


def test_input_at_once_is_the_scratch_rnn():
    params = gb.get_rnn_params(VOCAB, 16, jax.random.key(0))
    params[1] = jax.random.normal(jax.random.key(1), (16, 16)) * 0.3
    inputs = gb.to_onehot(jnp.array(CORPUS[:40]).reshape((2, 20)), VOCAB)
    (Y1, (H1,)), (Y2, (H2,)) = (f(inputs, gb.init_rnn_state(2, 16), params)
                                for f in (gb.rnn, gb.rnn_input_at_once))
    assert float(jnp.abs(Y1 - Y2).max()) < 1e-5 * float(jnp.abs(Y1).max())
    assert float(jnp.abs(H1 - H2).max()) < 1e-5 * float(jnp.abs(H1).max())


def global_norm(tree):
    return math.sqrt(sum(float(jnp.sum(x ** 2))
                         for x in jax.tree.leaves(tree)))


def test_clipping_scales_to_theta_and_keeps_small_gradients():
    grads = [jnp.array([3.0, 0.0]), jnp.array([[0.0], [4.0]])]
    clipped = gb.grad_clipping(grads, 1)
    assert np.allclose(clipped[0], [0.6, 0]) and np.allclose(
        clipped[1], [[0], [0.8]])
    assert all((a == b).all() for a, b in zip(gb.grad_clipping(grads, 10),
                                              grads))
    # The same factor as optax's clipping (used by the Flax trainer).
    ref, _ = optax.clip_by_global_norm(1.0).update(grads, None)
    assert all(np.allclose(a, b) for a, b in zip(clipped, ref))


@pytest.mark.parametrize('theta', [0.01, 1.0])
def test_a_clipped_scratch_step_moves_at_most_theta(theta):
    # With SGD at rate 1, a step moves the parameters by the clipped
    # gradient: its global norm must be at most theta (and the unclipped
    # gradient of an untrained model at this scale is larger than 0.01).
    init, update = gb.get_optimizer('sgd', 1)
    step = jax.jit(gb.scratch_train_step(gb.rnn, VOCAB, theta, update))
    params = gb.get_rnn_params(VOCAB, 32, jax.random.key(0))
    params = [p * 30 for p in params]  # a large gradient
    X = jnp.array(CORPUS[:2 * 35]).reshape((2, 35))
    Y = jnp.array(CORPUS[1:2 * 35 + 1]).reshape((2, 35))
    new, _, _, l = step(params, init(params), gb.init_rnn_state(2, 32), X,
                        Y, jax.random.key(0))
    moved = global_norm([a - b for a, b in zip(new, params)])
    assert math.isfinite(float(l)) and 0 < moved <= theta * (1 + 1e-5)
    if theta == 0.01:
        assert moved > 0.99 * theta  # clipped, so exactly theta


def test_a_clipped_flax_step_moves_at_most_theta():
    theta = 0.01
    model = relu_model(jax.random.key(0), num_hiddens=32)
    gb.reinitialize(model, jax.random.key(1),
                    jax.nn.initializers.normal(0.3))
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    tx = gb.get_optax('sgd', 1, theta)
    step = jax.jit(gb.model_train_step(graphdef, VOCAB, tx))
    X = jnp.array(CORPUS[:2 * 35]).reshape((2, 35))
    Y = jnp.array(CORPUS[1:2 * 35 + 1]).reshape((2, 35))
    new, _, _, _, _ = step(params, rest, tx.init(params),
                           model.begin_state(2), X, Y)
    moved = global_norm(jax.tree.map(lambda a, b: a - b, new, params))
    assert 0.99 * theta < moved <= theta * (1 + 1e-5)


def test_prediction_compiles_one_step_for_any_prefix():
    params = gb.get_rnn_params(VOCAB, 8, jax.random.key(0))
    args = (gb.rnn, params, gb.init_rnn_state, 8, VOCAB, IDX_TO_CHAR,
            CHAR_TO_IDX)
    gb.predict_rnn('the', 2, *args)
    size = gb.rnn_step._cache_size()
    for prefix in ['a', 'time traveller', 'the time machine by h g wells']:
        text = gb.predict_rnn(prefix, 5, *args)
        assert text.startswith(prefix) and len(text) == len(prefix) + 5
    assert gb.rnn_step._cache_size() == size
    model = relu_model(jax.random.key(0))
    gb.predict_rnn_jax('the', 2, model, VOCAB, IDX_TO_CHAR, CHAR_TO_IDX)
    size = gb.model_step._cache_size()
    for prefix in ['a', 'time traveller']:
        gb.predict_rnn_jax(prefix, 5, model, VOCAB, IDX_TO_CHAR, CHAR_TO_IDX)
    assert gb.model_step._cache_size() == size


@pytest.mark.parametrize('prefix,num_chars,match', [
    ('', 5, 'prefix is empty'),
    ('Time', 5, "contains 'T', which is not in the vocabulary"),
    ('time', -1, 'num_chars must be >= 0, got -1')])
def test_bad_prediction_input_is_a_value_error(prefix, num_chars, match):
    params = gb.get_rnn_params(VOCAB, 8, jax.random.key(0))
    with pytest.raises(ValueError, match=match):
        gb.predict_rnn(prefix, num_chars, gb.rnn, params, gb.init_rnn_state,
                       8, VOCAB, IDX_TO_CHAR, CHAR_TO_IDX)
    with pytest.raises(ValueError, match=match):
        gb.predict_rnn_jax(prefix, num_chars, relu_model(jax.random.key(0)),
                           VOCAB, IDX_TO_CHAR, CHAR_TO_IDX)


TRAIN_ARGS = dict(num_epochs=1, num_steps=35, lr=1, clipping_theta=1,
                  batch_size=32, pred_period=1, pred_len=5,
                  prefixes=['the'])


def train_scratch(corpus, **kwargs):
    return gb.train_and_predict_rnn(
        gb.rnn, lambda key: gb.get_rnn_params(VOCAB, 16, key),
        gb.init_rnn_state, 16, VOCAB, jax.random.key(0), corpus,
        IDX_TO_CHAR, CHAR_TO_IDX, is_random_iter=False,
        **{**TRAIN_ARGS, **kwargs})


def train_flax(corpus, model=None, **kwargs):
    return gb.train_and_predict_rnn_jax(
        model or relu_model(jax.random.key(0)), 16, VOCAB,
        jax.random.key(1), corpus, IDX_TO_CHAR, CHAR_TO_IDX,
        **{**TRAIN_ARGS, **kwargs})


@pytest.mark.parametrize('train', [train_scratch, train_flax])
def test_unknown_optimizer_is_a_value_error(train):
    with pytest.raises(ValueError,
                       match='Cannot find optimizer adamm in optax'):
        train(CORPUS[:20000], optimizer='adamm')
    with pytest.raises(ValueError, match='Cannot find optimizer clip'):
        train(CORPUS[:20000], optimizer='clip')  # optax, not an optimizer


@pytest.mark.parametrize('train', [train_scratch, train_flax])
def test_too_short_validation_text_is_a_value_error(train):
    # 10% of 3000 characters is too short for one minibatch of 32 x 36.
    with pytest.raises(ValueError, match='a corpus of 300 tokens is too '
                                         'short'):
        train(CORPUS[:3000])


def test_optax_optimizers_by_name():
    assert isinstance(gb.optax_optimizer('Adam', 0.1),
                      optax.GradientTransformation)
    init, update = gb.get_optimizer('adam', 0.1)
    params = [jnp.ones(3)]
    new, _ = update(params, [jnp.ones(3)], init(params))
    assert np.allclose(new[0], 0.9)  # Adam's first step is lr * sign(g)


@pytest.mark.parametrize('train', [train_scratch, train_flax])
def test_history_and_one_compile_line(train, capsys):
    history = train(CORPUS[:20000])
    lines = capsys.readouterr().out.rstrip('\n').split('\n')
    out = outputs_module()
    assert out.COMPILE_LINE.match(lines[0]) and out.EPOCH_LINE.match(
        lines[1]) and lines[2].startswith(' - the')
    assert len(lines) == 3
    assert set(history) == {'train', 'val', 'tokens_per_sec', 'num_params',
                            'optimizer', 'lr', 'compile_sec'}
    assert history['compile_sec'] == float(lines[0].split()[1]) or abs(
        history['compile_sec'] - float(lines[0].split()[1])) <= 0.05


# --- rnn-gluon: RNNModel's layouts ---------------------------------------------

def test_model_rejects_layers_that_do_not_fit():
    rngs = nnx.Rngs(0)
    with pytest.raises(ValueError, match='layer 0 must take inputs of '
                                         'length 27'):
        gb.RNNModel(nnx.RNN(nnx.SimpleCell(26, 8, rngs=rngs)), VOCAB,
                    rngs=rngs)
    with pytest.raises(ValueError, match='layer 1 must take inputs of '
                                         'length 8'):
        gb.RNNModel([nnx.RNN(nnx.GRUCell(VOCAB, 8, rngs=rngs)),
                     nnx.RNN(nnx.GRUCell(VOCAB, 8, rngs=rngs))], VOCAB,
                    rngs=rngs)
    with pytest.raises(ValueError, match='must be an nnx.RNN'):
        gb.RNNModel(nnx.SimpleCell(VOCAB, 8, rngs=rngs), VOCAB, rngs=rngs)


def test_model_state_layouts_of_stacked_bidirectional_and_lstm():
    rngs = nnx.Rngs(0)
    X = jnp.array(CORPUS[:2 * 7]).reshape((2, 7))
    lstm = gb.RNNModel([nnx.RNN(nnx.LSTMCell(VOCAB, 8, rngs=rngs)),
                        nnx.RNN(nnx.LSTMCell(8, 8, rngs=rngs))], VOCAB,
                       rngs=rngs, layer_dropout=0.3)
    output, (H, C) = lstm(X, lstm.begin_state(2))
    assert output.shape == (14, VOCAB) and H.shape == C.shape == (2, 2, 8)
    # Row 1 is the top layer's last state: the top layer's output.
    lstm.eval()
    top = lstm.layers[1](lstm.layers[0](jax.nn.one_hot(X.T, VOCAB),
                                        time_major=True), time_major=True)
    _, (H, C) = lstm(X, lstm.begin_state(2))
    assert np.allclose(H[1], top[-1], atol=1e-6)
    bi = gb.RNNModel(nnx.Bidirectional(
        nnx.RNN(nnx.GRUCell(VOCAB, 8, rngs=rngs)),
        nnx.RNN(nnx.GRUCell(VOCAB, 8, rngs=rngs))), VOCAB, rngs=rngs)
    output, H = bi(X, bi.begin_state(2))
    assert output.shape == (14, VOCAB) and H.shape == (2, 2, 8)
    assert bi.dense.kernel.shape == (16, VOCAB)


def test_reinitialize_draws_weights_and_zeroes_biases():
    model = relu_model(jax.random.key(0), num_hiddens=64)
    gb.reinitialize(model, jax.random.key(5))
    cell = model.layers[0].cell
    assert (cell.dense_i.bias[...] == 0).all() and (
        model.dense.bias[...] == 0).all()
    std = float(jnp.std(cell.dense_h.kernel[...]))
    assert 0.009 < std < 0.011


# --- the checks of the training output reject a model that does not learn -----

@pytest.mark.parametrize('broken', ['lr=0', 'shuffled text'])
def test_checks_reject_a_model_that_does_not_learn(broken, capsys):
    # The JAX tab's version of test_book.py's test of the same name (which
    # runs where jax is not installed): one epoch of the real Flax trainer,
    # with no learning or nothing to learn, fails the bounds of rnn-gluon's
    # expectations.
    out = outputs_module()
    with open(os.path.join(ROOT, 'tests', 'expected_outputs_jax.json')) as f:
        spec = dict(next(e['training'] for e in
                         json.load(f)['chapter_rnn/rnn-gluon']
                         if 'training' in e), epochs=1)
    corpus = list(CORPUS)
    lr = 0 if broken == 'lr=0' else 1
    if broken == 'shuffled text':
        random.Random(0).shuffle(corpus)
    model = relu_model(jax.random.key(0), num_hiddens=256)
    capsys.readouterr()
    gb.train_and_predict_rnn_jax(
        model, 256, VOCAB, jax.random.key(1), corpus, IDX_TO_CHAR,
        CHAR_TO_IDX, num_epochs=1, num_steps=35, lr=lr, clipping_theta=1,
        batch_size=32, pred_period=1, pred_len=spec['pred_len'],
        prefixes=spec['prefixes'])
    log = capsys.readouterr().out
    problems = out.check_training(log, spec)
    assert any('perplexity' in p for p in problems), (log, problems)


def test_dropout_draws_new_masks_in_training_and_none_in_evaluation():
    # The training step returns the dropout streams it advanced, so that
    # the next step draws new masks; evaluation mode draws none.
    model = relu_model(jax.random.key(0), dropout=0.5)
    gb.reinitialize(model, jax.random.key(1),
                    jax.nn.initializers.normal(0.3))
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    tx = gb.get_optax('sgd', 0, 1)  # lr 0: the parameters stay
    step = jax.jit(gb.model_train_step(graphdef, VOCAB, tx))
    X = jnp.array(CORPUS[:2 * 35]).reshape((2, 35))
    Y = jnp.array(CORPUS[1:2 * 35 + 1]).reshape((2, 35))
    state, opt_state = model.begin_state(2), tx.init(params)
    _, rest1, _, _, l1 = step(params, rest, opt_state, state, X, Y)
    _, rest2, _, _, l2 = step(params, rest1, opt_state, state, X, Y)
    _, _, _, _, l1_again = step(params, rest, opt_state, state, X, Y)
    assert float(l1) != float(l2) and float(l1) == float(l1_again)
    model.eval()
    a, _ = model(X, state)
    b, _ = model(X, state)
    assert (a == b).all()


def test_flax_trainer_trains_a_model_with_dropout(capsys):
    model = relu_model(jax.random.key(0), dropout=0.3, num_hiddens=16)
    history = train_flax(CORPUS[:20000], model=model, num_epochs=2,
                         pred_period=2)
    assert all(math.isfinite(v) for v in history['train'] + history['val'])
    assert capsys.readouterr().out.count(' - the') == 1
