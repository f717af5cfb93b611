"""chapter_rnn/bi-rnn.md's JAX tab, in the JAX tab's environment: the
bidirectional model that the section builds (nnx.Bidirectional of two
nnx.RNNs in gb.RNNModel) is what its text says: twice the hidden units
into the output layer, the state in the other tabs' layout, the backward
direction starting from its part of the state at the last step and ending
at the first, the two directions' outputs concatenated, and a score at
step t that depends on the character after t."""
import jax
import numpy as np
from flax import nnx
from jax import numpy as jnp

from gluonbook import jax as gb

V, H, B, T = 27, 8, 3, 5  # vocabulary, hidden units, batch, steps


def model_of(bidirectional, seed=0, scale=0.5):
    """The section's gru_model at a small size, every weight ~ N(0,
    scale^2) so that no direction is close to constant."""
    rngs = nnx.Rngs(seed)

    def direction():
        return nnx.RNN(nnx.GRUCell(V, H, rngs=rngs))
    layer = (nnx.Bidirectional(direction(), direction()) if bidirectional
             else direction())
    model = gb.RNNModel(layer, V, dropout=0.3, rngs=rngs)
    keys = iter(jax.random.split(jax.random.key(seed + 1), 32))
    for _, param in nnx.iter_graph(model):
        if isinstance(param, nnx.Param):
            param[...] = scale * jax.random.normal(next(keys), param.shape)
    model.eval()  # no dropout
    return model


def tokens(seed=2):
    return jax.random.randint(jax.random.key(seed), (B, T), 0, V)


def test_the_output_layer_reads_both_directions():
    # "gives its output layer twice num_hiddens inputs when the layer has
    # two directions; ... the state in the layout of the other tabs,
    # (num_layers x 2, batch size, num_hiddens)"
    for bidirectional, width in [(False, H), (True, 2 * H)]:
        model = model_of(bidirectional)
        assert model.num_directions == (2 if bidirectional else 1)
        assert model.dense.kernel.shape == (width, V)
        state = model.begin_state(batch_size=B)
        assert state.shape == (width // H, B, H)
        output, new_state = model(tokens(), state)
        assert output.shape == (T * B, V)
        assert new_state.shape == state.shape


def test_the_state_splits_into_a_carry_per_direction():
    # The forward layer starts from state[0] at the first step and ends at
    # the last; the backward layer starts from state[1] at the *last* step
    # and ends at the first; the outputs are [forward, backward] side by
    # side, in the input's order.
    model = model_of(True)
    X = tokens()
    state = 0.5 * jax.random.normal(jax.random.key(3), (2, B, H))
    output, new_state = model(X, state)
    layer = model.layers[0]
    inputs = jax.nn.one_hot(X.T, V)  # (T, B, V)
    forward, backward = layer.forward_rnn.cell, layer.backward_rnn.cell
    h, Y_f = state[0], []
    for t in range(T):
        h, _ = forward(h, inputs[t])
        Y_f.append(h)
    h_f = h
    h, Y_b = state[1], [None] * T
    for t in reversed(range(T)):
        h, _ = backward(h, inputs[t])
        Y_b[t] = h
    Y = jnp.concatenate([jnp.stack(Y_f), jnp.stack(Y_b)], axis=-1)
    expected = model.dense(Y).reshape(-1, V)
    assert np.allclose(output, expected, atol=1e-5)
    assert np.allclose(new_state[0], h_f, atol=1e-5)
    assert np.allclose(new_state[1], Y_b[0], atol=1e-5)


def test_the_score_at_a_step_sees_the_next_character():
    # "the backward layer reads the label of step t, the character
    # x_{t+1}, as its input at step t+1 and passes it back to step t":
    # changing the last character changes the bidirectional model's
    # scores at every earlier step, and the unidirectional model's at none.
    X = tokens()
    X_changed = X.at[:, -1].set((X[:, -1] + 1) % V)
    for bidirectional in (False, True):
        model = model_of(bidirectional)
        state = model.begin_state(batch_size=B)
        before = model(X, state)[0].reshape(T, B, V)[:-1]
        after = model(X_changed, state)[0].reshape(T, B, V)[:-1]
        change = np.abs(np.asarray(before - after)).max(axis=(1, 2))
        if bidirectional:
            assert (change > 1e-4).all(), change
        else:
            assert (change == 0).all(), change
