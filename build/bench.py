"""Training throughput of the chapter's models, in tokens per second.

Every model trains for the same minibatches of The Time Machine
(consecutive sampling, batch 32, 35 steps, 256 hidden units, SGD with
gradient clipping), after a few warm-up minibatches. When PyTorch is
installed (an optional extra, not a dependency of the book) the same
architectures run with torch.nn in the same process, so their ratio holds
on a noisy machine. The last rows give the ceiling that the recurrence's
matrix products allow on these cores.

    python build/bench.py [--batches 40]
"""
import argparse
import datetime
import os
import platform
import sys
import time

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon, init, nd
from mxnet.gluon import loss as gloss, rnn

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
import gluonbook as gb  # noqa: E402

BATCH_SIZE, NUM_STEPS, NUM_HIDDENS, LR, THETA = 32, 35, 256, 1, 1
WARMUP = 5


def load_batches(num_batches):
    corpus_indices, _, _, vocab_size = gb.load_data_time_machine()
    train_indices, _ = gb.train_val_split(corpus_indices)
    batches = list(gb.data_iter_consecutive(train_indices, BATCH_SIZE,
                                            NUM_STEPS))
    needed = WARMUP + num_batches
    if len(batches) < needed:
        sys.exit(f'bench: only {len(batches)} minibatches, need {needed}')
    return batches[:needed], vocab_size


def timed(step, batches):
    """Run step over the batches; return tokens/s after the warm-up."""
    for X, Y in batches[:WARMUP]:
        step(X, Y)
    nd.waitall()
    start = time.perf_counter()
    for X, Y in batches[WARMUP:]:
        step(X, Y)
    nd.waitall()
    seconds = time.perf_counter() - start
    return (len(batches) - WARMUP) * BATCH_SIZE * NUM_STEPS / seconds


SCRATCH = {'RNN': (gb.rnn, gb.get_rnn_params, gb.init_rnn_state),
           'GRU': (gb.gru, gb.get_gru_params, gb.init_rnn_state),
           'LSTM': (gb.lstm, gb.get_lstm_params, gb.init_lstm_state)}


def scratch_step(kind, vocab_size):
    ctx = mx.cpu()
    model, get_params, init_state = SCRATCH[kind]
    params = get_params(vocab_size, NUM_HIDDENS, ctx)
    loss = gloss.SoftmaxCrossEntropyLoss()
    state = [init_state(BATCH_SIZE, NUM_HIDDENS, ctx)]

    def step(X, Y):
        H = tuple(s.detach() for s in state[0])
        with autograd.record():
            outputs, state[0] = model(gb.to_onehot(X, vocab_size), H,
                                      params)
            l = loss(nd.concat(*outputs, dim=0), Y.T.reshape((-1,))).mean()
        l.backward()
        gb.grad_clipping(params, THETA, ctx)
        gb.sgd(params, LR, 1)
        l.asscalar()
    return step


def gluon_step(layer, vocab_size, hybridize=False):
    ctx = mx.cpu()
    model = gb.RNNModel(layer, vocab_size)
    model.initialize(ctx=ctx, init=init.Normal(0.01))
    if hybridize:
        model.rnn.hybridize()
        model.dense.hybridize()
    trainer = gluon.Trainer(model.collect_params(), 'sgd',
                            {'learning_rate': LR})
    loss = gloss.SoftmaxCrossEntropyLoss()
    state = [model.begin_state(batch_size=BATCH_SIZE, ctx=ctx)]

    def step(X, Y):
        H = [s.detach() for s in state[0]]
        with autograd.record():
            output, state[0] = model(X, H)
            l = loss(output, Y.T.reshape((-1,))).mean()
        l.backward()
        params = [p.data() for p in model.collect_params().values()]
        gb.grad_clipping(params, THETA, ctx)
        trainer.step(1)
        l.asscalar()
    return step


def torch_step(torch, kind, vocab_size):
    layer_cls = {'RNN': torch.nn.RNN, 'GRU': torch.nn.GRU,
                 'LSTM': torch.nn.LSTM}[kind]
    kwargs = {'nonlinearity': 'relu'} if kind == 'RNN' else {}
    layer = layer_cls(vocab_size, NUM_HIDDENS, **kwargs)
    dense = torch.nn.Linear(NUM_HIDDENS, vocab_size)
    params = list(layer.parameters()) + list(dense.parameters())
    optimizer = torch.optim.SGD(params, lr=LR)
    loss = torch.nn.CrossEntropyLoss()
    zeros = torch.zeros(1, BATCH_SIZE, NUM_HIDDENS)
    state = [(zeros, zeros.clone()) if kind == 'LSTM' else zeros]

    def step(X, Y):
        X = torch.from_numpy(X.asnumpy().astype(np.int64))
        Y = torch.from_numpy(Y.asnumpy().astype(np.int64))
        H = (tuple(s.detach() for s in state[0]) if kind == 'LSTM'
             else state[0].detach())
        inputs = torch.nn.functional.one_hot(X.T, vocab_size).float()
        outputs, state[0] = layer(inputs, H)
        l = loss(dense(outputs.reshape(-1, NUM_HIDDENS)), Y.T.reshape(-1))
        optimizer.zero_grad()
        l.backward()
        torch.nn.utils.clip_grad_norm_(params, THETA)
        optimizer.step()
        l.item()
    return step


