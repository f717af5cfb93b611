"""Time a training step of the scratch RNN and of the framework's RNN layer.

The two take turns, 30 times after two warm-up steps (32 x 35 characters,
256 hidden units, forward and backward, clipping and an SGD update), and
the median and largest time of each are printed. This is how the build's
thread setting was chosen (docs/measurements.md): run it with and without
OMP_NUM_THREADS=1, OMP_WAIT_POLICY=PASSIVE or --threads 1, on a quiet
machine and with another process holding a core
(`python3 -c 'while True: pass' &`).

    python build/step_time.py torch [--threads N]
    python build/step_time.py mxnet
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

VOCAB, HIDDEN, BATCH, STEPS, ROUNDS = 27, 256, 32, 35, 30


def torch_steps(threads):
    import torch
    from torch import nn

    from gluonbook import torch as gb
    if threads:
        torch.set_num_threads(threads)
    device = torch.device('cpu')
    X = torch.randint(0, VOCAB, (BATCH, STEPS))
    Y = torch.randint(0, VOCAB, (BATCH, STEPS))
    batch = (X, Y)
    scratch = gb.scratch_step(gb.rnn, gb.get_rnn_params(VOCAB, HIDDEN, device),
                              gb.init_rnn_state, HIDDEN, VOCAB, device, batch)
    layer = gb.layer_step(gb.RNNModel(nn.RNN(VOCAB, HIDDEN,
                                             nonlinearity='relu'), VOCAB),
                          device, batch)
    return scratch, layer, f'torch, {torch.get_num_threads()} threads'


def mxnet_steps():
    import mxnet as mx
    from mxnet import nd
    from mxnet.gluon import rnn

    import gluonbook as gb
    ctx = mx.cpu()
    batch = tuple(nd.random.randint(0, VOCAB, (BATCH, STEPS)).astype(
        'float32') for _ in range(2))
    scratch = gb.scratch_step(gb.rnn, gb.get_rnn_params(VOCAB, HIDDEN, ctx),
                              gb.init_rnn_state, HIDDEN, VOCAB, ctx, batch)
    layer = gb.layer_step(gb.RNNModel(rnn.RNN(HIDDEN), VOCAB), ctx, batch)
    return scratch, layer, 'mxnet'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('framework', choices=['torch', 'mxnet'])
    parser.add_argument('--threads', type=int,
                        help="torch.set_num_threads (torch's default: one "
                        'per core, or OMP_NUM_THREADS)')
    args = parser.parse_args()
    if args.threads is not None and args.threads < 1:
        parser.error('--threads must be at least 1')
    if args.framework == 'torch':
        scratch, layer, what = torch_steps(args.threads)
    else:
        scratch, layer, what = mxnet_steps()
    steps = {'scratch': scratch, 'layer': layer}
    for step in steps.values():
        step()
        step()
    ms = {name: [] for name in steps}
    for _ in range(ROUNDS):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            ms[name].append(1000 * (time.perf_counter() - start))
    print(f'{what}, OMP_NUM_THREADS={os.environ.get("OMP_NUM_THREADS", "-")},'
          f' OMP_WAIT_POLICY={os.environ.get("OMP_WAIT_POLICY", "-")}: ' +
          '; '.join(f'{name} median {statistics.median(v):.1f} ms, max '
                    f'{max(v):.1f}' for name, v in ms.items()))


if __name__ == '__main__':
    main()
