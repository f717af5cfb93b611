"""chapter_rnn/gru.md's JAX helpers, in the JAX tab's environment: the
scratch `gru` against Flax's nnx.GRUCell run by nnx.RNN on the same
weights (the same function where the reset gate is 1, and different only
by the position of the reset gate otherwise), dropout only with a key, the
gate helpers against the layers' own computation, and their errors."""
import numpy as np
import pytest
from flax import nnx
from jax import numpy as jnp
import jax

from gluonbook import jax as gb

V, H, B, T = 7, 5, 3, 6  # vocabulary, hidden units, batch, steps


def flax_gru(seed=0, scale=0.5):
    """nnx.RNN over an nnx.GRUCell with every parameter ~ N(0, scale^2),
    so that the gates are far from constant."""
    cell = nnx.GRUCell(V, H, rngs=nnx.Rngs(seed))
    keys = iter(jax.random.split(jax.random.key(seed + 1), 8))
    for _, param in nnx.iter_graph(cell):
        if isinstance(param, nnx.Param):
            param[...] = scale * jax.random.normal(next(keys), param.shape)
    return nnx.RNN(cell, time_major=True, return_carry=True)


def scratch_params(cell):
    """The scratch gru's parameter list from the cell's weights, with an
    identity output layer, so that gru's outputs are its hidden states."""
    W_x, W_h = cell.dense_i.kernel[...], cell.dense_h.kernel[...]
    b = cell.dense_i.bias[...]
    block = {name: slice(k * H, (k + 1) * H)
             for k, name in enumerate(['reset', 'update', 'candidate'])}
    params = []
    for name in ['update', 'reset', 'candidate']:
        params += [W_x[:, block[name]], W_h[:, block[name]], b[block[name]]]
    return params + [jnp.eye(H), jnp.zeros(H)]


def inputs(seed=2):
    X = jax.random.randint(jax.random.key(seed), (T, B), 0, V)
    return jax.nn.one_hot(X, V)  # (steps, batch, vocab), time major


def test_flax_gru_has_one_bias_per_block_and_our_layout():
    # Flax 0.12's GRUCell: dense_i (in, 3h) with a bias, dense_h (h, 3h)
    # without one, so b_hn of the docstring's candidate does not exist and
    # the layer has exactly the scratch gru's parameters.
    cell = flax_gru().cell
    assert cell.dense_i.kernel.shape == (V, 3 * H)
    assert cell.dense_i.bias.shape == (3 * H,)
    assert cell.dense_h.kernel.shape == (H, 3 * H)
    assert not cell.dense_h.use_bias and cell.dense_h.bias is None
    flax_count = sum(p.size for p in jax.tree.leaves(nnx.state(cell,
                                                              nnx.Param)))
    ours = gb.get_gru_params(V, H, jax.random.key(0))[:9]
    assert flax_count == sum(p.size for p in ours)


def test_scratch_gru_is_flax_gru_when_the_reset_gate_is_one():
    # With R = 1 everywhere, R * (H W_hh) = (R * H) W_hh: the two variants
    # are the same function.
    layer = flax_gru()
    cell = layer.cell
    reset = slice(0, H)
    cell.dense_i.kernel[:, reset] = 0
    cell.dense_h.kernel[:, reset] = 0
    cell.dense_i.bias[reset] = 30.0  # sigmoid(30) is 1 in float32
    X = inputs()
    h0 = jnp.zeros((B, H))
    carry, Y = layer(X, initial_carry=h0)
    outputs, (H_last,) = gb.gru(X, (h0,), scratch_params(cell))
    assert np.abs(Y).max() > 0.3  # not a trivial state
    assert np.abs(outputs - Y).max() < 1e-6
    assert np.abs(H_last - carry).max() < 1e-6


