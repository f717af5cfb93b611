"""gluonbook.jax's helpers from sequence (set_seed) and tools (scratch_step,
layer_step, synchronize), in the JAX tab's environment (.venv-jax):
run with `.venv-jax/bin/python -m pytest tests/env_jax/test_intro.py`."""
import functools
import os
import random
import subprocess
import sys

import jax
import numpy as np
import optax
import pytest
from jax import numpy as jnp

from gluonbook import jax as gb

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def draw(key):
    """One draw from each generator a JAX section uses: Python's, NumPy's
    and the key's."""
    return (random.random(), float(np.random.rand()),
            float(jax.random.uniform(key)))


# --- sequence: set_seed -----------------------------------------------------

def test_jax_helpers_import_without_mxnet_torch_or_seeding():
    # Nothing of gluonbook seeds or draws from Python's generator. (Importing
    # flax does draw from it, through rich, which flax imports: rich.style
    # calls random.getrandbits. That is why every JAX section calls set_seed
    # after its imports.)
    code = ('import random, sys;'
            'from gluonbook import jax as gb; random.seed(7);'
            'gb.load_data_time_machine();'
            "print('mxnet' in sys.modules, 'torch' in sys.modules, "
            'random.random())')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    random.seed(7)
    assert out.strip() == f'False False {random.random()}'


def test_jax_set_seed_returns_the_key_of_rnn_book_seed(monkeypatch):
    monkeypatch.delenv('RNN_BOOK_SEED', raising=False)
    draws = [draw(gb.set_seed()) for _ in range(2)]
    assert draws[0] == draws[1]  # the same numbers every time it runs
    key = gb.set_seed()
    assert jnp.array_equal(jax.random.key_data(key),
                           jax.random.key_data(jax.random.key(0)))
    monkeypatch.setenv('RNN_BOOK_SEED', '2')
    key = gb.set_seed()
    assert jnp.array_equal(jax.random.key_data(key),
                           jax.random.key_data(jax.random.key(2)))
    assert all(a != b for a, b in zip(draw(key), draws[0]))
    assert draw(gb.set_seed(0)) == draws[0]  # an explicit seed wins
    random.seed(0)
    np.random.seed(0)
    # seed 0 means exactly these: Python's, NumPy's and key(0)
    assert draw(jax.random.key(0)) == draws[0]


def test_jax_set_seed_returns_a_new_style_key():
    key = gb.set_seed(3)
    assert jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
    # Split keys differ from each other and from the parent's draws.
    a, b = jax.random.split(key)
    assert draw(a)[2] != draw(b)[2]


@pytest.mark.parametrize('text', ['one', '-1', '1.5', '', ' 1'])
def test_jax_set_seed_rejects_a_bad_variable(monkeypatch, text):
    monkeypatch.setenv('RNN_BOOK_SEED', text)
    random.seed(11)
    before = random.getstate()
    with pytest.raises(ValueError, match=f'RNN_BOOK_SEED must be a whole '
                                         f'number >= 0, not {text!r}'):
        gb.set_seed()
    assert random.getstate() == before  # nothing was seeded


def test_jax_set_seed_has_the_mxnet_signature():
    import inspect
    params = inspect.signature(gb.set_seed).parameters
    assert [(p.name, p.default) for p in params.values()] == [('seed', None)]


# --- tools: timing steps ----------------------------------------------------

TOY_X = jnp.array([[0, 1, 2, 3, 4], [4, 3, 2, 1, 0]])
TOY_BATCH = (TOY_X, (TOY_X + 1) % 5)


def scratch_loss(params):
    outputs, _ = gb.rnn(gb.to_onehot(TOY_X, 5), gb.init_rnn_state(2, 8),
                        params)
    return optax.softmax_cross_entropy_with_integer_labels(
        outputs, TOY_BATCH[1].T).mean()


def test_scratch_step_is_one_clipped_sgd_step_and_goes_on_from_it():
    params = gb.get_rnn_params(5, 8, jax.random.key(0))
    step = gb.scratch_step(gb.rnn, params, gb.init_rnn_state, 8, 5,
                           TOY_BATCH, lr=0.5, clipping_theta=1e-3)
    after = step()
    grads = jax.grad(scratch_loss)(params)
    norm = float(jnp.sqrt(sum(jnp.sum(g ** 2) for g in grads)))
    assert norm > 1e-3  # so the clipping matters
    expected = [p - 0.5 * g * 1e-3 / norm for p, g in zip(params, grads)]
    for new, want in zip(after, expected):
        np.testing.assert_allclose(new, want, rtol=1e-5, atol=1e-7)
    # The moved parameters: the step changed every one of them by at most
    # lr * theta in total.
    moved = float(jnp.sqrt(sum(jnp.sum((a - p) ** 2)
                               for a, p in zip(after, params))))
    assert 0 < moved <= 0.5 * 1e-3 * (1 + 1e-5)
    # The next call starts from where the first ended.
    again = step()
    grads = jax.grad(scratch_loss)(after)
    norm = float(jnp.sqrt(sum(jnp.sum(g ** 2) for g in grads)))
    for new, a, g in zip(again, after, grads):
        np.testing.assert_allclose(new, a - 0.5 * g * min(1, 1e-3 / norm),
                                   rtol=1e-5, atol=1e-7)


