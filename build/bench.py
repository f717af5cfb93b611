"""Training throughput of the chapter's models, in tokens per second.

Every model trains on the same minibatches of The Time Machine
(consecutive sampling, batch 32, 35 steps, 256 hidden units, SGD with
gradient clipping), after a few warm-up minibatches: the MXNet tab's
models (from scratch with nd, and Gluon's layers) and the PyTorch tab's
(from scratch with tensors and autograd, and torch.nn's layers), in the
same process, each with its tab's gluonbook helpers; and the JAX tab's
(from scratch with jax.numpy, jax.grad and lax.scan, and Flax NNX's
layers), each a jit-compiled step, in a second process with the JAX
environment's Python (build/bench_jax.py), which takes its turns when
this one asks (skipped, with a note, if .venv-jax is missing).

The models take turns: in each of --rounds rounds every model trains
--batches minibatches, so a slow spell of a shared machine hits them all
alike. The table gives each model's median over the rounds; a ratio is
the median of the per-round ratios.

The last lines give the ceiling that the arithmetic allows: one training
token's floating-point operations at the rate these cores reach on the
recurrent step's matrix product (32 x 256 by 256 x 256), the best of
MXNet, NumPy, PyTorch and JAX.

    python build/bench.py [--rounds 5] [--batches 10]
    python build/bench.py --profile 'gluon RNN'   # where the time goes

--profile trains one model (a name from the table) for --batches
minibatches under its framework's profiler (MXNet's or PyTorch's) and
prints the per-operator table instead.
"""
import argparse
import datetime
import os
import platform
import json
import statistics
import subprocess
import sys
import time

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon, init, nd
from mxnet.gluon import loss as gloss, rnn

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
import gluonbook as gb  # noqa: E402
import torch  # noqa: E402
from gluonbook import torch as tb  # noqa: E402  (the PyTorch tab's gb)

BATCH_SIZE, NUM_STEPS, NUM_HIDDENS, LR, THETA = 32, 35, 256, 1, 1
WARMUP = 5
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JAX_PYTHON = os.path.join(ROOT, '.venv-jax', 'bin', 'python')


