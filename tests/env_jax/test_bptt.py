"""chapter_rnn/bptt.md's JAX tab: what it says about Flax's initial
recurrent weights and about the training functions' replacement of them."""
import numpy as np
import jax
from flax import nnx

from gluonbook import jax as gb


def test_flax_simple_cell_starts_orthogonal_and_we_replace_it():
    # "nnx.SimpleCell ... draws its recurrent kernel as a random orthogonal
    # matrix, all of whose singular values are 1"; "gb.train_and_predict_
    # rnn_jax replaces Flax's initial weights by draws from N(0, 0.01^2)
    # and zero biases" (it calls gb.reinitialize).
    rngs = nnx.Rngs(0)
    model = gb.RNNModel(nnx.RNN(nnx.SimpleCell(27, 256, rngs=rngs)), 27,
                        rngs=rngs)
    cell = model.layers[0].cell
    singular = np.linalg.svd(np.asarray(cell.dense_h.kernel[...]),
                             compute_uv=False)
    assert np.abs(singular - 1).max() < 1e-4
    gb.reinitialize(model, jax.random.key(1))
    W_hh = np.asarray(cell.dense_h.kernel[...])
    assert 0.0095 < W_hh.std() < 0.0105 and abs(W_hh.mean()) < 1e-3
    assert np.linalg.norm(W_hh, 2) < 0.4  # far below 1, as the text says
    assert np.all(np.asarray(cell.dense_i.bias[...]) == 0)


def test_optax_clips_as_grad_clipping_does():
    # "gb.train_and_predict_rnn_jax leaves the clipping to optax's
    # clip_by_global_norm, which rescales the same way" as gb.grad_clipping.
    import optax
    from jax import numpy as jnp
    keys = jax.random.split(jax.random.key(0), 2)
    grads = [jax.random.normal(keys[0], (4, 3)) * 5,
             jax.random.normal(keys[1], (3,))]
    for theta in (0.5, 1.0, 1e3):  # clipped, clipped, untouched
        ours = gb.grad_clipping(grads, theta)
        clip = optax.clip_by_global_norm(theta)
        theirs, _ = clip.update(grads, clip.init(grads))
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-6)
        norm = jnp.sqrt(sum((g ** 2).sum() for g in ours))
        assert float(norm) <= theta * (1 + 1e-6)
