# Generated from chapter_rnn/ by build/make_lib.py: edit the chapter, not
# this file. Each block below is a `#@save` cell of the JAX tab (or of
# every tab), in book order. It never imports mxnet or torch.
"""The JAX helpers that the RNN chapter saves for later sections."""
import sys

# Saved code calls other helpers as `gb.name`, exactly as the book does.
gb = sys.modules[__name__]


# --- chapter_rnn/sequence.md
# Sequence Models
import base64
import collections
import functools
import hashlib
import io
import itertools
import json
import math
import os
import random
import re
import statistics
import time
import jax
import numpy as np
import optax
from IPython import display, get_ipython
from flax import nnx
from jax import lax, numpy as jnp
from matplotlib import pyplot as plt


# --- chapter_rnn/sequence.md
# Sequence Models
def figure_svg(fig):
    """Return a matplotlib figure as SVG text."""
    svg = io.StringIO()
    fig.savefig(svg, format='svg', bbox_inches='tight')
    return svg.getvalue()


def plot_curves(curves, xlabel, ylabel, xscale='linear', yscale='linear',
                figsize=(4.5, 3)):
    """Plot (x, y, label) curves in one figure and show it as SVG."""
    fig, ax = plt.subplots(figsize=figsize)
    plt.close(fig)  # shown through display() only
    styles = itertools.cycle(['-', '--', '-.', ':'])
    for (x, y, label), style in zip(curves, styles):
        ax.plot(x, y, style, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xscale(xscale)
    ax.set_yscale(yscale)
    ax.grid(True, alpha=0.3)
    if any(label for _, _, label in curves):
        ax.legend()
    if get_ipython() is not None:  # plain Python: nothing to show it in
        display.display(display.SVG(gb.figure_svg(fig)))


# --- chapter_rnn/sequence.md
# Sequence Models
def set_seed(seed=None):
    """Seed Python's and NumPy's generators and return a JAX PRNG key made
    from the same seed (RNN_BOOK_SEED or 0)."""
    if seed is None:
        text = os.environ.get('RNN_BOOK_SEED', '0')
        if not text.isdigit():
            raise ValueError(f'RNN_BOOK_SEED must be a whole number >= 0, '
                             f'not {text!r}')
        seed = int(text)
    random.seed(seed)
    np.random.seed(seed)
    return jax.random.key(seed)


# --- chapter_rnn/lang-model.md
# Language Models
DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(gb.__file__))), 'data')
TIME_MACHINE_SHA1 = '090b5e7e70c295757f55df93cb0a180b9691891a'


def read_time_machine(path=None):
    """Return the raw text of The Time Machine after checking its hash."""
    path = path or os.path.join(gb.DATA_DIR, 'timemachine.txt')
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f'{path} not found: it should hold The Time Machine, '
            f'sha1 {gb.TIME_MACHINE_SHA1}, as shipped in data/')
    with open(path, 'rb') as f:
        raw = f.read()
    sha1 = hashlib.sha1(raw).hexdigest()
    if sha1 != gb.TIME_MACHINE_SHA1:
        raise ValueError(
            f'{path} has sha1 {sha1}, expected {gb.TIME_MACHINE_SHA1}: '
            f'the file was altered or replaced')
    return raw.decode('ascii')


# --- chapter_rnn/lang-model.md
# Language Models
def clean_text(text):
    """Lower-case text and turn every run of non-letters into one space."""
    return re.sub('[^a-z]+', ' ', text.lower()).strip()


# --- chapter_rnn/lang-model.md
# Language Models
def ngram_counts(tokens, n):
    """Count the n-grams (as tuples) of a sequence of tokens."""
    return collections.Counter(zip(*[tokens[i:] for i in range(n)]))


# --- chapter_rnn/lang-model.md
# Language Models
def train_val_split(corpus_indices, val_fraction=0.1):
    """Split a corpus into a training head and a validation tail."""
    if not 0 < val_fraction < 1:
        raise ValueError(f'val_fraction must be in (0, 1), '
                         f'got {val_fraction}')
    num_train = round(len(corpus_indices) * (1 - val_fraction))
    return corpus_indices[:num_train], corpus_indices[num_train:]


# --- chapter_rnn/lang-model-dataset.md
# A Character-Level Language Model Data Set
def load_data_time_machine(path=None):
    """Return (corpus_indices, char_to_idx, idx_to_char, vocab_size)."""
    corpus_chars = gb.clean_text(gb.read_time_machine(path))
    idx_to_char = sorted(set(corpus_chars))
    char_to_idx = {char: i for i, char in enumerate(idx_to_char)}
    corpus_indices = [char_to_idx[char] for char in corpus_chars]
    return corpus_indices, char_to_idx, idx_to_char, len(idx_to_char)


# --- chapter_rnn/lang-model-dataset.md
# A Character-Level Language Model Data Set
def check_corpus_size(num_tokens, batch_size, num_steps,
                      is_random_iter=False):
    """Raise ValueError unless a corpus fills one minibatch of the sampler."""
    if batch_size < 1 or num_steps < 1:
        raise ValueError(f'batch_size and num_steps must be positive, got '
                         f'{batch_size} and {num_steps}')
    if is_random_iter:
        # batch_size subsequences of num_steps; the last one's last label
        # is the token after it.
        needed = batch_size * num_steps + 1
        layout = (f'{batch_size} subsequences of {num_steps} and one more '
                  f'token, the label of the last')
    else:
        # batch_size streams, each num_steps inputs and one more token for
        # the label of its last input.
        needed = batch_size * (num_steps + 1)
        layout = (f'{batch_size} streams of {num_steps + 1}, each '
                  f'{num_steps} inputs and the label of the last')
    if num_tokens < needed:
        sampler = 'random' if is_random_iter else 'consecutive'
        raise ValueError(
            f'a corpus of {num_tokens} tokens is too short for '
            f'batch_size={batch_size} and num_steps={num_steps}: one '
            f'minibatch of {sampler} sampling needs at least {needed} '
            f'tokens ({layout})')


# --- chapter_rnn/lang-model-dataset.md
# A Character-Level Language Model Data Set
def data_iter_random(corpus_indices, batch_size, num_steps):
    """Yield minibatches of randomly ordered, non-overlapping sequences."""
    gb.check_corpus_size(len(corpus_indices), batch_size, num_steps,
                         is_random_iter=True)
    # Subtract 1 so that the label of the last example stays in the corpus.
    num_examples = (len(corpus_indices) - 1) // num_steps
    epoch_size = num_examples // batch_size
    example_indices = list(range(num_examples))
    random.shuffle(example_indices)  # Python's random, as in the other tabs
    for i in range(0, epoch_size * batch_size, batch_size):
        starts = [j * num_steps for j in example_indices[i: i + batch_size]]
        X = [corpus_indices[s: s + num_steps] for s in starts]
        Y = [corpus_indices[s + 1: s + num_steps + 1] for s in starts]
        # Gathered by NumPy on the host, then one copy to JAX's device.
        yield (jnp.asarray(np.array(X, dtype=np.int32)),
               jnp.asarray(np.array(Y, dtype=np.int32)))


# --- chapter_rnn/lang-model-dataset.md
# A Character-Level Language Model Data Set
def data_iter_consecutive(corpus_indices, batch_size, num_steps):
    """Yield minibatches whose rows continue those of the last minibatch."""
    gb.check_corpus_size(len(corpus_indices), batch_size, num_steps)
    corpus_indices = np.array(corpus_indices, dtype=np.int32)
    batch_len = len(corpus_indices) // batch_size
    # Row i holds tokens [i * batch_len, (i + 1) * batch_len).
    indices = corpus_indices[: batch_size * batch_len].reshape(
        (batch_size, batch_len))  # (batch_size, batch_len)
    epoch_size = (batch_len - 1) // num_steps
    for i in range(0, epoch_size * num_steps, num_steps):
        # Sliced by NumPy on the host: a slice of a JAX array is an
        # operation that JAX dispatches, which costs more than the copy.
        X = indices[:, i: i + num_steps]
        Y = indices[:, i + 1: i + num_steps + 1]
        yield jnp.asarray(X), jnp.asarray(Y)