def test_scratch_step_keeps_its_arguments():
    # JAX arrays cannot change: the parameters passed in stay what they
    # were, and the step returns new ones of the same shapes.
    params = gb.get_rnn_params(5, 8, jax.random.key(1))
    copies = [np.array(p) for p in params]
    step = gb.scratch_step(gb.rnn, params, gb.init_rnn_state, 8, 5,
                           TOY_BATCH)
    after = step()
    assert [a.shape for a in after] == [p.shape for p in params]
    for p, c in zip(params, copies):
        assert np.array_equal(np.asarray(p), c)


def test_scratch_step_dropout_masks_come_from_its_key():
    # Two runs from the same parameters and key agree step for step; a
    # different key draws different masks and so gives other parameters.
    params = gb.get_gru_params(5, 8, jax.random.key(2))
    gru = functools.partial(gb.gru, dropout=0.5)
    runs = []
    for seed in (3, 3, 4):
        step = gb.scratch_step(gru, params, gb.init_rnn_state, 8, 5,
                               TOY_BATCH, key=jax.random.key(seed))
        runs.append([step(), step()])
    for a, b in zip(jax.tree.leaves(runs[0]), jax.tree.leaves(runs[1])):
        assert jnp.array_equal(a, b)
    assert any(not jnp.array_equal(a, b) for a, b in zip(
        jax.tree.leaves(runs[0]), jax.tree.leaves(runs[2])))


def test_synchronize_returns_what_it_waits_for():
    tree = {'a': jnp.ones(3) * 2, 'b': [jnp.zeros(2)]}
    out = gb.synchronize(tree)
    assert out is tree or jax.tree.all(jax.tree.map(
        lambda x, y: bool(jnp.array_equal(x, y)), out, tree))


def test_layer_step_starts_from_the_training_initialisation():
    if not hasattr(gb, 'RNNModel'):
        pytest.skip('gb.RNNModel (rnn-gluon) is not in gluonbook.jax yet')
    from flax import nnx
    rngs = nnx.Rngs(0)
    layer = nnx.RNN(nnx.SimpleCell(5, 8, activation_fn=nnx.relu, rngs=rngs))
    model = gb.RNNModel(layer, 5, rngs=rngs)
    step = gb.layer_step(model, TOY_BATCH, jax.random.key(5), lr=0)
    after = step()
    # lr=0: the parameters are the initialisation, biases zero, weights
    # small normal draws, as the training function initialises them.
    leaves = jax.tree.leaves(after)
    assert leaves
    for leaf in leaves:
        if leaf.ndim == 1:
            assert not jnp.any(leaf)
        else:
            assert 0.003 < float(jnp.std(leaf)) < 0.03
    moving = gb.layer_step(model, TOY_BATCH, jax.random.key(5), lr=1)
    a, b = moving(), moving()
    assert any(not jnp.array_equal(x, y) for x, y in zip(
        jax.tree.leaves(a), jax.tree.leaves(b)))


def test_scratch_and_layer_steps_compile_once_before_the_first_step():
    # tools: "Both functions compile their step with jax.jit before they
    # return it ... so that the timed steps run compiled code from the
    # first": Python runs the model only while tracing.
    traces = []

    def counted_rnn(inputs, state, params, key=None):
        traces.append(inputs.shape)
        return gb.rnn(inputs, state, params, key)

    params = gb.get_rnn_params(5, 8, jax.random.key(6))
    step = gb.scratch_step(counted_rnn, params, gb.init_rnn_state, 8, 5,
                           TOY_BATCH)
    assert len(traces) == 1
    for _ in range(3):
        step()
    assert traces == [(5, 2, 5)]
    if not hasattr(gb, 'RNNModel'):
        return
    from flax import nnx
    rngs = nnx.Rngs(0)
    model = gb.RNNModel(nnx.RNN(nnx.SimpleCell(5, 8, rngs=rngs)), 5,
                        rngs=rngs)
    calls = []
    original = type(model).__call__

    class Counted(type(model)):
        def __call__(self, *args):
            calls.append(1)
            return original(self, *args)

    model.__class__ = Counted
    step = gb.layer_step(model, TOY_BATCH, jax.random.key(7))
    compiled = len(calls)
    assert compiled >= 1
    for _ in range(3):
        step()
    assert len(calls) == compiled


def test_jax_dispatch_is_asynchronous_on_the_cpu():
    # tools: "JAX queues it on every device, the CPU included": a call
    # returns long before its result is computed, and synchronize waits.
    f = jax.jit(lambda a: (a @ a @ a @ a).sum())
    a = jnp.ones((1500, 1500))
    gb.synchronize(f(a))  # compiled
    import time
    start = time.perf_counter()
    y = f(a)
    queued = time.perf_counter() - start
    gb.synchronize(y)
    done = time.perf_counter() - start
    assert jax.devices()[0].platform == 'cpu'
    assert queued < done / 10, (queued, done)