class JaxModels:
    """The JAX tab's models, trained by build/bench_jax.py in the JAX
    environment when asked: their names, and a step of timed minibatches
    or a product rate on request."""

    def __init__(self):
        self.process = subprocess.Popen(
            [JAX_PYTHON, os.path.join(ROOT, 'build', 'bench_jax.py')],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.compile_seconds = json.loads(self.ask('models'))

    def ask(self, request):
        self.process.stdin.write(request + '\n')
        self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        if not answer or answer.startswith('error'):
            raise RuntimeError(f'build/bench_jax.py, asked {request!r}, '
                               f'answered {answer!r}')
        return answer

    def timed(self, name, start, count):
        return float(self.ask(f'time {name} {start} {count}'))

    def close(self):
        self.process.communicate('quit\n')


def load_batches():
    corpus_indices, _, _, vocab_size = gb.load_data_time_machine()
    train_indices, _ = gb.train_val_split(corpus_indices)
    return list(gb.data_iter_consecutive(train_indices, BATCH_SIZE,
                                         NUM_STEPS)), vocab_size


def warm_up(step, batches):
    for X, Y in batches[:WARMUP]:
        step(X, Y)
    nd.waitall()


def timed(step, batches):
    """Train on batches; return tokens per second.

    Like the book's training loops, the steps do not read the loss back
    into Python, so MXNet can queue a minibatch's operators while it still
    computes the previous one; waitall() then counts all of them.
    """
    nd.waitall()
    start = time.perf_counter()
    for X, Y in batches:
        step(X, Y)
    nd.waitall()
    seconds = time.perf_counter() - start
    return len(batches) * BATCH_SIZE * NUM_STEPS / seconds


SCRATCH = {'RNN': (gb.rnn, gb.get_rnn_params, gb.init_rnn_state),
           'RNN, input at once': (gb.rnn_input_at_once, gb.get_rnn_params,
                                  gb.init_rnn_state),
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
    return step


TORCH_SCRATCH = {'RNN': ('rnn', 'get_rnn_params', 'init_rnn_state'),
                 'GRU': ('gru', 'get_gru_params', 'init_rnn_state'),
                 'LSTM': ('lstm', 'get_lstm_params', 'init_lstm_state')}


def torch_batches(batches):
    """The same minibatches as PyTorch index tensors."""
    return [(torch.from_numpy(X.asnumpy().astype(np.int64)),
             torch.from_numpy(Y.asnumpy().astype(np.int64)))
            for X, Y in batches]


def torch_scratch_step(kind, vocab_size):
    """A training step of the PyTorch tab's model written from scratch."""
    device = torch.device('cpu')
    model, get_params, init_state = (getattr(tb, name)
                                     for name in TORCH_SCRATCH[kind])
    params = get_params(vocab_size, NUM_HIDDENS, device)
    loss = torch.nn.CrossEntropyLoss()
    state = [init_state(BATCH_SIZE, NUM_HIDDENS, device)]

    def step(X, Y):
        H = tuple(s.detach() for s in state[0])
        outputs, state[0] = model(tb.to_onehot(X, vocab_size), H, params)
        l = loss(torch.cat(outputs, dim=0), Y.T.reshape(-1))
        for param in params:
            param.grad = None
        l.backward()
        with torch.no_grad():
            tb.grad_clipping(params, THETA, device)
            tb.sgd(params, LR, 1)
    return step


def torch_step(kind, vocab_size):
    """A training step of the PyTorch tab's RNNModel with a torch.nn layer
    (nn.RNN with ReLU, as Gluon's rnn.RNN)."""
    device = torch.device('cpu')
    layer_cls = {'RNN': torch.nn.RNN, 'GRU': torch.nn.GRU,
                 'LSTM': torch.nn.LSTM}[kind]
    kwargs = {'nonlinearity': 'relu'} if kind == 'RNN' else {}
    model = tb.RNNModel(layer_cls(vocab_size, NUM_HIDDENS, **kwargs),
                        vocab_size)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    loss = torch.nn.CrossEntropyLoss()
    state = [model.begin_state(BATCH_SIZE, device)]

    def step(X, Y):
        H = (tuple(s.detach() for s in state[0])
             if isinstance(state[0], tuple) else state[0].detach())
        output, state[0] = model(X, H)
        l = loss(output, Y.T.reshape(-1))
        optimizer.zero_grad()
        l.backward()
        tb.grad_clipping(list(model.parameters()), THETA, device)
        optimizer.step()
    return step


def step_product_rates(repeats=200):
    """GFLOP/s of chained (32, 256) x (256, 256) products, per library.

    Each product takes the previous one's result, as the recurrence does,
    so the rate includes each library's fixed cost per call.
    """
    n, k = BATCH_SIZE, NUM_HIDDENS
    flop = 2 * n * k * k * repeats
    rates = {}

    def rate(run):
        run(20)
        start = time.perf_counter()
        run(repeats)
        return flop / (time.perf_counter() - start) / 1e9

    W = nd.random.normal(scale=1 / k ** 0.5, shape=(k, k))
    b = nd.zeros(k)

    def mxnet_run(times):
        H = nd.random.normal(shape=(n, k))
        for _ in range(times):  # FullyConnected: weight is (out, in)
            H = nd.FullyConnected(H, W, b, num_hidden=k)
        H.wait_to_read()
    rates['mxnet'] = rate(mxnet_run)

    W_np = W.asnumpy()

    def numpy_run(times):
        H = np.random.normal(size=(n, k)).astype(np.float32)
        for _ in range(times):
            H = H @ W_np
    rates['numpy'] = rate(numpy_run)

    W_t = torch.from_numpy(W_np)

    def torch_run(times):
        H = torch.randn(n, k)
        for _ in range(times):
            H = H @ W_t
    rates['torch'] = rate(torch_run)
    return rates


def large_product_gflops(size=1024, repeats=10):
    """GFLOP/s of (size, size) x (size, size) products in MXNet."""
    A = nd.random.normal(shape=(size, size))
    nd.dot(A, A).wait_to_read()
    start = time.perf_counter()
    for _ in range(repeats):
        C = nd.dot(A, A)
    C.wait_to_read()
    return 2 * size ** 3 * repeats / (time.perf_counter() - start) / 1e9


def torch_profile(step, batches, num_batches):
    """Print PyTorch's operator statistics for num_batches steps."""
    from torch.profiler import ProfilerActivity, profile as torch_profiler
    for X, Y in batches[:WARMUP]:
        step(X, Y)
    chunk = batches[WARMUP:WARMUP + num_batches]
    with torch_profiler(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        for X, Y in chunk:
            step(X, Y)
        seconds = time.perf_counter() - start
    print(f'{len(chunk)} minibatches in {seconds * 1000:.0f} ms '
          f'({seconds * 1000 / len(chunk):.1f} ms each, profiler on)')
    print(prof.key_averages().table(sort_by='self_cpu_time_total',
                                    row_limit=25))


def profile(step, batches, num_batches):
    """Print MXNet's aggregate operator statistics for num_batches steps."""
    warm_up(step, batches)
    mx.profiler.set_config(profile_all=True, aggregate_stats=True,
                           filename=os.devnull)
    chunk = batches[WARMUP:WARMUP + num_batches]
    nd.waitall()
    mx.profiler.set_state('run')
    start = time.perf_counter()
    for X, Y in chunk:
        step(X, Y)
    nd.waitall()
    seconds = time.perf_counter() - start
    mx.profiler.set_state('stop')
    print(f'{len(chunk)} minibatches in {seconds * 1000:.0f} ms '
          f'({seconds * 1000 / len(chunk):.1f} ms each, profiler on)')
    print(mx.profiler.dumps(reset=True))


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
    parser.add_argument('--rounds', type=int, default=5,
                        help='rounds of turns (default 5)')
    parser.add_argument('--batches', type=int, default=10,
                        help='timed minibatches per model and round '
                        '(default 10)')
    parser.add_argument('--profile', metavar='MODEL',
                        help="print MXNet's operator profile of one model")
    args = parser.parse_args()
    if args.rounds < 1 or args.batches < 1:
        parser.error('--rounds and --batches must be at least 1')
    batches, vocab_size = load_batches()
    torch.set_num_threads(os.cpu_count())
    t_batches = torch_batches(batches)

    print(f'# {datetime.date.today()}, {cpu_name()}, {os.cpu_count()} '
          f'cores, Python {platform.python_version()}, mxnet '
          f'{mx.__version__}, numpy {np.__version__}, torch '
          f'{torch.__version__} ({torch.get_num_threads()} threads)')
    print(f'# batch {BATCH_SIZE}, {NUM_STEPS} steps, {NUM_HIDDENS} hidden '
          f'units; {args.rounds} rounds of {args.batches} timed minibatches '
          f'per model, after {WARMUP} warm-up ones\n')
    makers = {
        f'scratch {kind} (nd)': (lambda kind=kind: scratch_step(
            kind, vocab_size)) for kind in SCRATCH}
    makers.update({
        'gluon RNN': lambda: gluon_step(rnn.RNN(NUM_HIDDENS), vocab_size),
        'gluon RNN, hybridized': lambda: gluon_step(
            rnn.RNN(NUM_HIDDENS), vocab_size, hybridize=True),
        'gluon GRU': lambda: gluon_step(rnn.GRU(NUM_HIDDENS), vocab_size),
        'gluon LSTM': lambda: gluon_step(rnn.LSTM(NUM_HIDDENS), vocab_size),
    })
    mxnet_models = set(makers)
    makers.update({f'scratch {kind} (torch)': (
        lambda kind=kind: torch_scratch_step(kind, vocab_size))
        for kind in TORCH_SCRATCH})
    makers.update({f'torch {kind}': (lambda kind=kind: torch_step(
        kind, vocab_size)) for kind in ('RNN', 'GRU', 'LSTM')})
    if args.profile:
        if args.profile not in makers:
            parser.error(f'--profile: no model {args.profile!r}; '
                         f'choose from {list(makers)}')
        if args.profile in mxnet_models:
            profile(makers[args.profile](), batches, args.batches)
        else:
            torch_profile(makers[args.profile](), t_batches, args.batches)
        return
    steps, data = {}, {}
    for name, make_step in makers.items():
        steps[name] = make_step()
        data[name] = batches if name in mxnet_models else t_batches
        warm_up(steps[name], data[name])
    jax_models = None
    if os.path.exists(JAX_PYTHON):
        jax_models = JaxModels()  # compiles and warms up its models
        print('# jax models, seconds to compile and warm up: ' + ', '.join(
            f'{name} {seconds:.1f}'
            for name, seconds in jax_models.compile_seconds.items()) + '\n')
    else:
        print(f'# no {os.path.relpath(JAX_PYTHON, ROOT)} (make venv): the '
              f'JAX tab\'s models are not measured\n')
    jax_names = list(jax_models.compile_seconds) if jax_models else []

    # One token costs 3x the forward FLOPs (forward, and backward for the
    # activations and the weights): input projection, recurrence, output.
    flops = 3 * 2 * (vocab_size * NUM_HIDDENS + NUM_HIDDENS ** 2 +
                     NUM_HIDDENS * vocab_size)
    rates = {name: [] for name in list(steps) + jax_names}
    product_rates = []  # measured in every round, like the models
    position = WARMUP
    for _ in range(args.rounds):
        for name, step in steps.items():
            chunk = [data[name][(position + i) % len(batches)]
                     for i in range(args.batches)]
            rates[name].append(timed(step, chunk))
        for name in jax_names:
            rates[name].append(jax_models.timed(name, position, args.batches))
        position += args.batches
        product_rates.append(step_product_rates())
        if jax_models:
            product_rates[-1]['jax'] = float(jax_models.ask('product'))
    if jax_models:
        jax_models.close()
    ceilings = [max(r.values()) * 1e9 / flops for r in product_rates]

    def ratio(a, b):
        """Median over the rounds of rates a / rates b."""
        return statistics.median(x / y for x, y in zip(a, b))

    print('| model | tokens/s (median) | slowest round | fastest round |')
    print('| --- | ---: | ---: | ---: |')
    for name, values in rates.items():
        print(f'| {name} | {statistics.median(values):,.0f} | '
              f'{min(values):,.0f} | {max(values):,.0f} |')

    medians = {lib: statistics.median(r[lib] for r in product_rates)
               for lib in product_rates[0]}
    big_gflops = large_product_gflops()
    print(f'\none training token: {flops / 1e6:.2f} MFLOP')
    print('chained 32x256 by 256x256 products, GFLOP/s (median): ' +
          ', '.join(f'{lib} {rate:.0f}' for lib, rate in medians.items()) +
          f'; one 1024^3 product (mxnet): {big_gflops:.0f} GFLOP/s')
    print(f'ceiling (one token\'s FLOPs at the best chained rate): '
          f'{statistics.median(ceilings):,.0f} tokens/s')
    gluon = rates['gluon RNN']
    print(f'gluon RNN / ceiling: {ratio(gluon, ceilings):.0%}')
    scratch = rates['scratch RNN (nd)']
    at_once = rates['scratch RNN, input at once (nd)']
    print(f'scratch RNN / gluon RNN: {ratio(scratch, gluon):.2f}; with the '
          f'input at once: {ratio(at_once, gluon):.2f}')
    torch_rnn = rates['torch RNN']
    print(f'torch RNN / ceiling: {ratio(torch_rnn, ceilings):.0%}')
    print(f'scratch RNN (torch) / torch RNN: '
          f'{ratio(rates["scratch RNN (torch)"], torch_rnn):.2f}')
    print(f'gluon RNN / torch RNN: {ratio(gluon, torch_rnn):.2f}')
    if jax_models:
        flax_rnn = rates['flax nnx RNN']
        print(f'flax nnx RNN / ceiling: {ratio(flax_rnn, ceilings):.0%}')
        print(f'scratch RNN (jax) / flax nnx RNN: '
              f'{ratio(rates["scratch RNN (jax)"], flax_rnn):.2f}')
        print(f'flax nnx RNN / torch RNN: {ratio(flax_rnn, torch_rnn):.2f}')


if __name__ == '__main__':
    main()