# --- chapter_rnn/rnn-scratch.md
# Implementing a Recurrent Neural Network from Scratch
def to_onehot(X, size):
    """Turn (batch_size, num_steps) indices into one-hot vectors of shape
    (num_steps, batch_size, size): time step major."""
    return jax.nn.one_hot(X.T, size)  # float32


# --- chapter_rnn/rnn-scratch.md
# Implementing a Recurrent Neural Network from Scratch
def try_gpu():
    """Return JAX's default device: a GPU or TPU if JAX has one, else the
    CPU. JAX puts new arrays there."""
    return jax.devices()[0]


def get_rnn_params(vocab_size, num_hiddens, key):
    """Return [W_xh, W_hh, b_h, W_hq, b_q], the weights drawn with key."""
    key_xh, key_hh, key_hq = jax.random.split(key, 3)

    def normal(key, shape):
        return jax.random.normal(key, shape) * 0.01

    W_xh = normal(key_xh, (vocab_size, num_hiddens))
    W_hh = normal(key_hh, (num_hiddens, num_hiddens))
    b_h = jnp.zeros(num_hiddens)
    W_hq = normal(key_hq, (num_hiddens, vocab_size))
    b_q = jnp.zeros(vocab_size)
    return [W_xh, W_hh, b_h, W_hq, b_q]


# --- chapter_rnn/rnn-scratch.md
# Implementing a Recurrent Neural Network from Scratch
def init_rnn_state(batch_size, num_hiddens):
    """Return the all-zero initial state (H,)."""
    return (jnp.zeros((batch_size, num_hiddens)),)


# --- chapter_rnn/rnn-scratch.md
# Implementing a Recurrent Neural Network from Scratch
def rnn(inputs, state, params, key=None):
    """Run a ReLU RNN over (num_steps, batch_size, vocab_size) inputs."""
    W_xh, W_hh, b_h, W_hq, b_q = params

    def step(H, X):  # one time step: the new state, also its output
        H = jax.nn.relu(X @ W_xh + H @ W_hh + b_h)
        return H, H

    H, Hs = lax.scan(step, state[0], inputs)  # Hs: (num_steps, batch, h)
    return Hs @ W_hq + b_q, (H,)


# --- chapter_rnn/rnn-scratch.md
# Implementing a Recurrent Neural Network from Scratch
def check_prefix(prefix, char_to_idx):
    """Raise ValueError unless prefix is non-empty and in the vocabulary."""
    if not prefix:
        raise ValueError('prefix is empty: prediction needs at least one '
                         'character to start from')
    for char in prefix:
        if char not in char_to_idx:
            raise ValueError(
                f'prefix {prefix!r} contains {char!r}, which is not in the '
                f'vocabulary {"".join(sorted(char_to_idx))!r}')


# --- chapter_rnn/rnn-scratch.md
# Implementing a Recurrent Neural Network from Scratch
@jax.jit(static_argnums=(0, 1))
def rnn_step(rnn, vocab_size, params, state, X):
    """Run rnn on one character X of shape (1, 1); return the index of the
    highest score and the new state."""
    outputs, state = rnn(gb.to_onehot(X, vocab_size), state, params)
    return jnp.argmax(outputs[0, 0]), state


def predict_rnn(prefix, num_chars, rnn, params, init_rnn_state,
                num_hiddens, vocab_size, idx_to_char, char_to_idx):
    """Return prefix followed by num_chars greedily predicted characters."""
    gb.check_prefix(prefix, char_to_idx)
    if num_chars < 0:
        raise ValueError(f'num_chars must be >= 0, got {num_chars}')
    state = init_rnn_state(1, num_hiddens)
    output = [char_to_idx[prefix[0]]]
    for t in range(num_chars + len(prefix) - 1):
        # The last character as (batch_size, num_steps) = (1, 1).
        X = jnp.array([[output[-1]]], dtype=jnp.int32)
        Y, state = gb.rnn_step(rnn, vocab_size, params, state, X)
        if t < len(prefix) - 1:
            output.append(char_to_idx[prefix[t + 1]])
        else:
            output.append(int(Y))
    return ''.join([idx_to_char[i] for i in output])


# --- chapter_rnn/rnn-scratch.md
# Implementing a Recurrent Neural Network from Scratch
def grad_clipping(grads, theta):
    """Return grads rescaled to a total L2 norm of at most theta."""
    norm = jnp.sqrt(sum(jnp.sum(grad ** 2) for grad in jax.tree.leaves(grads)))
    scale = jnp.minimum(theta / norm, 1)
    return jax.tree.map(lambda grad: grad * scale, grads)


# --- chapter_rnn/rnn-scratch.md
# Implementing a Recurrent Neural Network from Scratch
def sgd(params, grads, lr, batch_size):
    """Minibatch SGD: return params stepped against their gradients."""
    return jax.tree.map(lambda param, grad: param - lr * grad / batch_size,
                        params, grads)


def optax_optimizer(optimizer, lr):
    """Return optax's optimizer of that name (case ignored) for rate lr."""
    make = getattr(optax, optimizer.lower(), None)
    try:
        tx = make(learning_rate=lr)
    except TypeError:  # not a function, or not one of an optimizer
        tx = None
    if not isinstance(tx, optax.GradientTransformation):
        raise ValueError(f'Cannot find optimizer {optimizer} in optax')
    return tx


def get_optimizer(optimizer, lr):
    """Return (init, update): opt_state = init(params) and params,
    opt_state = update(params, grads, opt_state); 'sgd' is gb.sgd."""
    if optimizer == 'sgd':
        def update(params, grads, opt_state):
            return gb.sgd(params, grads, lr, 1), opt_state  # l is a mean
        return (lambda params: ()), update
    tx = gb.optax_optimizer(optimizer, lr)

    def update(params, grads, opt_state):
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state
    return tx.init, update


# --- chapter_rnn/rnn-scratch.md
# Implementing a Recurrent Neural Network from Scratch
@jax.jit
def sum_cross_entropy(output, Y):
    """The summed cross-entropy of time-step-major scores against Y."""
    return optax.softmax_cross_entropy_with_integer_labels(
        output, Y.T.reshape(-1)).sum()


def eval_perplexity(net, begin_state, corpus_indices, batch_size,
                    num_steps):
    """Return the perplexity of net over corpus_indices."""
    state = begin_state(batch_size)
    l_sum, n = 0.0, 0
    for X, Y in gb.data_iter_consecutive(corpus_indices, batch_size,
                                         num_steps):
        output, state = net(X, state)
        # output: (num_steps * batch_size, vocab_size), time step major,
        # so the labels are read column by column, Y.T.
        l_sum += gb.sum_cross_entropy(output, Y)
        n += Y.size
    return math.exp(float(l_sum) / n)


# --- chapter_rnn/rnn-scratch.md
# Implementing a Recurrent Neural Network from Scratch
def scratch_train_step(rnn, vocab_size, clipping_theta, update):
    """Return the function of one training step of a from-scratch model:
    step(params, opt_state, state, X, Y, key) -> (params, opt_state,
    state, loss). Pure, to be compiled by jax.jit."""
    def loss(params, state, X, Y, key):
        outputs, state = rnn(gb.to_onehot(X, vocab_size), state, params,
                             key=key)
        # outputs: (num_steps, batch_size, vocab_size); labels Y.T alike.
        l = optax.softmax_cross_entropy_with_integer_labels(
            outputs, Y.T).mean()
        return l, state

    def step(params, opt_state, state, X, Y, key):
        # The gradient with respect to params, the first argument only.
        (l, state), grads = jax.value_and_grad(loss, has_aux=True)(
            params, state, X, Y, key)
        grads = gb.grad_clipping(grads, clipping_theta)
        params, opt_state = update(params, grads, opt_state)
        return params, opt_state, state, l
    return step


