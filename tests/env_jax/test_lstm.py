"""chapter_rnn/lstm.md's JAX helpers, in the JAX tab's environment: the
scratch `lstm` against Flax's nnx.LSTMCell run by nnx.RNN on the same
weights, dropout only with a key, the weights that `export_lstm_js` writes
for the page against the Flax model's next-character probabilities (in a
NumPy copy of static/playground.js's step), `save_params`/`load_params`,
and the helpers' errors."""
import os

import jax
import numpy as np
import pytest
from flax import nnx
from jax import numpy as jnp

from gluonbook import jax as gb

V, H, B, T = 7, 5, 3, 6  # vocabulary, hidden units, batch, steps
VOCAB = list(' abcdef')  # V characters


def randomize(module, seed, scale=0.5):
    """Every parameter of module ~ N(0, scale^2), biases included, so that
    the gates are far from constant and a bias put in the wrong place
    shows."""
    keys = iter(jax.random.split(jax.random.key(seed), 64))
    for _, param in nnx.iter_graph(module):
        if isinstance(param, nnx.Param):
            param[...] = scale * jax.random.normal(next(keys), param.shape)
    return module


def flax_lstm(seed=0):
    return randomize(nnx.RNN(nnx.LSTMCell(V, H, rngs=nnx.Rngs(seed)),
                             time_major=True, return_carry=True), seed + 1)


def lstm_model(seed=0, num_hiddens=H, dropout=0):
    rngs = nnx.Rngs(seed)
    return randomize(gb.RNNModel(
        nnx.RNN(nnx.LSTMCell(V, num_hiddens, rngs=rngs)), V,
        dropout=dropout, rngs=rngs), seed + 1)


def scratch_params(cell, W_hq, b_hq):
    """get_lstm_params' list from the cell's weights: for each of the
    input gate, forget gate, output gate and candidate, the kernel of the
    input product, that of the recurrent product and the latter's bias."""
    params = []
    for x_part, h_part in [(cell.ii, cell.hi), (cell.if_, cell.hf),
                           (cell.io, cell.ho), (cell.ig, cell.hg)]:
        params += [x_part.kernel[...], h_part.kernel[...], h_part.bias[...]]
    return params + [W_hq, b_hq]


def inputs(seed=2):
    X = jax.random.randint(jax.random.key(seed), (T, B), 0, V)
    return jax.nn.one_hot(X, V)  # (steps, batch, vocab), time major


def test_flax_lstm_has_one_bias_per_gate_and_our_layout():
    # Flax 0.12's LSTMCell: one Linear per product, (in, out) kernels; the
    # input products have no bias, the recurrent ones have one, so the
    # layer has exactly the parameters of get_lstm_params' gates.
    cell = flax_lstm().cell
    for part in (cell.ii, cell.if_, cell.ig, cell.io):
        assert part.kernel.shape == (V, H) and part.bias is None
    for part in (cell.hi, cell.hf, cell.hg, cell.ho):
        assert part.kernel.shape == (H, H) and part.bias.shape == (H,)
    flax_count = sum(p.size for p in jax.tree.leaves(nnx.state(cell,
                                                              nnx.Param)))
    ours = gb.get_lstm_params(V, H, jax.random.key(0))
    assert [p.shape for p in ours[:3]] == [(V, H), (H, H), (H,)]
    assert ours[12].shape == (H, V) and ours[13].shape == (V,)
    assert flax_count == sum(p.size for p in ours[:12])


def test_scratch_lstm_is_flax_lstm_on_the_same_weights():
    layer = flax_lstm()
    X = inputs()
    h0, c0 = (0.5 * jax.random.normal(jax.random.key(k), (B, H))
              for k in (3, 4))  # a state other than zero, and h != c
    (c_last, h_last), Y = layer(X, initial_carry=(c0, h0))  # Flax: (c, h)
    params = scratch_params(layer.cell, jnp.eye(H), jnp.zeros(H))
    outputs, (H_last, C_last) = gb.lstm(X, (h0, c0), params)  # ours: (H, C)
    assert np.abs(Y).max() > 0.3  # not a trivial state
    assert np.abs(outputs - Y).max() < 1e-5
    assert np.abs(H_last - h_last).max() < 1e-5
    assert np.abs(C_last - c_last).max() < 1e-5
    # The check can fail: the input and forget gates swapped.
    swapped = params[3:6] + params[:3] + params[6:]
    wrong, _ = gb.lstm(X, (h0, c0), swapped)
    assert np.abs(wrong - Y).max() > 1e-2


def test_lstm_dropout_only_with_a_key():
    params = gb.get_lstm_params(V, H, jax.random.key(0))
    state = gb.init_lstm_state(B, H)
    X = inputs()
    plain, _ = gb.lstm(X, state, params)
    without_key, _ = gb.lstm(X, state, params, dropout=0.5)
    with_key, state_key = gb.lstm(X, state, params, dropout=0.5,
                                  key=jax.random.key(1))
    assert np.array_equal(plain, without_key)
    assert not np.allclose(plain, with_key)
    # Dropout acts on the outputs only: the state carried on is the same.
    _, state_plain = gb.lstm(X, state, params)
    assert all(np.array_equal(a, b) for a, b in zip(state_plain, state_key))
    for rate in (-0.1, 1, 1.5):
        with pytest.raises(ValueError, match='dropout'):
            gb.lstm(X, state, params, dropout=rate)


def test_init_lstm_state_is_zero_h_and_c():
    H0, C0 = gb.init_lstm_state(B, H)
    assert H0.shape == C0.shape == (B, H)
    assert not H0.any() and not C0.any()


