# Generated from chapter_rnn/ by build/make_lib.py: edit the chapter, not
# this file. Each block below is a `#@save` cell of the PyTorch tab (or of
# every tab), in book order. It never imports mxnet.
"""The PyTorch helpers that the RNN chapter saves for later sections."""
import sys

# Saved code calls other helpers as `gb.name`, exactly as the book does.
gb = sys.modules[__name__]


# --- chapter_rnn/sequence.md
# Sequence Models
import base64
import collections
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
import numpy as np
import torch
from IPython import display, get_ipython
from matplotlib import pyplot as plt
from torch import nn
from torch.nn import functional as F


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
    """Seed Python's, NumPy's and torch's generators (RNN_BOOK_SEED or 0)."""
    if seed is None:
        text = os.environ.get('RNN_BOOK_SEED', '0')
        if not text.isdigit():
            raise ValueError(f'RNN_BOOK_SEED must be a whole number >= 0, '
                             f'not {text!r}')
        seed = int(text)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds the CUDA and MPS generators


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
def data_iter_random(corpus_indices, batch_size, num_steps, device=None):
    """Yield minibatches of randomly ordered, non-overlapping sequences."""
    gb.check_corpus_size(len(corpus_indices), batch_size, num_steps,
                         is_random_iter=True)
    # Subtract 1 so that the label of the last example stays in the corpus.
    num_examples = (len(corpus_indices) - 1) // num_steps
    epoch_size = num_examples // batch_size
    example_indices = list(range(num_examples))
    random.shuffle(example_indices)  # Python's random, as in the mxnet tab
    for i in range(0, epoch_size * batch_size, batch_size):
        starts = [j * num_steps for j in example_indices[i: i + batch_size]]
        X = [corpus_indices[s: s + num_steps] for s in starts]
        Y = [corpus_indices[s + 1: s + num_steps + 1] for s in starts]
        yield (torch.tensor(X, dtype=torch.long, device=device),
               torch.tensor(Y, dtype=torch.long, device=device))


# --- chapter_rnn/lang-model-dataset.md
# A Character-Level Language Model Data Set
def data_iter_consecutive(corpus_indices, batch_size, num_steps, device=None):
    """Yield minibatches whose rows continue those of the last minibatch."""
    gb.check_corpus_size(len(corpus_indices), batch_size, num_steps)
    corpus_indices = torch.tensor(corpus_indices, dtype=torch.long,
                                  device=device)
    batch_len = len(corpus_indices) // batch_size
    # Row i holds tokens [i * batch_len, (i + 1) * batch_len).
    indices = corpus_indices[: batch_size * batch_len].reshape(
        (batch_size, batch_len))  # (batch_size, batch_len)
    epoch_size = (batch_len - 1) // num_steps
    for i in range(0, epoch_size * num_steps, num_steps):
        X = indices[:, i: i + num_steps]
        Y = indices[:, i + 1: i + num_steps + 1]
        yield X, Y


# --- chapter_rnn/rnn-scratch.md
# Implementing a Recurrent Neural Network from Scratch
def to_onehot(X, size):
    """Turn (batch_size, num_steps) indices into num_steps one-hot tensors."""
    # X.T has shape (num_steps, batch_size); each row is one time step.
    # one_hot takes integer indices and returns integers: cast both ways.
    return [nn.functional.one_hot(x.long(), size).float() for x in X.T]


# --- chapter_rnn/rnn-scratch.md
# Implementing a Recurrent Neural Network from Scratch
def try_gpu():
    """Return a CUDA GPU if there is one, else Apple's MPS, else the CPU."""
    if torch.cuda.is_available():
        return torch.device('cuda')
    if torch.backends.mps.is_available():
        return torch.device('mps')
    return torch.device('cpu')