def reset_after_gru(X, H_prev, cell):
    """Flax's (and cuDNN's) variant written out: the reset gate multiplies
    the recurrent product H W_hn, not the state."""
    W_x, W_h = cell.dense_i.kernel[...], cell.dense_h.kernel[...]
    b = cell.dense_i.bias[...]
    outputs = []
    for x in X:
        xr, xz, xn = jnp.split(x @ W_x + b, 3, axis=-1)
        hr, hz, hn = jnp.split(H_prev @ W_h, 3, axis=-1)
        r, z = jax.nn.sigmoid(xr + hr), jax.nn.sigmoid(xz + hz)
        n = jnp.tanh(xn + r * hn)
        H_prev = (1 - z) * n + z * H_prev
        outputs.append(H_prev)
    return jnp.stack(outputs)


def test_scratch_gru_differs_from_flax_only_by_the_reset_position():
    layer = flax_gru()
    X = inputs()
    h0 = jnp.zeros((B, H))
    _, Y = layer(X, initial_carry=h0)
    outputs, _ = gb.gru(X, (h0,), scratch_params(layer.cell))
    assert np.abs(outputs - Y).max() > 1e-2  # not rounding: another function
    assert np.abs(reset_after_gru(X, h0, layer.cell) - Y).max() < 1e-6


def test_gru_drops_units_only_when_given_a_key():
    params = gb.get_gru_params(V, H, jax.random.key(0))
    params[-2] = jnp.eye(H, V)  # outputs: the first units of the state
    X, state = inputs(), gb.init_rnn_state(B, H)
    plain, _ = gb.gru(X, state, params)
    assert np.array_equal(gb.gru(X, state, params, 0.5)[0], plain)
    dropped, (H_last,) = gb.gru(X, state, params, 0.5, jax.random.key(1))
    assert np.array_equal(H_last, gb.gru(X, state, params)[1][0])  # state
    zero = np.asarray(dropped == 0)[..., :H]
    assert 0.2 < zero.mean() < 0.8
    kept = ~zero
    np.testing.assert_allclose(np.asarray(dropped)[..., :H][kept],
                               2 * np.asarray(plain)[..., :H][kept],
                               rtol=1e-5)
    for rate in (-0.1, 1, 1.5):
        with pytest.raises(ValueError, match='dropout must be in'):
            gb.gru(X, state, params, rate, jax.random.key(1))


def test_gate_params_shapes_and_initialisation():
    W_x, W_h, b = gb.gate_params(27, 256, jax.random.key(0))
    assert W_x.shape == (27, 256) and W_h.shape == (256, 256)
    assert np.array_equal(b, np.zeros(256))
    assert 0.009 < float(W_h.std()) < 0.011
    params = gb.get_gru_params(27, 256, jax.random.key(0))
    assert len(params) == 11
    # every weight matrix drawn from its own key
    weights = [params[i] for i in (0, 1, 3, 4, 6, 7, 9)]
    for i, A in enumerate(weights):
        for B_ in weights[i + 1:]:
            if A.shape == B_.shape:
                assert not np.array_equal(A, B_)


# --- the gate helpers -------------------------------------------------------

def small_model(cell_class, seed=0, scale=0.5, **kwargs):
    corpus, _, _, vocab_size = gb.load_data_time_machine()
    rngs = nnx.Rngs(seed)
    model = gb.RNNModel(nnx.RNN(cell_class(vocab_size, 16, rngs=rngs,
                                           **kwargs)),
                        vocab_size, rngs=rngs)
    keys = iter(jax.random.split(jax.random.key(seed + 1), 64))
    for _, param in nnx.iter_graph(model.layers[0]):
        if isinstance(param, nnx.Param):  # gates far from 0.5
            param[...] = scale * jax.random.normal(next(keys), param.shape)
    return model, corpus, vocab_size


def test_gate_values_are_the_flax_grus_gates():
    model, corpus, vocab_size = small_model(nnx.GRUCell)
    windows = gb.val_windows(corpus, 20)
    X = jax.nn.one_hot(windows[:, :-1].T, vocab_size)
    _, Y = model.layers[0](X, initial_carry=jnp.zeros((X.shape[1], 16)),
                           time_major=True, return_carry=True)
    Y = np.asarray(Y)
    H_prev = np.concatenate([np.zeros_like(Y[:1]), Y[:-1]])
    z, r = (gb.gate_values(model, corpus, vocab_size, block,
                           num_steps=20).reshape(Y.shape) for block in (1, 0))
    cell = model.layers[0].cell
    W_x, W_h = cell.dense_i.kernel[...], cell.dense_h.kernel[...]
    b = cell.dense_i.bias[...]
    n = np.tanh(X @ W_x[:, 32:] + b[32:] + r * (H_prev @ W_h[:, 32:]))
    assert np.abs((1 - z) * n + z * H_prev - Y).max() < 1e-5
    assert z.std() > 0.1  # not a constant that would pass anyway