def matmul_gflops(n, k, m, batch=64, repeats=20):
    """GFLOP/s of (n, k) x (k, m) products on these cores.

    One batch_dot computes `batch` such products, so the operator's fixed
    dispatch cost is spread over many of them: this is the rate of the
    arithmetic itself, the most any implementation of the step can reach.
    """
    a = nd.random.normal(shape=(batch, n, k))
    b = nd.random.normal(shape=(batch, k, m))
    for _ in range(3):
        nd.batch_dot(a, b)
    nd.waitall()
    start = time.perf_counter()
    for _ in range(repeats):
        nd.batch_dot(a, b)
    nd.waitall()
    seconds = time.perf_counter() - start
    return 2 * n * k * m * batch * repeats / seconds / 1e9


def cpu_name():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batches', type=int, default=40,
                        help='timed minibatches per model (default 40)')
    args = parser.parse_args()
    batches, vocab_size = load_batches(args.batches)
    try:
        import torch
        torch.set_num_threads(os.cpu_count())
    except ImportError:
        torch = None

    print(f'# {datetime.date.today()}, {cpu_name()}, {os.cpu_count()} '
          f'cores, Python {platform.python_version()}, mxnet '
          f'{mx.__version__}, numpy {np.__version__}, torch '
          f'{torch.__version__ if torch else "not installed"}')
    print(f'# batch {BATCH_SIZE}, {NUM_STEPS} steps, {NUM_HIDDENS} hidden '
          f'units, {args.batches} timed minibatches after {WARMUP}\n')
    rows = [
        ('scratch RNN (nd)', lambda: scratch_step('RNN', vocab_size)),
        ('scratch GRU (nd)', lambda: scratch_step('GRU', vocab_size)),
        ('scratch LSTM (nd)', lambda: scratch_step('LSTM', vocab_size)),
        ('gluon RNN', lambda: gluon_step(rnn.RNN(NUM_HIDDENS), vocab_size)),
        ('gluon RNN, hybridized', lambda: gluon_step(
            rnn.RNN(NUM_HIDDENS), vocab_size, hybridize=True)),
        ('gluon GRU', lambda: gluon_step(rnn.GRU(NUM_HIDDENS), vocab_size)),
        ('gluon LSTM', lambda: gluon_step(rnn.LSTM(NUM_HIDDENS),
                                          vocab_size)),
    ]
    if torch:
        rows += [(f'torch {kind}', lambda kind=kind: torch_step(
            torch, kind, vocab_size)) for kind in ('RNN', 'GRU', 'LSTM')]
    results = {}
    print('| model | tokens/s |')
    print('| --- | ---: |')
    for name, make_step in rows:
        results[name] = timed(make_step(), batches)
        print(f'| {name} | {results[name]:,.0f} |', flush=True)

    # One token costs 3x the forward FLOPs (forward, and backward for the
    # activations and the weights): input projection, recurrence, output.
    flops = 3 * 2 * (vocab_size * NUM_HIDDENS + NUM_HIDDENS ** 2 +
                     NUM_HIDDENS * vocab_size)
    step_gflops = matmul_gflops(BATCH_SIZE, NUM_HIDDENS, NUM_HIDDENS)
    big_gflops = matmul_gflops(1024, 1024, 1024, batch=1, repeats=10)
    ceiling = step_gflops * 1e9 / flops
    print(f'\none training token: {flops / 1e6:.2f} MFLOP')
    print(f'32x256 by 256x256 product: {step_gflops:.0f} GFLOP/s; '
          f'1024^3 product: {big_gflops:.0f} GFLOP/s')
    print(f'ceiling at the recurrent step\'s rate: {ceiling:,.0f} tokens/s')
    gluon = results['gluon RNN']
    print(f'gluon RNN: {gluon / ceiling:.0%} of the ceiling, '
          f'{results["scratch RNN (nd)"] / gluon:.2f}x for scratch')
    if torch:
        print(f'gluon RNN / torch RNN: {gluon / results["torch RNN"]:.2f}')


if __name__ == '__main__':
    main()