def train_and_predict_rnn(rnn, get_params, init_rnn_state, num_hiddens,
                          vocab_size, key, corpus_indices, idx_to_char,
                          char_to_idx, is_random_iter, num_epochs, num_steps,
                          lr, clipping_theta, batch_size, pred_period,
                          pred_len, prefixes, optimizer='sgd'):
    """Train a from-scratch RNN; return its history of perplexity, speed."""
    train_indices, val_indices = gb.train_val_split(corpus_indices)
    gb.check_corpus_size(len(val_indices), batch_size, num_steps)
    if is_random_iter:
        data_iter_fn = gb.data_iter_random
    else:
        data_iter_fn = gb.data_iter_consecutive
    init, update = gb.get_optimizer(optimizer, lr)
    params_key, dropout_key = jax.random.split(key)
    params = get_params(params_key)
    opt_state = init(params)
    step = gb.scratch_train_step(rnn, vocab_size, clipping_theta, update)

    def train_step(params, opt_state, state, X, Y, i, l_sum):
        key = jax.random.fold_in(dropout_key, i)  # step i's own key
        params, opt_state, state, l = step(params, opt_state, state, X, Y,
                                           key)
        return params, opt_state, state, l_sum + l * Y.size

    def eval_step(params, X, state):
        outputs, state = rnn(gb.to_onehot(X, vocab_size), state, params)
        return outputs.reshape((-1, vocab_size)), state

    def begin_state(batch_size):
        return init_rnn_state(batch_size, num_hiddens)

    # Compile both steps now, for arguments of a minibatch's shapes.
    start = time.time()
    X, state = jnp.zeros((batch_size, num_steps), jnp.int32), begin_state(
        batch_size)
    train_step = jax.jit(train_step).lower(
        params, opt_state, state, X, X, 0, jnp.zeros(())).compile()
    eval_step = jax.jit(eval_step).lower(params, X, state).compile()
    compile_sec = time.time() - start
    print('compile %.1f sec' % compile_sec)

    def net(X, state):
        return eval_step(params, X, state)  # params as they are now

    history = {'train': [], 'val': [], 'tokens_per_sec': [],
               'num_params': sum(p.size for p in jax.tree.leaves(params)),
               'optimizer': optimizer, 'lr': lr, 'compile_sec': compile_sec}
    plot = gb.PerplexityPlot(num_epochs)
    i = 0  # the number of steps taken
    for epoch in range(num_epochs):
        state = begin_state(batch_size)
        l_sum, n, start = jnp.zeros(()), 0, time.time()
        for X, Y in data_iter_fn(train_indices, batch_size, num_steps):
            if is_random_iter:
                state = begin_state(batch_size)
            params, opt_state, state, l_sum = train_step(
                params, opt_state, state, X, Y, i, l_sum)
            n += Y.size
            i += 1
        l_sum = float(l_sum)  # waits for the last step: read once an epoch
        seconds = time.time() - start
        gb.check_finite(l_sum / n, epoch, lr)
        history['train'].append(math.exp(l_sum / n))
        history['tokens_per_sec'].append(n / seconds)
        history['val'].append(gb.eval_perplexity(
            net, begin_state, val_indices, batch_size, num_steps))
        plot.add(epoch + 1, history['train'][-1], history['val'][-1])
        if (epoch + 1) % pred_period == 0:
            print('epoch %d, perplexity %.2f, val perplexity %.2f, '
                  'time %.1f sec' % (epoch + 1, history['train'][-1],
                                     history['val'][-1], seconds))
            for prefix in prefixes:
                print(' -', gb.predict_rnn(
                    prefix, pred_len, rnn, params, init_rnn_state,
                    num_hiddens, vocab_size, idx_to_char, char_to_idx))
    return history


# --- chapter_rnn/rnn-gluon.md
# Concise Implementation of Recurrent Neural Networks
class RNNModel(nnx.Module):
    """Recurrent layers followed by a dense layer over the vocabulary."""
    def __init__(self, rnn_layer, vocab_size, dropout=0, *, rngs,
                 layer_dropout=0):
        # One layer, or a list of layers stacked bottom first.
        layers = list(rnn_layer) if isinstance(rnn_layer, (list, tuple)) \
            else [rnn_layer]
        cells = []  # the (forward) cell of each layer
        for layer in layers:
            if isinstance(layer, nnx.Bidirectional):
                cells.append(layer.forward_rnn.cell)
            elif isinstance(layer, nnx.RNN):
                cells.append(layer.cell)
            else:
                raise ValueError(f'rnn_layer must be an nnx.RNN, an '
                                 f'nnx.Bidirectional or a list of them, '
                                 f'not {type(layer).__name__}')
        self.num_directions = 2 if isinstance(layers[0],
                                              nnx.Bidirectional) else 1
        self.num_hiddens = cells[0].hidden_features
        inputs = vocab_size  # what the next layer is given
        for i, (layer, cell) in enumerate(zip(layers, cells)):
            directions = 2 if isinstance(layer, nnx.Bidirectional) else 1
            if (cell.in_features != inputs or cell.hidden_features !=
                    self.num_hiddens or directions != self.num_directions):
                raise ValueError(
                    f'layer {i} must take inputs of length {inputs} and '
                    f'have {self.num_hiddens} hidden units in '
                    f'{self.num_directions} direction(s); it was built '
                    f'with in_features={cell.in_features}, '
                    f'hidden_features={cell.hidden_features}, in '
                    f'{directions} direction(s)')
            inputs = self.num_directions * self.num_hiddens
        self.layers = nnx.List(layers)
        self.num_layers = len(layers)
        self.is_lstm = isinstance(cells[0], (nnx.LSTMCell,
                                             nnx.OptimizedLSTMCell))
        self.vocab_size = vocab_size
        # Dropout acts only in training mode (model.train()).
        self.dropout = nnx.Dropout(dropout, rngs=rngs)
        self.layer_dropout = nnx.Dropout(layer_dropout, rngs=rngs)
        self.dense = nnx.Linear(inputs, vocab_size, rngs=rngs)

    def __call__(self, inputs, state):
        # inputs: (batch_size, num_steps) -> X: (num_steps, batch_size,
        # vocab_size), time step major.
        X = jax.nn.one_hot(inputs.T, self.vocab_size)
        H, C = state if self.is_lstm else (state, None)
        new_H, new_C = [], []
        for i, layer in enumerate(self.layers):
            # Row i * num_directions + d of H (and C): direction d of
            # layer i. Flax's LSTM cells carry (C, H), the others H.
            rows = range(i * self.num_directions,
                         (i + 1) * self.num_directions)
            carries = [(C[j], H[j]) if self.is_lstm else H[j] for j in rows]
            carry = (tuple(carries) if self.num_directions == 2
                     else carries[0])
            carry, X = layer(X, initial_carry=carry, time_major=True,
                             return_carry=True)
            for c in (carry if self.num_directions == 2 else [carry]):
                new_H.append(c[1] if self.is_lstm else c)
                if self.is_lstm:
                    new_C.append(c[0])
            if i < self.num_layers - 1:
                X = self.layer_dropout(X)
        # X: (num_steps, batch_size, num_directions * num_hiddens). The
        # dense layer sees (num_steps * batch_size, X.shape[-1]) and
        # returns (num_steps * batch_size, vocab_size): rows are time
        # step major.
        output = self.dense(self.dropout(X).reshape((-1, X.shape[-1])))
        H = jnp.stack(new_H)
        return output, ((H, jnp.stack(new_C)) if self.is_lstm else H)

    def begin_state(self, batch_size):
        """Return the all-zero initial state: H, or (H, C) for an LSTM."""
        # H: (num_layers * num_directions, batch_size, num_hiddens).
        H = jnp.zeros((self.num_layers * self.num_directions, batch_size,
                       self.num_hiddens))
        return (H, jnp.zeros_like(H)) if self.is_lstm else H


# --- chapter_rnn/rnn-gluon.md
# Concise Implementation of Recurrent Neural Networks
@jax.jit(static_argnums=0)
def model_step(graphdef, params, rest, state, X):
    """Run an nnx model on one character X of shape (1, 1); return the
    index of the highest score and the new state."""
    output, state = nnx.merge(graphdef, params, rest)(X, state)
    return jnp.argmax(output[0]), state


def split_for_prediction(model):
    """Split a view of model with dropout off into its graph definition,
    parameters and the rest; the model itself keeps its mode."""
    view = nnx.view(model, deterministic=True, raise_if_not_found=False)
    return nnx.split(view, nnx.Param, ...)