def playground_probs(arrays, indices):
    """static/playground.js's Model.step in NumPy float64, over indices;
    the softmax of the scores after each character."""
    W_ih, W_hh = arrays['W_ih'].astype(float), arrays['W_hh'].astype(float)
    b = arrays['b_ih'].astype(float) + arrays['b_hh'].astype(float)
    W_out, b_out = arrays['W_out'].astype(float), arrays['b_out'].astype(
        float)
    n = W_hh.shape[1]
    h, c = np.zeros(n), np.zeros(n)

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    probs = []
    for x in indices:
        gates = b + W_ih[:, x] + W_hh @ h  # one-hot input: a column
        i, f = sigmoid(gates[:n]), sigmoid(gates[n:2 * n])
        g, o = np.tanh(gates[2 * n:3 * n]), sigmoid(gates[3 * n:])
        c = f * c + i * g
        h = o * np.tanh(c)
        scores = W_out @ h + b_out
        e = np.exp(scores - scores.max())
        probs.append(e / e.sum())
    return np.array(probs)


def test_exported_weights_give_the_models_probabilities(tmp_path):
    model = lstm_model(dropout=0.3)
    model.eval()
    path = str(tmp_path / 'lstm-jax.js')
    gb.export_lstm_js(model, VOCAB, path)
    arrays, vocab = gb.read_weights_js(path)
    assert vocab == VOCAB
    assert {k: a.shape for k, a in arrays.items()} == {
        'W_ih': (4 * H, V), 'W_hh': (4 * H, H), 'b_ih': (4 * H,),
        'b_hh': (4 * H,), 'W_out': (V, H), 'b_out': (V,)}
    indices = [3, 1, 0, 6, 6, 2, 5, 4]
    X = jnp.array([indices])  # (batch_size, num_steps) = (1, 8)
    output, _ = model(X, model.begin_state(batch_size=1))
    expected = np.asarray(jax.nn.softmax(output, axis=1), dtype=float)
    got = playground_probs(arrays, indices)
    assert expected.shape == got.shape == (len(indices), V)
    assert expected.max() > 2 / V  # not uniform: the weights matter
    assert np.abs(got - expected).max() < 1e-5
    # The check can fail: the gates stacked i, f, o, g (get_lstm_params'
    # order, not the page's) give other probabilities.
    n = H
    order = np.r_[0:2 * n, 3 * n:4 * n, 2 * n:3 * n]
    wrong = dict(arrays, W_ih=arrays['W_ih'][order],
                 W_hh=arrays['W_hh'][order], b_hh=arrays['b_hh'][order])
    assert np.abs(playground_probs(wrong, indices) - expected).max() > 1e-3


def test_export_lstm_js_rejects_other_models(tmp_path):
    path = str(tmp_path / 'm.js')
    rngs = nnx.Rngs(0)
    others = {
        'two layers': gb.RNNModel(
            [nnx.RNN(nnx.LSTMCell(V, H, rngs=rngs)),
             nnx.RNN(nnx.LSTMCell(H, H, rngs=rngs))], V, rngs=rngs),
        'GRU': gb.RNNModel(nnx.RNN(nnx.GRUCell(V, H, rngs=rngs)), V,
                           rngs=rngs),
        'bidirectional': gb.RNNModel(nnx.Bidirectional(
            nnx.RNN(nnx.LSTMCell(V, H, rngs=rngs)),
            nnx.RNN(nnx.LSTMCell(V, H, rngs=rngs))), V, rngs=rngs)}
    for name, model in others.items():
        with pytest.raises(ValueError, match='one unidirectional layer'):
            gb.export_lstm_js(model, VOCAB, path)
    with pytest.raises(ValueError, match='idx_to_char has 6 characters'):
        gb.export_lstm_js(lstm_model(), VOCAB[:-1], path)
    assert not os.path.exists(path)


def all_params(model):
    return {path: np.asarray(p[...]) for path, p in
            nnx.state(model, nnx.Param).flat_state()}


def test_save_and_load_params_round_trip(tmp_path, monkeypatch):
    monkeypatch.setattr(gb, 'RESULTS_DIR', str(tmp_path / 'results'))
    trained, other = lstm_model(seed=0), lstm_model(seed=5)
    gb.save_params('lstm-test', trained)
    assert os.listdir(tmp_path / 'results') == ['lstm-test.npz']
    before = all_params(other)
    saved = all_params(trained)
    assert any(not np.array_equal(before[k], saved[k]) for k in saved)
    gb.load_params('lstm-test', other)
    loaded = all_params(other)
    assert loaded.keys() == saved.keys()
    assert all(np.array_equal(loaded[k], saved[k]) for k in saved)
    # The loaded model computes what the saved one does.
    X = jnp.array([[1, 2, 3, 4]])
    trained.eval()
    other.eval()
    a, _ = trained(X, trained.begin_state(1))
    b, _ = other(X, other.begin_state(1))
    assert np.array_equal(a, b)


def test_load_params_errors(tmp_path, monkeypatch):
    monkeypatch.setattr(gb, 'RESULTS_DIR', str(tmp_path))
    model = lstm_model()
    with pytest.raises(FileNotFoundError, match='lstm-none.npz not found'):
        gb.load_params('lstm-none', model)
    gb.save_params('small', model)
    before = all_params(lstm_model(seed=3, num_hiddens=H + 1))
    wider = lstm_model(seed=3, num_hiddens=H + 1)
    with pytest.raises(ValueError,
                       match=r'does not fit the model.*ii/kernel'):
        gb.load_params('small', wider)
    after = all_params(wider)
    assert all(np.array_equal(before[k], after[k]) for k in before)
    gru = gb.RNNModel(nnx.RNN(nnx.GRUCell(V, H, rngs=nnx.Rngs(0))), V,
                      rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match='dense_i'):
        gb.load_params('small', gru)