def get_rnn_params(vocab_size, num_hiddens, device):
    """Return [W_xh, W_hh, b_h, W_hq, b_q], each recording gradients."""
    def normal(shape):
        return torch.randn(shape, device=device) * 0.01

    W_xh = normal((vocab_size, num_hiddens))
    W_hh = normal((num_hiddens, num_hiddens))
    b_h = torch.zeros(num_hiddens, device=device)
    W_hq = normal((num_hiddens, vocab_size))
    b_q = torch.zeros(vocab_size, device=device)
    params = [W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params


# --- chapter_rnn/rnn-scratch.md
# Implementing a Recurrent Neural Network from Scratch
def init_rnn_state(batch_size, num_hiddens, device):
    """Return the all-zero initial state (H,)."""
    return (torch.zeros((batch_size, num_hiddens), device=device),)


# --- chapter_rnn/rnn-scratch.md
# Implementing a Recurrent Neural Network from Scratch
def rnn(inputs, state, params):
    """Run a ReLU RNN over a list of (batch_size, vocab_size) inputs."""
    W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        H = torch.relu(X @ W_xh + H @ W_hh + b_h)
        Y = H @ W_hq + b_q
        outputs.append(Y)
    return outputs, (H,)


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
def predict_rnn(prefix, num_chars, rnn, params, init_rnn_state,
                num_hiddens, vocab_size, device, idx_to_char, char_to_idx):
    """Return prefix followed by num_chars greedily predicted characters."""
    gb.check_prefix(prefix, char_to_idx)
    if num_chars < 0:
        raise ValueError(f'num_chars must be >= 0, got {num_chars}')
    state = init_rnn_state(1, num_hiddens, device)
    output = [char_to_idx[prefix[0]]]
    with torch.no_grad():
        for t in range(num_chars + len(prefix) - 1):
            # The last character as (batch_size, num_steps) = (1, 1).
            X = gb.to_onehot(torch.tensor([[output[-1]]], device=device),
                             vocab_size)
            (Y, state) = rnn(X, state, params)
            if t < len(prefix) - 1:
                output.append(char_to_idx[prefix[t + 1]])
            else:
                output.append(int(Y[0].argmax(dim=1).item()))
    return ''.join([idx_to_char[i] for i in output])


# --- chapter_rnn/rnn-scratch.md
# Implementing a Recurrent Neural Network from Scratch
def grad_clipping(params, theta, device):
    """Rescale the gradients of params to a total L2 norm of at most theta."""
    grads = [param.grad for param in params]
    # The norm of all entries is the norm of the gradients' norms.
    norm = torch.linalg.vector_norm(
        torch.stack([torch.linalg.vector_norm(grad) for grad in grads]))
    scale = torch.clamp(theta / norm, max=1)  # stays a tensor: no waiting
    for grad in grads:
        grad.mul_(scale)


# --- chapter_rnn/rnn-scratch.md
# Implementing a Recurrent Neural Network from Scratch
def sgd(params, lr, batch_size):
    """Minibatch SGD: step each parameter against its gradient in place."""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size


# --- chapter_rnn/rnn-scratch.md
# Implementing a Recurrent Neural Network from Scratch
def eval_perplexity(net, begin_state, corpus_indices, batch_size,
                    num_steps, device):
    """Return the perplexity of net over corpus_indices."""
    state = begin_state(batch_size)
    l_sum, n = 0.0, 0
    with torch.no_grad():
        for X, Y in gb.data_iter_consecutive(corpus_indices, batch_size,
                                             num_steps, device):
            output, state = net(X, state)
            # output: (num_steps * batch_size, vocab_size), time step
            # major, so the labels are read column by column, Y.T.
            y = Y.T.reshape(-1).long()
            l_sum += nn.functional.cross_entropy(output, y,
                                                 reduction='sum').item()
            n += y.numel()
    return math.exp(l_sum / n)


# --- chapter_rnn/rnn-scratch.md
# Implementing a Recurrent Neural Network from Scratch
def train_and_predict_rnn(rnn, get_params, init_rnn_state, num_hiddens,
                          vocab_size, device, corpus_indices, idx_to_char,
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
    params = get_params()
    if optimizer == 'sgd':
        def update():
            gb.sgd(params, lr, 1)  # l is a mean already
    else:  # PyTorch's implementation of the named optimizer, e.g. 'adam'
        classes = {name.lower(): cls
                   for name, cls in vars(torch.optim).items()
                   if isinstance(cls, type) and name != 'Optimizer'
                   and issubclass(cls, torch.optim.Optimizer)}
        if optimizer.lower() not in classes:
            raise ValueError(f'Cannot find optimizer {optimizer} in '
                             f'torch.optim')
        update = classes[optimizer.lower()](params, lr=lr).step

    def net(X, state):
        outputs, state = rnn(gb.to_onehot(X, vocab_size), state, params)
        return torch.cat(outputs, dim=0), state

    def begin_state(batch_size):
        return init_rnn_state(batch_size, num_hiddens, device)

    history = {'train': [], 'val': [], 'tokens_per_sec': [],
               'num_params': sum(param.numel() for param in params),
               'optimizer': optimizer, 'lr': lr}
    plot = gb.PerplexityPlot(num_epochs)
    for epoch in range(num_epochs):
        state = begin_state(batch_size)
        l_sum, n, start = torch.zeros((), device=device), 0, time.time()
        for X, Y in data_iter_fn(train_indices, batch_size, num_steps,
                                 device):
            if is_random_iter:
                state = begin_state(batch_size)
            else:
                state = tuple(s.detach() for s in state)
            output, state = net(X, state)
            y = Y.T.reshape(-1).long()
            l = nn.functional.cross_entropy(output, y)
            for param in params:
                param.grad = None  # backward adds to .grad: start empty
            l.backward()
            gb.grad_clipping(params, clipping_theta, device)
            update()
            l_sum += l.detach() * y.numel()  # read once an epoch
            n += y.numel()
        l_sum = l_sum.item()
        seconds = time.time() - start
        gb.check_finite(l_sum / n, epoch, lr)
        history['train'].append(math.exp(l_sum / n))
        history['tokens_per_sec'].append(n / seconds)
        history['val'].append(gb.eval_perplexity(
            net, begin_state, val_indices, batch_size, num_steps, device))
        plot.add(epoch + 1, history['train'][-1], history['val'][-1])
        if (epoch + 1) % pred_period == 0:
            print('epoch %d, perplexity %.2f, val perplexity %.2f, '
                  'time %.1f sec' % (epoch + 1, history['train'][-1],
                                     history['val'][-1], seconds))
            for prefix in prefixes:
                print(' -', gb.predict_rnn(
                    prefix, pred_len, rnn, params, init_rnn_state,
                    num_hiddens, vocab_size, device, idx_to_char,
                    char_to_idx))
    return history


# --- chapter_rnn/rnn-gluon.md
# Concise Implementation of Recurrent Neural Networks
class RNNModel(nn.Module):
    """A recurrent layer followed by a dense layer over the vocabulary."""
    def __init__(self, rnn_layer, vocab_size, dropout=0):
        super().__init__()
        if rnn_layer.input_size != vocab_size or rnn_layer.batch_first:
            raise ValueError(
                f'rnn_layer must take time-major one-hot inputs of length '
                f'vocab_size = {vocab_size}; it was built with input_size='
                f'{rnn_layer.input_size}, batch_first='
                f'{rnn_layer.batch_first}')
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.num_directions = 2 if rnn_layer.bidirectional else 1
        self.dropout = nn.Dropout(dropout)  # active in training mode only
        self.dense = nn.Linear(self.num_directions * rnn_layer.hidden_size,
                               vocab_size)

    def forward(self, inputs, state):
        # inputs: (batch_size, num_steps) -> X: (num_steps, batch_size,
        # vocab_size), the time-major layout that rnn_layer expects.
        X = F.one_hot(inputs.T.long(), self.vocab_size).float()
        Y, state = self.rnn(X, state)
        # Y: (num_steps, batch_size, num_directions * num_hiddens). The
        # dense layer sees (num_steps * batch_size, Y.shape[-1]) and
        # returns (num_steps * batch_size, vocab_size): rows are time
        # step major.
        output = self.dense(self.dropout(Y).reshape((-1, Y.shape[-1])))
        return output, state

    def begin_state(self, batch_size, device=None):
        """Return the all-zero initial state: H, or (H, C) for an LSTM."""
        if device is None:  # where the model's parameters are
            device = self.dense.weight.device
        # H: (num_layers * num_directions, batch_size, num_hiddens).
        H = torch.zeros((self.num_directions * self.rnn.num_layers,
                         batch_size, self.rnn.hidden_size), device=device)
        if isinstance(self.rnn, nn.LSTM):
            return (H, torch.zeros_like(H))
        return H


# --- chapter_rnn/rnn-gluon.md
# Concise Implementation of Recurrent Neural Networks
def predict_rnn_pytorch(prefix, num_chars, model, vocab_size, device,
                        idx_to_char, char_to_idx):
    """Return prefix followed by num_chars greedily predicted characters."""
    gb.check_prefix(prefix, char_to_idx)
    if num_chars < 0:
        raise ValueError(f'num_chars must be >= 0, got {num_chars}')
    was_training = model.training
    model.eval()  # no dropout while predicting
    state = model.begin_state(batch_size=1, device=device)
    output = [char_to_idx[prefix[0]]]
    with torch.no_grad():  # no graph to record: nothing to differentiate
        for t in range(num_chars + len(prefix) - 1):
            X = torch.tensor([[output[-1]]], device=device)
            (Y, state) = model(X, state)  # parameters live in the model
            if t < len(prefix) - 1:
                output.append(char_to_idx[prefix[t + 1]])
            else:
                output.append(int(Y.argmax(dim=1).item()))
    model.train(was_training)
    return ''.join([idx_to_char[i] for i in output])


# --- chapter_rnn/rnn-gluon.md
# Concise Implementation of Recurrent Neural Networks
def train_and_predict_rnn_pytorch(model, num_hiddens, vocab_size, device,
                                  corpus_indices, idx_to_char, char_to_idx,
                                  num_epochs, num_steps, lr, clipping_theta,
                                  batch_size, pred_period, pred_len,
                                  prefixes, optimizer='sgd',
                                  initializer=None):
    """Train an RNNModel; return its history of perplexity, speed."""
    train_indices, val_indices = gb.train_val_split(corpus_indices)
    gb.check_corpus_size(len(val_indices), batch_size, num_steps)
    # 'sgd', 'adam', 'rmsprop', ...: torch.optim's classes by name.
    optimizers = {name.lower(): cls
                  for name, cls in vars(torch.optim).items()
                  if isinstance(cls, type) and name != 'Optimizer'
                  and issubclass(cls, torch.optim.Optimizer)}
    if optimizer.lower() not in optimizers:
        raise ValueError(f'Cannot find optimizer {optimizer} in '
                         f'torch.optim')
    model.to(device)
    with torch.no_grad():  # start afresh, like Gluon's force_reinit
        for param in model.parameters():
            if param.dim() == 1:  # a bias
                nn.init.zeros_(param)
            elif initializer is None:
                nn.init.normal_(param, std=0.01)
            else:
                initializer(param)
    params = list(model.parameters())
    trainer = optimizers[optimizer.lower()](params, lr=lr)
    loss = nn.CrossEntropyLoss()

    def begin_state(batch_size):
        return model.begin_state(batch_size=batch_size, device=device)

    history = {'train': [], 'val': [], 'tokens_per_sec': [],
               'num_params': sum(p.numel() for p in params),
               'optimizer': optimizer, 'lr': lr}
    plot = gb.PerplexityPlot(num_epochs)
    for epoch in range(num_epochs):
        model.train()
        state = begin_state(batch_size)
        l_sum, n, start = torch.zeros(1, device=device), 0, time.time()
        for X, Y in gb.data_iter_consecutive(train_indices, batch_size,
                                             num_steps, device):
            # H, or (H, C) for an LSTM: keep the values, drop the graph.
            if isinstance(state, tuple):
                state = tuple(s.detach() for s in state)
            else:
                state = state.detach()
            (output, state) = model(X, state)
            y = Y.T.reshape((-1,)).long()
            l = loss(output, y)  # the mean over the minibatch
            trainer.zero_grad()
            l.backward()
            gb.grad_clipping(params, clipping_theta, device)
            trainer.step()
            l_sum += l.detach() * y.numel()  # read once an epoch
            n += y.numel()
        l_sum = l_sum.item()
        seconds = time.time() - start
        gb.check_finite(l_sum / n, epoch, lr)
        history['train'].append(math.exp(l_sum / n))
        history['tokens_per_sec'].append(n / seconds)
        model.eval()  # no dropout while validating
        with torch.no_grad():
            history['val'].append(gb.eval_perplexity(
                model, begin_state, val_indices, batch_size, num_steps,
                device))
        plot.add(epoch + 1, history['train'][-1], history['val'][-1])
        if (epoch + 1) % pred_period == 0:
            print('epoch %d, perplexity %.2f, val perplexity %.2f, '
                  'time %.1f sec' % (epoch + 1, history['train'][-1],
                                     history['val'][-1], seconds))
            for prefix in prefixes:
                print(' -', gb.predict_rnn_pytorch(
                    prefix, pred_len, model, vocab_size, device,
                    idx_to_char, char_to_idx))
    return history


# --- chapter_rnn/rnn-gluon.md
# Concise Implementation of Recurrent Neural Networks
def rnn_input_at_once(inputs, state, params):
    """gb.rnn, with the input projections of all time steps in one product."""
    W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    # (num_steps, batch_size, num_hiddens): X_t W_xh + b_h for every t.
    XW = torch.stack(inputs) @ W_xh + b_h
    outputs = []
    for XW_t in XW:  # one (batch_size, num_hiddens) slice per time step
        H = torch.relu(XW_t + H @ W_hh)
        outputs.append(H @ W_hq + b_q)
    return outputs, (H,)


# --- chapter_rnn/gru.md
# Gated Recurrent Units (GRU)
def gate_params(vocab_size, num_hiddens, device):
    """Return (W_x, W_h, b) of one gate: small random weights, zero bias."""
    return (torch.randn((vocab_size, num_hiddens), device=device) * 0.01,
            torch.randn((num_hiddens, num_hiddens), device=device) * 0.01,
            torch.zeros(num_hiddens, device=device))


def get_gru_params(vocab_size, num_hiddens, device):
    """Return the GRU's parameters, each recording gradients."""
    # The update gate (z), the reset gate (r) and the candidate (h).
    W_xz, W_hz, b_z = gb.gate_params(vocab_size, num_hiddens, device)
    W_xr, W_hr, b_r = gb.gate_params(vocab_size, num_hiddens, device)
    W_xh, W_hh, b_h = gb.gate_params(vocab_size, num_hiddens, device)
    W_hq = torch.randn((num_hiddens, vocab_size), device=device) * 0.01
    b_q = torch.zeros(vocab_size, device=device)
    params = [W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params


# --- chapter_rnn/gru.md
# Gated Recurrent Units (GRU)
def gru(inputs, state, params, dropout=0):
    """Run a GRU over a list of (batch_size, vocab_size) inputs."""
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    # Dropout only while a graph is recorded for training: evaluation and
    # prediction run under torch.no_grad().
    training = dropout > 0 and torch.is_grad_enabled()
    outputs = []
    for X in inputs:
        Z = torch.sigmoid(X @ W_xz + H @ W_hz + b_z)
        R = torch.sigmoid(X @ W_xr + H @ W_hr + b_r)
        H_candidate = torch.tanh(X @ W_xh + (R * H) @ W_hh + b_h)
        H = Z * H + (1 - Z) * H_candidate
        outputs.append(F.dropout(H, dropout, training) @ W_hq + b_q)
    return outputs, (H,)


# --- chapter_rnn/gru.md
# Gated Recurrent Units (GRU)
def val_windows(corpus_indices, num_steps, device, num_windows=128):
    """Return up to num_windows windows of num_steps + 1 characters of the
    validation text, one per row."""
    _, val_indices = gb.train_val_split(corpus_indices)
    n = min(num_windows, (len(val_indices) - 1) // num_steps)
    if n < 1:
        raise ValueError(f'the validation text has {len(val_indices)} '
                         f'characters, too few for a window of '
                         f'{num_steps + 1}')
    return torch.tensor([val_indices[i * num_steps:(i + 1) * num_steps + 1]
                         for i in range(n)], device=device)


def input_grad_norms(model, corpus_indices, vocab_size, device,
                     num_steps=60):
    """Return g: g[k] is the mean norm of the gradient of the last step's
    loss with respect to the input k steps before the last."""
    windows = val_windows(corpus_indices, num_steps, device)
    X = F.one_hot(windows[:, :-1].T, vocab_size).float()
    X.requires_grad_(True)  # (steps, windows, vocab)
    Y, _ = model.rnn(X, model.begin_state(X.shape[1], device))
    scores = model.dense(Y[-1])  # the last step only
    l = F.cross_entropy(scores, windows[:, -1], reduction='sum')
    grad, = torch.autograd.grad(l, X)  # leaves the parameters' .grad alone
    norms = grad.norm(dim=2).mean(dim=1)  # one per step
    return norms.flip(0).cpu().numpy()  # k = 0 (the last step) first


def layer_gate(layer, X, H_prev, block):
    """Gate `block` of a one-layer GRU or LSTM at every step, given the
    inputs X and the hidden states H_prev the steps started from, both
    (steps, batch_size, features)."""
    rows = slice(block * H_prev.shape[2], (block + 1) * H_prev.shape[2])
    return torch.sigmoid(
        X @ layer.weight_ih_l0[rows].T + layer.bias_ih_l0[rows]
        + H_prev @ layer.weight_hh_l0[rows].T + layer.bias_hh_l0[rows])


def gate_values(model, corpus_indices, vocab_size, device, block,
                num_steps=60):
    """Return every value that gate `block` of a trained one-layer GRU or
    LSTM takes on windows of the validation text, as a NumPy vector."""
    windows = val_windows(corpus_indices, num_steps, device)
    X = F.one_hot(windows[:, :-1].T, vocab_size).float()
    with torch.no_grad():
        Y, _ = model.rnn(X, model.begin_state(X.shape[1], device))
        H_prev = torch.cat([torch.zeros_like(Y[:1]), Y[:-1]])  # H_0..H_T-1
        gate = layer_gate(model.rnn, X, H_prev, block)
    return gate.flatten().cpu().numpy()


# --- chapter_rnn/gru.md
# Gated Recurrent Units (GRU)
def grad_shrink(g, first=10, last=50):
    """Return the mean factor by which g shrinks per step, from g[first] to
    g[last]: (g[last] / g[first]) ** (1 / (last - first))."""
    return (g[last] / g[first]) ** (1 / (last - first))


# --- chapter_rnn/lstm.md
# Long Short-Term Memory (LSTM)
def get_lstm_params(vocab_size, num_hiddens, device):
    """Return the LSTM's parameters, each recording gradients."""
    W_xi, W_hi, b_i = gb.gate_params(vocab_size, num_hiddens, device)
    W_xf, W_hf, b_f = gb.gate_params(vocab_size, num_hiddens, device)
    W_xo, W_ho, b_o = gb.gate_params(vocab_size, num_hiddens, device)
    W_xc, W_hc, b_c = gb.gate_params(vocab_size, num_hiddens, device)
    W_hq = torch.randn((num_hiddens, vocab_size), device=device) * 0.01
    b_q = torch.zeros(vocab_size, device=device)
    params = [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o,
              W_xc, W_hc, b_c, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params


# --- chapter_rnn/lstm.md
# Long Short-Term Memory (LSTM)
def init_lstm_state(batch_size, num_hiddens, device):
    """Return the all-zero initial state (H, C)."""
    return (torch.zeros((batch_size, num_hiddens), device=device),
            torch.zeros((batch_size, num_hiddens), device=device))


def lstm(inputs, state, params, dropout=0):
    """Run an LSTM over a list of (batch_size, vocab_size) inputs."""
    [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o,
     W_xc, W_hc, b_c, W_hq, b_q] = params
    H, C = state
    # Units are dropped only while autograd records (training).
    training = dropout > 0 and torch.is_grad_enabled()
    outputs = []
    for X in inputs:
        I = torch.sigmoid(X @ W_xi + H @ W_hi + b_i)
        F = torch.sigmoid(X @ W_xf + H @ W_hf + b_f)
        O = torch.sigmoid(X @ W_xo + H @ W_ho + b_o)
        C_candidate = torch.tanh(X @ W_xc + H @ W_hc + b_c)
        C = F * C + I * C_candidate
        H = O * torch.tanh(C)
        H_dropped = nn.functional.dropout(H, dropout, training)
        outputs.append(H_dropped @ W_hq + b_q)
    return outputs, (H, C)


# --- chapter_rnn/lstm.md
# Long Short-Term Memory (LSTM)
def save_params(name, model):
    """Write the parameters of a PyTorch model to results/<name>.pt."""
    os.makedirs(gb.RESULTS_DIR, exist_ok=True)
    torch.save(model.state_dict(),
               os.path.join(gb.RESULTS_DIR, name + '.pt'))


def load_params(name, model, device=None):
    """Read parameters written by save_params into a model built alike."""
    path = os.path.join(gb.RESULTS_DIR, name + '.pt')
    if not os.path.exists(path):
        raise FileNotFoundError(
            f'{path} not found: run the section that trains {name!r} '
            f'first (it calls gb.save_params), from this folder')
    device = device or gb.try_gpu()
    model.load_state_dict(torch.load(path, map_location=device))
    model.to(device)


# --- chapter_rnn/comparison.md
# Comparing the Models
def char_predictions(model, corpus_indices, vocab_size, device,
                     gate_block=None, batch_size=32, num_steps=35):
    """Score the validation text as eval_perplexity does; return the
    positions of the scored characters in it, the model's log-probabilities
    there (one row each) and, given gate_block, the mean of that gate of a
    one-layer GRU or LSTM at the step that predicted each character."""
    _, val_indices = gb.train_val_split(corpus_indices)
    training = model.training
    model.eval()  # no dropout
    state = model.begin_state(batch_size, device)
    log_probs, gates = [], []
    with torch.no_grad():
        for X, _ in gb.data_iter_consecutive(val_indices, batch_size,
                                             num_steps, device):
            inputs = F.one_hot(X.T, vocab_size).float()
            # The state's H, (batch_size, num_hiddens); an LSTM's is (H, C).
            H_0 = (state[0] if isinstance(state, tuple) else state)[0]
            Y, state = model.rnn(inputs, state)
            log_probs.append(F.log_softmax(model.dense(Y), dim=-1))
            if gate_block is not None:
                H_prev = torch.cat([H_0[None], Y[:-1]])
                gates.append(gb.layer_gate(model.rnn, inputs, H_prev,
                                           gate_block).mean(dim=2))
    model.train(training)
    # Row b of every minibatch reads on from position b * batch_len.
    batch_len = len(val_indices) // batch_size
    steps = len(log_probs) * num_steps
    positions = (np.arange(batch_size)[:, None] * batch_len + 1
                 + np.arange(steps)).ravel()
    log_probs = torch.cat(log_probs).permute(1, 0, 2)
    gate = torch.cat(gates).T.flatten().cpu().numpy() if gates else None
    return positions, log_probs.reshape(-1, vocab_size).cpu().numpy(), gate


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
def predict_sample(prefix, num_chars, model, vocab_size, device,
                   idx_to_char, char_to_idx, temperature=1.0, k=None,
                   p=None):
    """Return prefix followed by num_chars sampled characters."""
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
    was_training = model.training
    model.eval()  # no dropout while predicting
    state = model.begin_state(batch_size=1, device=device)
    output = [char_to_idx[prefix[0]]]
    with torch.no_grad():
        for t in range(num_chars + len(prefix) - 1):
            X = torch.tensor([[output[-1]]], device=device)
            (Y, state) = model(X, state)
            if t < len(prefix) - 1:
                output.append(char_to_idx[prefix[t + 1]])
                continue
            probs = gb.softmax_with_temperature(Y[0].cpu().numpy(),
                                                temperature)
            if k is not None:
                probs = gb.top_k_probs(probs, int(k))
            if p is not None:
                probs = gb.top_p_probs(probs, p)
            output.append(int(np.random.choice(vocab_size, p=probs)))
    model.train(was_training)
    return ''.join([idx_to_char[i] for i in output])


# --- chapter_rnn/decoding.md
# Decoding: Greedy Search, Sampling and Beam Search
def predict_top_k(prefix, num_chars, model, vocab_size, device,
                  idx_to_char, char_to_idx, k):
    """Return prefix followed by num_chars characters drawn from the top k."""
    return gb.predict_sample(prefix, num_chars, model, vocab_size, device,
                             idx_to_char, char_to_idx, k=k)


def predict_top_p(prefix, num_chars, model, vocab_size, device,
                  idx_to_char, char_to_idx, p):
    """Return prefix followed by num_chars nucleus-sampled characters."""
    return gb.predict_sample(prefix, num_chars, model, vocab_size, device,
                             idx_to_char, char_to_idx, p=p)


# --- chapter_rnn/decoding.md
# Decoding: Greedy Search, Sampling and Beam Search
def predict_beam_search(prefix, num_chars, model, vocab_size, device,
                        idx_to_char, char_to_idx, beam_width):
    """Return prefix followed by the best of beam_width beams."""
    gb.check_prefix(prefix, char_to_idx)
    if num_chars < 0:
        raise ValueError(f'num_chars must be >= 0, got {num_chars}')
    if not (beam_width == int(beam_width) and beam_width >= 1):
        raise ValueError(f'beam_width must be a whole number >= 1, got '
                         f'{beam_width}')
    was_training = model.training
    model.eval()  # no dropout while predicting
    state = model.begin_state(batch_size=1, device=device)
    beams, scores = [[]], np.zeros(1)  # characters, summed log-probability
    with torch.no_grad():
        for char in prefix:
            X = torch.tensor([[char_to_idx[char]]], device=device)
            (Y, state) = model(X, state)
        for t in range(num_chars):
            if t > 0:  # X: (number of beams, 1), each beam's last character
                X = torch.tensor([[beam[-1]] for beam in beams],
                                 device=device)
                (Y, state) = model(X, state)
            # (number of beams, vocab_size)
            Y = Y.cpu().numpy().astype(np.float64)
            log_probs = Y - Y.max(axis=1, keepdims=True)
            log_probs -= np.log(np.exp(log_probs).sum(axis=1,
                                                      keepdims=True))
            # Row r, column c: beam r extended by character c.
            candidates = (scores[:, None] + log_probs).reshape(-1)
            best = np.argsort(-candidates, kind='stable')[:int(beam_width)]
            rows, chars = best // vocab_size, best % vocab_size
            beams = [beams[r] + [c] for r, c in zip(rows, chars)]
            scores = candidates[best]
            # H, or each of (H, C): (num_layers, number of beams,
            # num_hiddens); row r of the new state is row rows[r].
            rows = torch.tensor(rows, device=device)
            if isinstance(state, tuple):
                state = tuple(s[:, rows] for s in state)
            else:
                state = state[:, rows]
    model.train(was_training)
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


# --- chapter_rnn/decoding.md
# Decoding: Greedy Search, Sampling and Beam Search
def export_lstm_js(model, idx_to_char, path):
    """Write the weights of an RNNModel over one LSTM layer to a script."""
    lstm = model.rnn
    if not (isinstance(lstm, nn.LSTM) and lstm.num_layers == 1
            and not lstm.bidirectional and lstm.proj_size == 0):
        raise ValueError('export_lstm_js writes one unidirectional LSTM '
                         'layer without projection')

    def numpy(param):
        return param.detach().cpu().numpy()

    gb.write_weights_js(path, {
        # Rows of the first four: the gates i, f, g, o, num_hiddens each.
        'W_ih': numpy(lstm.weight_ih_l0),  # (4 * h, vocab_size)
        'W_hh': numpy(lstm.weight_hh_l0),  # (4 * h, h)
        'b_ih': numpy(lstm.bias_ih_l0),
        'b_hh': numpy(lstm.bias_hh_l0),
        'W_out': numpy(model.dense.weight),  # (vocab_size, h)
        'b_out': numpy(model.dense.bias)}, idx_to_char)


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
                 device, batch, lr=1, clipping_theta=1):
    """A function that runs one training step of a from-scratch model on
    batch and returns when it is done."""
    X, Y = batch
    state = init_rnn_state(X.shape[0], num_hiddens, device)

    def step():
        outputs, _ = rnn(gb.to_onehot(X, vocab_size), state, params)
        l = F.cross_entropy(torch.cat(outputs, dim=0),
                            Y.T.reshape(-1).long())
        for param in params:
            param.grad = None
        l.backward()
        gb.grad_clipping(params, clipping_theta, device)
        gb.sgd(params, lr, 1)
        gb.synchronize(device)
    return step


def layer_step(model, device, batch, lr=1, clipping_theta=1):
    """A function that runs one training step of a new RNNModel on batch
    and returns when it is done."""
    X, Y = batch
    model.to(device)
    model.train()
    with torch.no_grad():  # as the training function initialises it
        for param in model.parameters():
            if param.dim() == 1:
                nn.init.zeros_(param)
            else:
                nn.init.normal_(param, std=0.01)
    params = list(model.parameters())
    trainer = torch.optim.SGD(params, lr=lr)
    state = model.begin_state(batch_size=X.shape[0], device=device)

    def step():
        output, _ = model(X, state)
        l = F.cross_entropy(output, Y.T.reshape(-1).long())
        trainer.zero_grad()
        l.backward()
        gb.grad_clipping(params, clipping_theta, device)
        trainer.step()
        gb.synchronize(device)
    return step


def synchronize(device):
    """Wait until the operators queued on device have run (a GPU runs
    them asynchronously; on the CPU they have run already)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    elif device.type == 'mps':
        torch.mps.synchronize()


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
    'predict_rnn',
    'grad_clipping',
    'sgd',
    'eval_perplexity',
    'train_and_predict_rnn',
    'RNNModel',
    'predict_rnn_pytorch',
    'train_and_predict_rnn_pytorch',
    'rnn_input_at_once',
    'gate_params',
    'get_gru_params',
    'gru',
    'val_windows',
    'input_grad_norms',
    'layer_gate',
    'gate_values',
    'grad_shrink',
    'get_lstm_params',
    'init_lstm_state',
    'lstm',
    'save_params',
    'load_params',
    'char_predictions',
    'PLACES',
    'ngram_predictions',
    'place_in_word',
    'write_page_data',
    'read_page_data',
    'softmax_with_temperature',
    'top_k_probs',
    'top_p_probs',
    'predict_sample',
    'predict_top_k',
    'predict_top_p',
    'predict_beam_search',
    'write_weights_js',
    'read_weights_js',
    'export_lstm_js',
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