def predict_rnn_jax(prefix, num_chars, model, vocab_size, idx_to_char,
                    char_to_idx):
    """Return prefix followed by num_chars greedily predicted characters."""
    gb.check_prefix(prefix, char_to_idx)
    if num_chars < 0:
        raise ValueError(f'num_chars must be >= 0, got {num_chars}')
    graphdef, params, rest = gb.split_for_prediction(model)
    state = model.begin_state(batch_size=1)
    output = [char_to_idx[prefix[0]]]
    for t in range(num_chars + len(prefix) - 1):
        X = jnp.array([[output[-1]]], dtype=jnp.int32)
        Y, state = gb.model_step(graphdef, params, rest, state, X)
        if t < len(prefix) - 1:
            output.append(char_to_idx[prefix[t + 1]])
        else:
            output.append(int(Y))
    return ''.join([idx_to_char[i] for i in output])


# --- chapter_rnn/rnn-gluon.md
# Concise Implementation of Recurrent Neural Networks
def reinitialize(model, key, initializer=None):
    """Draw the weights of model anew, in place: every bias 0, every other
    parameter N(0, 0.01^2), or initializer(key, shape, dtype)."""
    params = nnx.state(model, nnx.Param)
    leaves, treedef = jax.tree.flatten(params)
    keys = jax.random.split(key, len(leaves))  # one key per parameter
    new = []
    for param, key in zip(leaves, keys):
        if param.ndim == 1:  # a bias
            new.append(jnp.zeros_like(param))
        elif initializer is None:
            new.append(jax.random.normal(key, param.shape, param.dtype)
                       * 0.01)
        else:
            new.append(initializer(key, param.shape, param.dtype))
    nnx.update(model, jax.tree.unflatten(treedef, new))


def get_optax(optimizer, lr, clipping_theta):
    """Clipping to a global norm of clipping_theta, then optax's optimizer
    of that name (case ignored) for rate lr."""
    return optax.chain(optax.clip_by_global_norm(clipping_theta),
                       gb.optax_optimizer(optimizer, lr))


def model_train_step(graphdef, vocab_size, tx):
    """Return the function of one training step of an nnx model split as
    graphdef, params, rest = nnx.split(model, nnx.Param, ...):
    step(params, rest, opt_state, state, X, Y) -> (params, rest,
    opt_state, state, loss). Pure, to be compiled by jax.jit."""
    def loss(params, rest, state, X, Y):
        # copy=True: new Variables, which dropout may advance in this trace
        model = nnx.merge(graphdef, params, rest, copy=True)
        output, state = model(X, state)
        l = optax.softmax_cross_entropy_with_integer_labels(
            output, Y.T.reshape(-1)).mean()
        # rest, as the step left it: dropout has drawn from its streams.
        return l, (state, nnx.state(model, nnx.Not(nnx.Param)))

    def step(params, rest, opt_state, state, X, Y):
        (l, (state, rest)), grads = jax.value_and_grad(loss, has_aux=True)(
            params, rest, state, X, Y)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), rest, opt_state, state, l
    return step


def train_and_predict_rnn_jax(model, num_hiddens, vocab_size, key,
                              corpus_indices, idx_to_char, char_to_idx,
                              num_epochs, num_steps, lr, clipping_theta,
                              batch_size, pred_period, pred_len, prefixes,
                              optimizer='sgd', initializer=None):
    """Train an RNNModel; return its history of perplexity, speed."""
    train_indices, val_indices = gb.train_val_split(corpus_indices)
    gb.check_corpus_size(len(val_indices), batch_size, num_steps)
    tx = gb.get_optax(optimizer, lr, clipping_theta)
    gb.reinitialize(model, key, initializer)  # start afresh
    model.eval()
    eval_graphdef = nnx.graphdef(model)  # dropout off
    model.train()
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    opt_state = tx.init(params)
    step = gb.model_train_step(graphdef, vocab_size, tx)

    def train_step(params, rest, opt_state, state, X, Y, l_sum):
        params, rest, opt_state, state, l = step(params, rest, opt_state,
                                                 state, X, Y)
        return params, rest, opt_state, state, l_sum + l * Y.size

    def eval_step(params, rest, X, state):
        return nnx.merge(eval_graphdef, params, rest)(X, state)

    # Compile both steps now, for arguments of a minibatch's shapes.
    start = time.time()
    X, state = jnp.zeros((batch_size, num_steps), jnp.int32), \
        model.begin_state(batch_size)
    train_step = jax.jit(train_step).lower(
        params, rest, opt_state, state, X, X, jnp.zeros(())).compile()
    eval_step = jax.jit(eval_step).lower(params, rest, X, state).compile()
    compile_sec = time.time() - start
    print('compile %.1f sec' % compile_sec)

    def net(X, state):
        return eval_step(params, rest, X, state)  # the arrays as they are

    history = {'train': [], 'val': [], 'tokens_per_sec': [],
               'num_params': sum(p.size for p in jax.tree.leaves(params)),
               'optimizer': optimizer, 'lr': lr, 'compile_sec': compile_sec}
    plot = gb.PerplexityPlot(num_epochs)
    for epoch in range(num_epochs):
        state = model.begin_state(batch_size)
        l_sum, n, start = jnp.zeros(()), 0, time.time()
        for X, Y in gb.data_iter_consecutive(train_indices, batch_size,
                                             num_steps):
            params, rest, opt_state, state, l_sum = train_step(
                params, rest, opt_state, state, X, Y, l_sum)
            n += Y.size
        l_sum = float(l_sum)  # waits for the last step: read once an epoch
        seconds = time.time() - start
        gb.check_finite(l_sum / n, epoch, lr)
        history['train'].append(math.exp(l_sum / n))
        history['tokens_per_sec'].append(n / seconds)
        history['val'].append(gb.eval_perplexity(
            net, model.begin_state, val_indices, batch_size, num_steps))
        nnx.update(model, params, rest)  # the model holds the new arrays
        plot.add(epoch + 1, history['train'][-1], history['val'][-1])
        if (epoch + 1) % pred_period == 0:
            print('epoch %d, perplexity %.2f, val perplexity %.2f, '
                  'time %.1f sec' % (epoch + 1, history['train'][-1],
                                     history['val'][-1], seconds))
            for prefix in prefixes:
                print(' -', gb.predict_rnn_jax(
                    prefix, pred_len, model, vocab_size, idx_to_char,
                    char_to_idx))
    return history


# --- chapter_rnn/rnn-gluon.md
# Concise Implementation of Recurrent Neural Networks
def rnn_input_at_once(inputs, state, params, key=None):
    """gb.rnn, with the input projections of all time steps in one product."""
    W_xh, W_hh, b_h, W_hq, b_q = params
    # (num_steps, batch_size, num_hiddens): X_t W_xh + b_h for every t.
    XW = inputs @ W_xh + b_h

    def step(H, XW_t):  # one (batch_size, num_hiddens) slice per time step
        H = jax.nn.relu(XW_t + H @ W_hh)
        return H, H

    H, Hs = lax.scan(step, state[0], XW)
    return Hs @ W_hq + b_q, (H,)


# --- chapter_rnn/gru.md
# Gated Recurrent Units (GRU)
def gate_params(vocab_size, num_hiddens, key):
    """Return (W_x, W_h, b) of one gate: small random weights, zero bias."""
    key_x, key_h = jax.random.split(key)
    return (jax.random.normal(key_x, (vocab_size, num_hiddens)) * 0.01,
            jax.random.normal(key_h, (num_hiddens, num_hiddens)) * 0.01,
            jnp.zeros(num_hiddens))


def get_gru_params(vocab_size, num_hiddens, key):
    """Return the GRU's parameters, a list of arrays (a pytree)."""
    # The update gate (z), the reset gate (r) and the candidate (h).
    key_z, key_r, key_h, key_q = jax.random.split(key, 4)
    W_xz, W_hz, b_z = gb.gate_params(vocab_size, num_hiddens, key_z)
    W_xr, W_hr, b_r = gb.gate_params(vocab_size, num_hiddens, key_r)
    W_xh, W_hh, b_h = gb.gate_params(vocab_size, num_hiddens, key_h)
    W_hq = jax.random.normal(key_q, (num_hiddens, vocab_size)) * 0.01
    b_q = jnp.zeros(vocab_size)
    return [W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q]


