"""The JAX tab's models for build/bench.py, in the JAX environment.

JAX cannot share MXNet's environment (Python 3.12 and numpy 2 against 3.11
and numpy 1.23), so build/bench.py starts this script with .venv-jax's
Python and asks it, one line at a time on stdin, to train its models in
their turns beside the MXNet and PyTorch ones. Every model trains on the
same minibatches as bench.py's (consecutive sampling of the training
text, batch 32, 35 steps, 256 hidden units, SGD with learning rate 1 and
gradient clipping at 1), with the JAX tab's gluonbook helpers: one
jit-compiled step each, the scratch models looping over time with
lax.scan, the layers Flax NNX's nnx.RNN over SimpleCell (ReLU), GRUCell
and LSTMCell.

The requests, and what the script answers on stdout (one line each):

    models                 -> JSON {name: seconds to compile its step}
    time NAME START COUNT  -> tokens per second over minibatches START,
                              START + 1, ... (modulo their number)
    product                -> GFLOP/s of chained (32, 256) x (256, 256)
                              products, as bench.py measures each library
    quit

    .venv-jax/bin/python build/bench_jax.py   # then type the requests
"""
import json
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
from gluonbook import jax as gb  # noqa: E402

BATCH_SIZE, NUM_STEPS, NUM_HIDDENS, LR, THETA = 32, 35, 256, 1, 1
WARMUP = 5


def load_batches():
    corpus_indices, _, _, vocab_size = gb.load_data_time_machine()
    train_indices, _ = gb.train_val_split(corpus_indices)
    return list(gb.data_iter_consecutive(train_indices, BATCH_SIZE,
                                         NUM_STEPS)), vocab_size


def scratch_step(kind, vocab_size, key):
    """One jitted training step of the JAX tab's model from scratch; the
    state is carried from one minibatch to the next, as in training."""
    rnn, get_params, init_state = {
        'RNN': (gb.rnn, gb.get_rnn_params, gb.init_rnn_state),
        'RNN, input at once': (gb.rnn_input_at_once, gb.get_rnn_params,
                               gb.init_rnn_state),
        'GRU': (gb.gru, gb.get_gru_params, gb.init_rnn_state),
        'LSTM': (gb.lstm, gb.get_lstm_params, gb.init_lstm_state)}[kind]
    init, update = gb.get_optimizer('sgd', LR)
    train_step = jax.jit(gb.scratch_train_step(rnn, vocab_size, THETA,
                                               update))
    params = get_params(vocab_size, NUM_HIDDENS, key)
    carry = [params, init(params), init_state(BATCH_SIZE, NUM_HIDDENS)]

    def step(X, Y):
        carry[0], carry[1], carry[2], l = train_step(*carry, X, Y, None)
        return l
    return step


def layer_step(kind, vocab_size, key):
    """One jitted training step of the JAX tab's RNNModel over a Flax NNX
    layer."""
    rngs = nnx.Rngs(key)
    cell = {'RNN': lambda: nnx.SimpleCell(vocab_size, NUM_HIDDENS,
                                          activation_fn=nnx.relu, rngs=rngs),
            'GRU': lambda: nnx.GRUCell(vocab_size, NUM_HIDDENS, rngs=rngs),
            'LSTM': lambda: nnx.LSTMCell(vocab_size, NUM_HIDDENS,
                                         rngs=rngs)}[kind]()
    model = gb.RNNModel(nnx.RNN(cell), vocab_size, rngs=rngs)
    gb.reinitialize(model, key)
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    tx = gb.get_optax('sgd', LR, THETA)
    train_step = jax.jit(gb.model_train_step(graphdef, vocab_size, tx))
    carry = [params, rest, tx.init(params), model.begin_state(BATCH_SIZE)]

    def step(X, Y):
        *new, l = train_step(*carry, X, Y)
        carry[:] = new
        return l
    return step


def product_gflops(repeats=200):
    """GFLOP/s of chained (32, 256) x (256, 256) products, each call
    dispatched from Python as bench.py's other libraries are."""
    n, k = BATCH_SIZE, NUM_HIDDENS
    W = jnp.asarray(np.random.normal(scale=1 / k ** 0.5, size=(k, k)),
                    jnp.float32)
    product = jax.jit(lambda H: H @ W)

    def run(times):
        H = jnp.asarray(np.random.normal(size=(n, k)), jnp.float32)
        for _ in range(times):
            H = product(H)
        H.block_until_ready()
    run(20)
    start = time.perf_counter()
    run(repeats)
    return 2 * n * k * k * repeats / (time.perf_counter() - start) / 1e9


def main():
    batches, vocab_size = load_batches()
    key = jax.random.key(0)
    steps, compile_seconds = {}, {}
    kinds = [('scratch', kind) for kind in
             ('RNN', 'RNN, input at once', 'GRU', 'LSTM')]
    kinds += [('nnx', kind) for kind in ('RNN', 'GRU', 'LSTM')]
    for i, (way, kind) in enumerate(kinds):
        make = scratch_step if way == 'scratch' else layer_step
        name = (f'scratch {kind} (jax)' if way == 'scratch'
                else f'flax nnx {kind}')
        steps[name] = make(kind, vocab_size, jax.random.fold_in(key, i))
        start = time.perf_counter()
        for X, Y in batches[:WARMUP]:  # the first step compiles
            l = steps[name](X, Y)
        l.block_until_ready()
        compile_seconds[name] = time.perf_counter() - start
    for line in sys.stdin:
        request = line.split()
        if not request:
            continue
        if request[0] == 'quit':
            break
        if request[0] == 'models':
            answer = json.dumps(compile_seconds)
        elif request[0] == 'product':
            answer = '%.3f' % product_gflops()
        elif request[0] == 'time':
            name = ' '.join(request[1:-2])
            start, count = int(request[-2]), int(request[-1])
            if name not in steps:
                answer = 'error: no model ' + repr(name)
            else:
                chunk = [batches[(start + i) % len(batches)]
                         for i in range(count)]
                t = time.perf_counter()
                for X, Y in chunk:
                    l = steps[name](X, Y)
                l.block_until_ready()
                seconds = time.perf_counter() - t
                answer = '%.1f' % (count * BATCH_SIZE * NUM_STEPS / seconds)
        else:
            answer = 'error: unknown request ' + repr(line.strip())
        print(answer, flush=True)


if __name__ == '__main__':
    main()