@pytest.mark.parametrize('cell_class', [nnx.LSTMCell, nnx.OptimizedLSTMCell])
def test_layer_gate_reads_the_lstm_gates(cell_class):
    # Block 1 is the forget gate f: two memories c1, c2 with the same input
    # and state give c1' - c2' = f (c1 - c2). Block 3 is the output gate o:
    # h' = o tanh(c'). Block 0 is the input gate i: i g = c' - f c, with g
    # a tanh.
    model, corpus, vocab_size = small_model(cell_class)
    layer = model.layers[0]
    X = jax.nn.one_hot(jax.random.randint(jax.random.key(4), (T, B), 0,
                                          vocab_size), vocab_size)
    H_prev = jax.random.normal(jax.random.key(5), (T, B, 16))
    C1, C2 = jax.random.normal(jax.random.key(6), (2, T, B, 16))
    i, f, o = (gb.layer_gate(layer, X, H_prev, block) for block in (0, 1, 3))
    for t in range(T):
        (c1, h1), _ = layer.cell((C1[t], H_prev[t]), X[t])
        (c2, _), _ = layer.cell((C2[t], H_prev[t]), X[t])
        assert np.abs(f[t] * (C1[t] - C2[t]) - (c1 - c2)).max() < 1e-5
        assert np.abs(o[t] * jnp.tanh(c1) - h1).max() < 1e-5
        g = (c1 - f[t] * C1[t]) / i[t]
        assert np.abs(g).max() < 1 + 1e-3
    assert float(f.std()) > 0.1 and float(i.std()) > 0.1


def test_input_grad_norms_measure_the_last_steps_loss():
    # An RNN with zero recurrent weights carries nothing from one step to
    # the next: the last step's loss depends on its own input only.
    model, corpus, vocab_size = small_model(nnx.SimpleCell)
    model.layers[0].cell.dense_h.kernel[...] = jnp.zeros((16, 16))
    g = gb.input_grad_norms(model, corpus, vocab_size, num_steps=5)
    assert g.shape == (5,)
    assert g[0] > 0 and np.all(g[1:] == 0), g


def test_gate_helpers_reject_what_they_cannot_read():
    corpus, _, _, vocab_size = gb.load_data_time_machine()
    _, val = gb.train_val_split(corpus)
    with pytest.raises(ValueError, match='too few for a window'):
        gb.val_windows(corpus, len(val))
    assert gb.val_windows(corpus, len(val) - 1).shape == (1, len(val))
    model, corpus, vocab_size = small_model(nnx.GRUCell)
    X = jnp.zeros((4, 2, vocab_size))
    H_prev = jnp.zeros((4, 2, 16))
    with pytest.raises(ValueError, match='block 2 of a GRUCell is no gate'):
        gb.layer_gate(model.layers[0], X, H_prev, 2)
    lstm, _, _ = small_model(nnx.LSTMCell)
    with pytest.raises(ValueError, match='block 2 of a LSTMCell is no gate'):
        gb.layer_gate(lstm.layers[0], X, H_prev, 2)
    plain, _, _ = small_model(nnx.SimpleCell)
    with pytest.raises(ValueError, match='not SimpleCell'):
        gb.gate_values(plain, corpus, vocab_size, block=1)
    rngs = nnx.Rngs(0)
    deep = gb.RNNModel([nnx.RNN(nnx.GRUCell(vocab_size, 16, rngs=rngs)),
                        nnx.RNN(nnx.GRUCell(16, 16, rngs=rngs))],
                       vocab_size, rngs=rngs)
    with pytest.raises(ValueError, match='only a one-layer'):
        gb.input_grad_norms(deep, corpus, vocab_size, num_steps=5)