# --- chapter_rnn/gru.md
# Gated Recurrent Units (GRU)
def gru(inputs, state, params, dropout=0, key=None):
    """Run a GRU over time-major (num_steps, batch_size, vocab_size)
    inputs; dropout acts only when a key is given (while training)."""
    if not 0 <= dropout < 1:
        raise ValueError(f'dropout must be in [0, 1), got {dropout}')
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state

    def step(H, X):  # X: (batch_size, vocab_size), one time step
        Z = jax.nn.sigmoid(X @ W_xz + H @ W_hz + b_z)
        R = jax.nn.sigmoid(X @ W_xr + H @ W_hr + b_r)
        H_candidate = jnp.tanh(X @ W_xh + (R * H) @ W_hh + b_h)
        H = Z * H + (1 - Z) * H_candidate
        return H, H  # the state carried on, and this step's output

    H, Hs = lax.scan(step, H, inputs)  # Hs: (num_steps, batch, hiddens)
    if key is not None and dropout > 0:
        keep = jax.random.bernoulli(key, 1 - dropout, Hs.shape)
        Hs = jnp.where(keep, Hs / (1 - dropout), 0)
    return Hs @ W_hq + b_q, (H,)


# --- chapter_rnn/gru.md
# Gated Recurrent Units (GRU)
def val_windows(corpus_indices, num_steps, num_windows=128):
    """Return up to num_windows windows of num_steps + 1 characters of the
    validation text, one per row."""
    _, val_indices = gb.train_val_split(corpus_indices)
    n = min(num_windows, (len(val_indices) - 1) // num_steps)
    if n < 1:
        raise ValueError(f'the validation text has {len(val_indices)} '
                         f'characters, too few for a window of '
                         f'{num_steps + 1}')
    return jnp.array([val_indices[i * num_steps:(i + 1) * num_steps + 1]
                      for i in range(n)])


def run_layer(model, X):
    """Run the one recurrent layer of model over time-major X from the
    zero state; return its outputs, (steps, batch_size, num_hiddens)."""
    if model.num_layers != 1 or model.num_directions != 1:
        raise ValueError(f'the model has {model.num_layers} layers and '
                         f'{model.num_directions} directions; only a '
                         f'one-layer, one-direction model is supported')
    H = jnp.zeros((X.shape[1], model.num_hiddens))
    carry = (H, H) if model.is_lstm else H  # LSTMCell's carry: (c, h)
    _, Y = model.layers[0](X, initial_carry=carry, time_major=True,
                           return_carry=True)
    return Y


def input_grad_norms(model, corpus_indices, vocab_size, num_steps=60):
    """Return g: g[k] is the mean norm of the gradient of the last step's
    loss with respect to the input k steps before the last."""
    windows = gb.val_windows(corpus_indices, num_steps)
    X = jax.nn.one_hot(windows[:, :-1].T, vocab_size)  # (steps, windows,
                                                       #  vocab)

    def last_loss(X, model):
        scores = model.dense(gb.run_layer(model, X)[-1])  # the last step
        return optax.softmax_cross_entropy_with_integer_labels(
            scores, windows[:, -1]).sum()

    grad = nnx.grad(last_loss, argnums=0)(X, model)  # w.r.t. X only
    norms = jnp.linalg.norm(grad, axis=2).mean(axis=1)  # one per step
    return np.asarray(norms)[::-1].copy()  # k = 0 (the last step) first


def layer_gate(layer, X, H_prev, block):
    """Gate `block` of a one-layer Flax GRU or LSTM at every step, given
    the inputs X and the hidden states H_prev the steps started from,
    both (steps, batch_size, features)."""
    cell = layer.cell
    if isinstance(cell, nnx.GRUCell):  # blocks r, z, n in the columns
        gates = {0: 'reset', 1: 'update'}
        W_x, W_h = cell.dense_i.kernel[...], cell.dense_h.kernel[...]
        b = cell.dense_i.bias[...]  # dense_h has no bias
    elif isinstance(cell, (nnx.LSTMCell, nnx.OptimizedLSTMCell)):
        gates = {0: 'input', 1: 'forget', 3: 'output'}
        if isinstance(cell, nnx.LSTMCell):  # one Linear per block
            parts_i = [cell.ii, cell.if_, cell.ig, cell.io]
            parts_h = [cell.hi, cell.hf, cell.hg, cell.ho]
        else:  # blocks i, f, g, o in the columns
            parts_i, parts_h = [cell.dense_i], [cell.dense_h]
        W_x = jnp.concatenate([p.kernel[...] for p in parts_i], axis=1)
        W_h = jnp.concatenate([p.kernel[...] for p in parts_h], axis=1)
        b = jnp.concatenate([p.bias[...] for p in parts_h])
    else:
        raise ValueError(f'layer_gate reads nnx.GRUCell, nnx.LSTMCell '
                         f'and nnx.OptimizedLSTMCell, not '
                         f'{type(cell).__name__}')
    if block not in gates:
        raise ValueError(f'block {block} of a {type(cell).__name__} is no '
                         f'gate; its gates are {gates}')
    cols = slice(block * H_prev.shape[2], (block + 1) * H_prev.shape[2])
    return jax.nn.sigmoid(X @ W_x[:, cols] + H_prev @ W_h[:, cols]
                          + b[cols])


def gate_values(model, corpus_indices, vocab_size, block, num_steps=60):
    """Return every value that gate `block` of a trained one-layer GRU or
    LSTM takes on windows of the validation text, as a NumPy vector."""
    windows = gb.val_windows(corpus_indices, num_steps)
    X = jax.nn.one_hot(windows[:, :-1].T, vocab_size)
    Y = gb.run_layer(model, X)
    H_prev = jnp.concatenate([jnp.zeros_like(Y[:1]), Y[:-1]])  # H_0..
    gate = gb.layer_gate(model.layers[0], X, H_prev, block)
    return np.asarray(gate).ravel()


# --- chapter_rnn/gru.md
# Gated Recurrent Units (GRU)
def grad_shrink(g, first=10, last=50):
    """Return the mean factor by which g shrinks per step, from g[first] to
    g[last]: (g[last] / g[first]) ** (1 / (last - first))."""
    return (g[last] / g[first]) ** (1 / (last - first))


# --- chapter_rnn/lstm.md
# Long Short-Term Memory (LSTM)
def get_lstm_params(vocab_size, num_hiddens, key):
    """Return the LSTM's parameters, a list of arrays (a pytree)."""
    key_i, key_f, key_o, key_c, key_q = jax.random.split(key, 5)
    W_xi, W_hi, b_i = gb.gate_params(vocab_size, num_hiddens, key_i)
    W_xf, W_hf, b_f = gb.gate_params(vocab_size, num_hiddens, key_f)
    W_xo, W_ho, b_o = gb.gate_params(vocab_size, num_hiddens, key_o)
    W_xc, W_hc, b_c = gb.gate_params(vocab_size, num_hiddens, key_c)
    W_hq = jax.random.normal(key_q, (num_hiddens, vocab_size)) * 0.01
    b_q = jnp.zeros(vocab_size)
    return [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o,
            W_xc, W_hc, b_c, W_hq, b_q]


# --- chapter_rnn/lstm.md
# Long Short-Term Memory (LSTM)
def init_lstm_state(batch_size, num_hiddens):
    """Return the all-zero initial state (H, C)."""
    return (jnp.zeros((batch_size, num_hiddens)),
            jnp.zeros((batch_size, num_hiddens)))


def lstm(inputs, state, params, dropout=0, key=None):
    """Run an LSTM over time-major (num_steps, batch_size, vocab_size)
    inputs; dropout acts only when a key is given (while training)."""
    if not 0 <= dropout < 1:
        raise ValueError(f'dropout must be in [0, 1), got {dropout}')
    [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o,
     W_xc, W_hc, b_c, W_hq, b_q] = params

    def step(state, X):  # X: (batch_size, vocab_size), one time step
        H, C = state
        I = jax.nn.sigmoid(X @ W_xi + H @ W_hi + b_i)
        F = jax.nn.sigmoid(X @ W_xf + H @ W_hf + b_f)
        O = jax.nn.sigmoid(X @ W_xo + H @ W_ho + b_o)
        C_candidate = jnp.tanh(X @ W_xc + H @ W_hc + b_c)
        C = F * C + I * C_candidate
        H = O * jnp.tanh(C)
        return (H, C), H  # the state carried on, and this step's output

    state, Hs = lax.scan(step, state, inputs)  # Hs: (steps, batch, hiddens)
    if key is not None and dropout > 0:
        keep = jax.random.bernoulli(key, 1 - dropout, Hs.shape)
        Hs = jnp.where(keep, Hs / (1 - dropout), 0)
    return Hs @ W_hq + b_q, state


# --- chapter_rnn/lstm.md
# Long Short-Term Memory (LSTM)
def save_params(name, model):
    """Write the parameters of a Flax model to results/<name>.npz."""
    os.makedirs(gb.RESULTS_DIR, exist_ok=True)
    params = nnx.state(model, nnx.Param).flat_state()
    np.savez(os.path.join(gb.RESULTS_DIR, name + '.npz'),
             **{'/'.join(map(str, path)): np.asarray(param[...])
                for path, param in params})


def load_params(name, model):
    """Read parameters written by save_params into a model built alike."""
    path = os.path.join(gb.RESULTS_DIR, name + '.npz')
    if not os.path.exists(path):
        raise FileNotFoundError(
            f'{path} not found: run the section that trains {name!r} '
            f'first (it calls gb.save_params), from this folder')
    params = nnx.state(model, nnx.Param).flat_state()
    with np.load(path) as saved:
        arrays = dict(saved)
    shapes = {'/'.join(map(str, p)): param.shape for p, param in params}
    wrong = sorted(k for k in shapes.keys() | arrays.keys()
                   if k not in shapes or k not in arrays
                   or arrays[k].shape != shapes[k])
    if wrong:
        raise ValueError(f'{path} does not fit the model: the parameters '
                         f'{wrong} are missing on one side or differ in '
                         f'shape')
    nnx.update(model, nnx.from_flat_state(
        [(p, jnp.asarray(arrays['/'.join(map(str, p))]))
         for p, _ in params]))


# --- chapter_rnn/lstm.md
# Long Short-Term Memory (LSTM)
def export_lstm_js(model, idx_to_char, path):
    """Write the weights of an RNNModel over one LSTM layer to a script,
    in the layout of PyTorch's nn.LSTM, which the page reads."""
    if not (model.num_layers == 1 and model.num_directions == 1
            and isinstance(model.layers[0].cell, nnx.LSTMCell)):
        raise ValueError('export_lstm_js writes one unidirectional layer '
                         'of nnx.LSTMCell')
    if len(idx_to_char) != model.vocab_size:
        raise ValueError(f'idx_to_char has {len(idx_to_char)} characters, '
                         f'the model reads {model.vocab_size}')
    cell = model.layers[0].cell

    def rows(linears):  # kernels (in, h) -> blocks of rows (4 * h, in)
        return np.concatenate([np.asarray(l.kernel[...]).T
                               for l in linears])

    b_hh = np.concatenate([np.asarray(l.bias[...])
                           for l in (cell.hi, cell.hf, cell.hg, cell.ho)])
    gb.write_weights_js(path, {
        # Rows of the first four: the gates i, f, g, o, num_hiddens each.
        'W_ih': rows([cell.ii, cell.if_, cell.ig, cell.io]),  # (4h, vocab)
        'W_hh': rows([cell.hi, cell.hf, cell.hg, cell.ho]),  # (4h, h)
        'b_ih': np.zeros_like(b_hh),  # Flax: no bias on the input products
        'b_hh': b_hh,
        'W_out': np.asarray(model.dense.kernel[...]).T,  # (vocab_size, h)
        'b_out': np.asarray(model.dense.bias[...])}, idx_to_char)


# --- chapter_rnn/comparison.md
# Comparing the Models
def char_predictions(model, corpus_indices, vocab_size, gate_block=None,
                     batch_size=32, num_steps=35):
    """Score the validation text as eval_perplexity does; return the
    positions of the scored characters in it, the model's log-probabilities
    there (one row each) and, given gate_block, the mean of that gate of a
    one-layer GRU or LSTM at the step that predicted each character."""
    if model.num_layers != 1 or model.num_directions != 1:
        raise ValueError(f'char_predictions reads a one-layer, '
                         f'one-direction model; this one has '
                         f'{model.num_layers} layers and '
                         f'{model.num_directions} directions')
    _, val_indices = gb.train_val_split(corpus_indices)
    gb.check_corpus_size(len(val_indices), batch_size, num_steps)

    @nnx.jit
    def window(model, carry, X):  # one minibatch, compiled once
        layer = model.layers[0]
        inputs = jax.nn.one_hot(X.T, vocab_size)  # (num_steps, batch, vocab)
        # The layer's outputs before dropout and the dense layer: no
        # dropout, as in eval_perplexity.
        new_carry, Y = layer(inputs, initial_carry=carry, time_major=True,
                             return_carry=True)
        log_probs = jax.nn.log_softmax(model.dense(Y), axis=-1)
        if gate_block is None:
            return new_carry, log_probs, None
        H_0 = carry[1] if model.is_lstm else carry  # LSTMCell's: (c, h)
        H_prev = jnp.concatenate([H_0[None], Y[:-1]])
        gate = gb.layer_gate(layer, inputs, H_prev, gate_block)
        return new_carry, log_probs, gate.mean(axis=2)

    # The model's state, (1, batch_size, num_hiddens), as the layer's carry.
    state = model.begin_state(batch_size)
    carry = (state[1][0], state[0][0]) if model.is_lstm else state[0]
    log_probs, gates = [], []
    for X, _ in gb.data_iter_consecutive(val_indices, batch_size,
                                         num_steps):
        carry, lp, gate = window(model, carry, X)
        log_probs.append(lp)
        if gate is not None:
            gates.append(gate)
    # Row b of every minibatch reads on from position b * batch_len.
    batch_len = len(val_indices) // batch_size
    steps = len(log_probs) * num_steps
    positions = (np.arange(batch_size)[:, None] * batch_len + 1
                 + np.arange(steps)).ravel()
    log_probs = np.asarray(jnp.concatenate(log_probs)).transpose(1, 0, 2)
    gate = np.asarray(jnp.concatenate(gates)).T.ravel() if gates else None
    return positions, log_probs.reshape(-1, vocab_size), gate


# --- chapter_rnn/comparison.md
# Comparing the Models
PLACES = ('space', '1st letter', '2nd letter', '3rd-4th letter',
          '5th letter on')


def ngram_predictions(corpus_indices, n, k, vocab_size, positions):
    """Log-probabilities of the add-k smoothed character n-gram model at
    the given positions of the validation text, one row each."""
    train_indices, val_indices = gb.train_val_split(corpus_indices)
    if min(positions) < n - 1:
        raise ValueError(f'the {n}-gram model needs {n - 1} characters '
                         f'of context; position {min(positions)} has fewer')
    counts = gb.ngram_counts(train_indices, n)
    context_counts = collections.Counter()
    for gram, count in counts.items():
        context_counts[gram[:-1]] += count
    probs = np.empty((len(positions), vocab_size))
    for row, p in enumerate(positions):
        context = tuple(val_indices[p - n + 1:p])
        probs[row] = [counts[context + (c,)] for c in range(vocab_size)]
        probs[row] = ((probs[row] + k)
                      / (context_counts[context] + k * vocab_size))
    return np.log(probs)


def place_in_word(text):
    """Where each character of text stands: an index into PLACES."""
    places, letters = [], 0  # letters of the word before this character
    for char in text:
        if char == ' ':
            places.append(0)
            letters = 0
        else:
            places.append({0: 1, 1: 2, 2: 3, 3: 3}.get(letters, 4))
            letters += 1
    return np.array(places)


def write_page_data(path, store, data):
    """Write data as a script that a web page loads beside it: it puts
    them into window[store] under the file's name."""
    name = os.path.splitext(os.path.basename(path))[0]
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    with open(path, 'w') as f:
        # A plain script, since a page opened from a file may not fetch
        # one.
        f.write(f'window.{store} = window.{store} || {{}};\n'
                f'window.{store}[{json.dumps(name)}] = {json.dumps(data)};\n')


def read_page_data(path):
    """Return the data of a file written by write_page_data."""
    with open(path) as f:
        text = f.read()
    return json.loads(text[text.index('] = ') + 4:].rstrip().rstrip(';'))


# --- chapter_rnn/decoding.md
# Decoding: Greedy Search, Sampling and Beam Search
step_traces = collections.Counter()  # tokens' shape -> traces


@jax.jit(static_argnums=0)  # graphdef: static
def score_step(graphdef, params, rest, state, X):
    """Return (scores, state) of the nnx model split into graphdef, params
    and rest, for tokens X of shape (batch_size, num_steps)."""
    gb.step_traces[X.shape] += 1  # Python runs here only while tracing
    return nnx.merge(graphdef, params, rest)(X, state)


# --- chapter_rnn/decoding.md
# Decoding: Greedy Search, Sampling and Beam Search
def softmax_with_temperature(scores, temperature):
    """Return softmax(scores / temperature) as a float64 NumPy vector."""
    z = np.asarray(scores, dtype=np.float64) / temperature
    z = np.exp(z - z.max())  # the largest term is exp(0): no overflow
    return z / z.sum()


# --- chapter_rnn/decoding.md
# Decoding: Greedy Search, Sampling and Beam Search
def top_k_probs(probs, k):
    """Keep the k largest probabilities (1 <= k), renormalised."""
    keep = np.argsort(-probs, kind='stable')[:k]
    kept = np.zeros_like(probs)
    kept[keep] = probs[keep]
    return kept / kept.sum()


def top_p_probs(probs, p):
    """Keep the fewest largest probabilities summing to >= p, renormalised."""
    order = np.argsort(-probs, kind='stable')
    # The first position at which the running sum reaches p, plus one;
    # at most all of them, should rounding keep the sum just below p = 1.
    n = min(int(np.searchsorted(np.cumsum(probs[order]), p)) + 1,
            len(probs))
    kept = np.zeros_like(probs)
    kept[order[:n]] = probs[order[:n]]
    return kept / kept.sum()


# --- chapter_rnn/decoding.md
# Decoding: Greedy Search, Sampling and Beam Search
@jax.jit
def draw(key, probs):
    """Split key; return the half kept and an index drawn with the other
    from probs."""
    key, subkey = jax.random.split(key)
    return key, jax.random.choice(subkey, probs.shape[0], p=probs)


def predict_sample(prefix, num_chars, model, vocab_size, idx_to_char,
                   char_to_idx, key, temperature=1.0, k=None, p=None):
    """Return prefix followed by num_chars characters sampled with key."""
    gb.check_prefix(prefix, char_to_idx)
    if num_chars < 0:
        raise ValueError(f'num_chars must be >= 0, got {num_chars}')
    if not temperature > 0:
        raise ValueError(f'temperature must be > 0, got {temperature}')
    if k is not None and not (k == int(k) and 1 <= k <= vocab_size):
        raise ValueError(f'k must be a whole number from 1 to vocab_size '
                         f'= {vocab_size}, got {k}')
    if p is not None and not 0 < p <= 1:
        raise ValueError(f'p must be in (0, 1], got {p}')
    graphdef, params, rest = gb.split_for_prediction(model)  # no dropout
    state = model.begin_state(batch_size=1)
    output = [char_to_idx[prefix[0]]]
    for t in range(num_chars + len(prefix) - 1):
        X = jnp.array([[output[-1]]], dtype=jnp.int32)  # always (1, 1)
        (Y, state) = gb.score_step(graphdef, params, rest, state, X)
        if t < len(prefix) - 1:
            output.append(char_to_idx[prefix[t + 1]])
            continue
        probs = gb.softmax_with_temperature(np.asarray(Y[0]), temperature)
        if k is not None:
            probs = gb.top_k_probs(probs, int(k))
        if p is not None:
            probs = gb.top_p_probs(probs, p)
        key, index = gb.draw(key, probs)
        output.append(int(index))
    return ''.join([idx_to_char[i] for i in output])


# --- chapter_rnn/decoding.md
# Decoding: Greedy Search, Sampling and Beam Search
def predict_top_k(prefix, num_chars, model, vocab_size, idx_to_char,
                  char_to_idx, key, k):
    """Return prefix followed by num_chars characters drawn from the top k."""
    return gb.predict_sample(prefix, num_chars, model, vocab_size,
                             idx_to_char, char_to_idx, key, k=k)


def predict_top_p(prefix, num_chars, model, vocab_size, idx_to_char,
                  char_to_idx, key, p):
    """Return prefix followed by num_chars nucleus-sampled characters."""
    return gb.predict_sample(prefix, num_chars, model, vocab_size,
                             idx_to_char, char_to_idx, key, p=p)


# --- chapter_rnn/decoding.md
# Decoding: Greedy Search, Sampling and Beam Search
def predict_beam_search(prefix, num_chars, model, vocab_size, idx_to_char,
                        char_to_idx, beam_width):
    """Return prefix followed by the best of beam_width beams."""
    gb.check_prefix(prefix, char_to_idx)
    if num_chars < 0:
        raise ValueError(f'num_chars must be >= 0, got {num_chars}')
    if not (beam_width == int(beam_width) and beam_width >= 1):
        raise ValueError(f'beam_width must be a whole number >= 1, got '
                         f'{beam_width}')
    graphdef, params, rest = gb.split_for_prediction(model)  # no dropout
    state = model.begin_state(batch_size=1)
    beams, scores = [[]], np.zeros(1)  # characters, summed log-probability
    for char in prefix:
        X = jnp.array([[char_to_idx[char]]], dtype=jnp.int32)
        (Y, state) = gb.score_step(graphdef, params, rest, state, X)
    for t in range(num_chars):
        if t > 0:  # X: (number of beams, 1), each beam's last character
            X = jnp.array([[beam[-1]] for beam in beams], dtype=jnp.int32)
            (Y, state) = gb.score_step(graphdef, params, rest, state, X)
        Y = np.asarray(Y).astype(np.float64)  # (number of beams, vocab_size)
        log_probs = Y - Y.max(axis=1, keepdims=True)
        log_probs -= np.log(np.exp(log_probs).sum(axis=1, keepdims=True))
        # Row r, column c: beam r extended by character c.
        candidates = (scores[:, None] + log_probs).reshape(-1)
        best = np.argsort(-candidates, kind='stable')[:int(beam_width)]
        rows, chars = best // vocab_size, best % vocab_size
        beams = [beams[r] + [c] for r, c in zip(rows, chars)]
        scores = candidates[best]
        # H, or each of (H, C): (num_layers, number of beams,
        # num_hiddens); row r of the new state is row rows[r].
        if isinstance(state, tuple):
            state = tuple(s[:, rows] for s in state)
        else:
            state = state[:, rows]
    return prefix + ''.join([idx_to_char[c] for c in beams[0]])


# --- chapter_rnn/decoding.md
# Decoding: Greedy Search, Sampling and Beam Search
def write_weights_js(path, arrays, idx_to_char):
    """Write float32 arrays and a vocabulary as a script for a web page."""
    weights = {}
    for key, array in arrays.items():
        array = np.ascontiguousarray(array, dtype='<f4')  # little-endian
        weights[key] = {'shape': list(array.shape),
                        'data': base64.b64encode(array.tobytes()).decode()}
    # A plain script beside the page (gb.write_page_data, from
    # sec_rnn_comparison), since a page opened from a file may not fetch.
    gb.write_page_data(path, 'RNN_BOOK_MODELS',
                       {'vocab': list(idx_to_char), 'weights': weights})


def read_weights_js(path):
    """Return (arrays, idx_to_char) from a file written by write_weights_js."""
    spec = gb.read_page_data(path)
    arrays = {key: np.frombuffer(base64.b64decode(w['data']),
                                 dtype='<f4').reshape(w['shape'])
              for key, w in spec['weights'].items()}
    return arrays, spec['vocab']


# --- chapter_rnn/tools.md
# The Book's Tools
def check_finite(mean_loss, epoch, lr):
    """Raise FloatingPointError if training diverged."""
    # exp(710) overflows a float: such a loss has no perplexity either.
    if not math.isfinite(mean_loss) or mean_loss > 700:
        raise FloatingPointError(
            f'the mean training loss became {mean_loss} in epoch '
            f'{epoch + 1}; the learning rate {lr} is too large for this '
            f'model and optimizer')


# --- chapter_rnn/tools.md
# The Book's Tools
class PerplexityPlot:
    """Training and validation perplexity against epochs, live in Jupyter."""
    def __init__(self, num_epochs):
        self.fig, self.ax = plt.subplots(figsize=(4.5, 3))
        plt.close(self.fig)  # shown through the display handle only
        self.num_epochs = num_epochs
        self.history = ([], [], [])
        self.handle = None

    def add(self, epoch, train_ppl, val_ppl):
        for values, value in zip(self.history, (epoch, train_ppl, val_ppl)):
            values.append(value)
        if get_ipython() is None:
            return
        epochs, train, val = self.history
        self.ax.cla()
        self.ax.plot(epochs, train, '-', label='training')
        self.ax.plot(epochs, val, '--', label='validation')
        self.ax.set_xlim(1, max(self.num_epochs, 2))
        self.ax.set_xlabel('epoch')
        self.ax.set_ylabel('perplexity')
        self.ax.grid(True, alpha=0.3)
        self.ax.legend()
        svg = display.SVG(gb.figure_svg(self.fig))
        if self.handle is None:
            self.handle = display.display(svg, display_id=True)
        else:
            self.handle.update(svg)


# --- chapter_rnn/tools.md
# The Book's Tools
RESULTS_DIR = 'results'


def save_history(name, history):
    """Write a training history to results/<name>.json."""
    os.makedirs(gb.RESULTS_DIR, exist_ok=True)
    with open(os.path.join(gb.RESULTS_DIR, name + '.json'), 'w') as f:
        json.dump(history, f, indent=1)


def load_history(name):
    """Read a training history written by save_history."""
    path = os.path.join(gb.RESULTS_DIR, name + '.json')
    if not os.path.exists(path):
        raise FileNotFoundError(
            f'{path} not found: run the section that trains {name!r} '
            f'first (it calls gb.save_history), from this folder')
    with open(path) as f:
        return json.load(f)


def print_summary(name, history):
    """Print the best validation epoch and the size of a training run."""
    val = history['val']
    best = val.index(min(val))
    print('%s: best val perplexity %.2f at epoch %d of %d, train %.2f; '
          '%d parameters' % (name, val[best], best + 1, len(val),
                             history['train'][best], history['num_params']))


# --- chapter_rnn/tools.md
# The Book's Tools
GLUE_MIME = 'application/vnd.rnn-book.glue+json'


def glue(name, value, fmt='%.2f'):
    """Record value, formatted by fmt, for the text to quote as name."""
    if not re.fullmatch(r'[a-z][a-z0-9_]*', name):
        raise ValueError(f'a glue name is lower case letters, digits and '
                         f'underscores, starting with a letter: {name!r}')
    text = fmt % value
    if get_ipython() is not None:  # plain Python: nothing records it
        # Jupyter shows the text; the book's build reads the record.
        display.display({gb.GLUE_MIME: {'name': name, 'text': text},
                         'text/plain': f'{name} = {text}'}, raw=True)


# --- chapter_rnn/tools.md
# The Book's Tools
def scratch_step(rnn, params, init_rnn_state, num_hiddens, vocab_size,
                 batch, lr=1, clipping_theta=1, key=None):
    """A function that runs one training step of a from-scratch model on
    batch, returns the new parameters when they are computed, and starts
    its next call from them. key draws the dropout masks (a model without
    dropout ignores it)."""
    X, Y = batch
    _, update = gb.get_optimizer('sgd', lr)
    train_step = gb.scratch_train_step(rnn, vocab_size, clipping_theta,
                                       update)
    key = jax.random.key(0) if key is None else key
    state = init_rnn_state(X.shape[0], num_hiddens)

    def one_step(params, i):
        # Step i's dropout masks come from a key of its own.
        params, _, _, l = train_step(params, (), state, X, Y,
                                     jax.random.fold_in(key, i))
        return params, l

    # Compiled now, for this minibatch's shapes: no step compiles.
    one_step = jax.jit(one_step).lower(params, 0).compile()
    i = 0

    def step():
        nonlocal params, i
        params, l = gb.synchronize(one_step(params, i))
        i += 1
        return params
    return step


def layer_step(model, batch, key, lr=1, clipping_theta=1):
    """A function that runs one training step of an RNNModel, initialised
    from key as the training function initialises it, on batch; it
    returns the new parameters when they are computed, and its next call
    starts from them."""
    X, Y = batch
    gb.reinitialize(model, key)
    model.train()  # dropout on, as in training
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    tx = gb.get_optax('sgd', lr, clipping_theta)
    opt_state = tx.init(params)
    state = model.begin_state(X.shape[0])
    train_step = gb.model_train_step(graphdef, model.vocab_size, tx)
    train_step = jax.jit(train_step).lower(
        params, rest, opt_state, state, X, Y).compile()

    def step():
        nonlocal params, rest, opt_state
        params, rest, opt_state, _, l = gb.synchronize(
            train_step(params, rest, opt_state, state, X, Y))
        return params
    return step


def synchronize(values):
    """Wait until the arrays of values (any pytree) have been computed, and
    return values: JAX runs the work it is given asynchronously."""
    return jax.block_until_ready(values)


# --- chapter_rnn/tools.md
# The Book's Tools
def measure_speed(steps, num_tokens, num_rounds=10, steps_per_round=3):
    """Time training steps of several models in turns and print each
    one's median speed in tokens per second; return the medians."""
    for step in steps.values():
        step()  # the first step allocates memory and picks kernels
    rates = {name: [] for name in steps}
    for _ in range(num_rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(steps_per_round):
                step()
            seconds = time.perf_counter() - start
            rates[name].append(num_tokens * steps_per_round / seconds)
    speed = {}
    for name, values in rates.items():
        low, median, high = statistics.quantiles(values, n=4)
        speed[name] = median
        print('%-23s %6.0f tokens/sec (middle half %.0f to %.0f)' % (
            name + ':', median, low, high))
    return speed


__all__ = [
    'figure_svg',
    'plot_curves',
    'set_seed',
    'DATA_DIR',
    'TIME_MACHINE_SHA1',
    'read_time_machine',
    'clean_text',
    'ngram_counts',
    'train_val_split',
    'load_data_time_machine',
    'check_corpus_size',
    'data_iter_random',
    'data_iter_consecutive',
    'to_onehot',
    'try_gpu',
    'get_rnn_params',
    'init_rnn_state',
    'rnn',
    'check_prefix',
    'rnn_step',
    'predict_rnn',
    'grad_clipping',
    'sgd',
    'optax_optimizer',
    'get_optimizer',
    'sum_cross_entropy',
    'eval_perplexity',
    'scratch_train_step',
    'train_and_predict_rnn',
    'RNNModel',
    'model_step',
    'split_for_prediction',
    'predict_rnn_jax',
    'reinitialize',
    'get_optax',
    'model_train_step',
    'train_and_predict_rnn_jax',
    'rnn_input_at_once',
    'gate_params',
    'get_gru_params',
    'gru',
    'val_windows',
    'run_layer',
    'input_grad_norms',
    'layer_gate',
    'gate_values',
    'grad_shrink',
    'get_lstm_params',
    'init_lstm_state',
    'lstm',
    'save_params',
    'load_params',
    'export_lstm_js',
    'char_predictions',
    'PLACES',
    'ngram_predictions',
    'place_in_word',
    'write_page_data',
    'read_page_data',
    'step_traces',
    'score_step',
    'softmax_with_temperature',
    'top_k_probs',
    'top_p_probs',
    'draw',
    'predict_sample',
    'predict_top_k',
    'predict_top_p',
    'predict_beam_search',
    'write_weights_js',
    'read_weights_js',
    'check_finite',
    'PerplexityPlot',
    'RESULTS_DIR',
    'save_history',
    'load_history',
    'print_summary',
    'GLUE_MIME',
    'glue',
    'scratch_step',
    'layer_step',
    'synchronize',
    'measure_speed',
]
