"""The JAX tab's environment (.venv-jax, Python 3.12) is what its pins say,
with no MXNet and no PyTorch, and the pieces the JAX tab is built from
work: a jitted `lax.scan` over time steps, Flax NNX's recurrent layer, and
optax's clipping of the gradient's global norm."""
import importlib.util
import sys

import flax
import jax
import numpy as np
import optax
from flax import nnx
from jax import numpy as jnp

sys.path.insert(0, __file__.rsplit('/', 2)[0])
from env_pins import mismatches, pins  # noqa: E402

PINS = 'build/pins-jax.txt'


def test_every_pin_is_installed_exactly():
    assert mismatches(PINS) == {}


def test_python_3_12_numpy_2_without_mxnet_or_torch():
    assert sys.version_info[:2] == (3, 12)
    assert np.__version__ == pins(PINS)['numpy']
    assert int(np.__version__.split('.')[0]) == 2
    assert (jax.__version__, flax.__version__, optax.__version__) == (
        pins(PINS)['jax'], pins(PINS)['flax'], pins(PINS)['optax'])
    for name in ['mxnet', 'torch']:
        assert importlib.util.find_spec(name) is None, name


def numpy_rnn(X, H, W_xh, W_hh, b_h):
    """The tanh RNN, one step at a time, in float64."""
    outputs = []
    for x in X:
        H = np.tanh(x @ W_xh + H @ W_hh + b_h)
        outputs.append(H)
    return np.stack(outputs), H


def test_jitted_scan_runs_the_rnn_recurrence():
    k = jax.random.split(jax.random.key(0), 4)
    X = jax.random.normal(k[0], (35, 2, 27))  # (time, batch, inputs)
    W_xh = jax.random.normal(k[1], (27, 8)) * 0.1
    W_hh = jax.random.normal(k[2], (8, 8)) * 0.1
    b_h = jax.random.normal(k[3], (8,)) * 0.1

    @jax.jit
    def rnn(X, H):
        def step(H, x):
            H = jnp.tanh(x @ W_xh + H @ W_hh + b_h)
            return H, H
        H, outputs = jax.lax.scan(step, H, X)
        return outputs, H

    H0 = jnp.zeros((2, 8))
    outputs, H = rnn(X, H0)
    expected, expected_H = numpy_rnn(*(np.asarray(a, np.float64) for a in (
        X, H0, W_xh, W_hh, b_h)))
    assert outputs.shape == (35, 2, 8)
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(H, expected_H, rtol=1e-5, atol=1e-6)


def test_nnx_rnn_with_a_simple_cell_is_that_recurrence():
    cell = nnx.SimpleCell(27, 8, rngs=nnx.Rngs(0))
    layer = nnx.RNN(cell)
    X = jax.random.normal(jax.random.key(1), (2, 35, 27))  # batch first
    # SimpleCell: tanh(x W_i + b + h W_h), the bias in its input layer; a
    # bias that is not zero (it starts at zero) so that it is checked too.
    assert cell.dense_h.bias is None
    cell.dense_i.bias.value = jax.random.normal(jax.random.key(2), (8,))
    outputs = layer(X)
    W_xh = np.asarray(cell.dense_i.kernel.value, np.float64)
    W_hh = np.asarray(cell.dense_h.kernel.value, np.float64)
    b_h = np.asarray(cell.dense_i.bias.value, np.float64)
    expected, _ = numpy_rnn(np.asarray(X, np.float64).swapaxes(0, 1),
                            np.zeros((2, 8)), W_xh, W_hh, b_h)
    np.testing.assert_allclose(outputs, expected.swapaxes(0, 1),
                               rtol=1e-5, atol=1e-6)


def test_clip_by_global_norm_is_applied_in_an_optax_chain():
    theta = 1.0
    params = {'W': jnp.ones((3, 4)), 'b': jnp.ones(4)}
    grads = {'W': jnp.full((3, 4), 5.0), 'b': jnp.full(4, -7.0)}
    assert float(optax.global_norm(grads)) > theta
    optimizer = optax.chain(optax.clip_by_global_norm(theta), optax.sgd(1.0))
    updates, _ = optimizer.update(grads, optimizer.init(params), params)
    # With a learning rate of 1 the update is the clipped gradient (negated).
    assert float(optax.global_norm(updates)) <= theta * (1 + 1e-6)
    assert abs(float(optax.global_norm(updates)) - theta) < 1e-5
    scale = float(updates['W'][0, 0] / -5.0)
    np.testing.assert_allclose(updates['b'], 7.0 * scale, rtol=1e-6)
