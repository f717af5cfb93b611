"""gluonbook.torch, the PyTorch tab's helpers, on toy inputs whose answers
are known exactly, in the PyTorch tab's environment (.venv-pytorch, where
`make test` runs this folder): numpy 2, no mxnet."""
import json
import os
import random
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from gluonbook import torch as gb

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests'))
import decoding_checks  # noqa: E402


def batches(data_iter):
    return [(X.tolist(), Y.tolist()) for X, Y in data_iter]


# --- the module -------------------------------------------------------------

def test_torch_helpers_import_without_mxnet_or_seeding():
    # No import-time side effects: the generators are where they were.
    code = ('import random, sys, torch; random.seed(7); torch.manual_seed(7);'
            'from gluonbook import torch as gb; gb.load_data_time_machine();'
            "print('mxnet' in sys.modules, random.random(), torch.rand(1))")
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    random.seed(7)
    torch.manual_seed(7)
    assert out.strip() == f'False {random.random()} {torch.rand(1)}'


def test_mxnet_names_without_mxnet_say_where_the_torch_helpers_are():
    # In this environment, as in a PyTorch-only setup, mxnet is not
    # installed: asking the package for an MXNet helper is an
    # AttributeError that names the cause and the PyTorch module;
    # hasattr() and dir() keep working.
    code = ('import gluonbook as gb\n'
            'print(hasattr(gb, "rnn"), "torch" in dir(gb))\n'
            'try:\n    gb.rnn\n'
            'except AttributeError as e:\n    print(e)\n')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    first, message = out.strip().split('\n')
    assert first == 'False True'
    assert message == (
        "module 'gluonbook' has no attribute 'rnn': the MXNet helpers "
        "(gluonbook.chapter_rnn) cannot be imported (No module named "
        "'mxnet'); for the PyTorch helpers use `from gluonbook import torch "
        "as gb`")


# --- data (the same framework-free code as in the mxnet module) -------------

def test_torch_corpus_is_the_cleaned_book():
    corpus, char_to_idx, idx_to_char, vocab_size = gb.load_data_time_machine()
    assert len(corpus) == 173427 and vocab_size == 27
    assert idx_to_char == list(' abcdefghijklmnopqrstuvwxyz')
    assert all(char_to_idx[c] == i for i, c in enumerate(idx_to_char))
    assert ''.join(idx_to_char[i] for i in corpus[:24]) == (
        'the time machine by h g ')


def test_torch_data_is_found_from_any_working_directory(tmp_path,
                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert len(gb.read_time_machine()) == 178979


def test_torch_altered_and_missing_data_files_are_named(tmp_path):
    altered = tmp_path / 'timemachine.txt'
    text = open(os.path.join(gb.DATA_DIR, 'timemachine.txt')).read()
    altered.write_text(text.replace('Time Traveller', 'Time Travellor', 1))
    with pytest.raises(ValueError) as e:
        gb.read_time_machine(str(altered))
    assert str(altered) in str(e.value)
    assert gb.TIME_MACHINE_SHA1 in str(e.value)
    missing = tmp_path / 'nowhere.txt'
    with pytest.raises(FileNotFoundError, match=str(missing)):
        gb.load_data_time_machine(str(missing))


def test_torch_text_helpers():
    assert gb.clean_text("'Is it -- 42 Times?'\n") == 'is it times'
    assert gb.ngram_counts('abab', 2) == {('a', 'b'): 2, ('b', 'a'): 1}
    train, val = gb.train_val_split(list(range(100)))
    assert train == list(range(90)) and val == list(range(90, 100))
    with pytest.raises(ValueError, match='val_fraction'):
        gb.train_val_split(list(range(10)), val_fraction=1.5)


def test_torch_plot_curves_draws_nothing_outside_jupyter(capsys):
    gb.plot_curves([([1, 2], [3, 4], 'a')], 'x', 'y', yscale='log')
    assert capsys.readouterr().out == ''


# --- seeding ----------------------------------------------------------------

def draw():
    return (random.random(), np.random.rand(), torch.rand(1).item())


def test_torch_set_seed_seeds_all_three_generators(monkeypatch):
    monkeypatch.delenv('RNN_BOOK_SEED', raising=False)
    draws = []
    for _ in range(2):
        gb.set_seed()
        draws.append(draw())
    assert draws[0] == draws[1]
    monkeypatch.setenv('RNN_BOOK_SEED', '2')
    gb.set_seed()
    assert all(a != b for a, b in zip(draw(), draws[0]))
    gb.set_seed(0)  # an explicit seed wins over the variable
    assert draw() == draws[0]
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    assert draw() == draws[0]  # seed 0 means exactly these three seeds


@pytest.mark.parametrize('text', ['one', '-1', '1.5', ''])
def test_torch_set_seed_rejects_a_bad_variable(monkeypatch, text):
    monkeypatch.setenv('RNN_BOOK_SEED', text)
    with pytest.raises(ValueError, match=f'RNN_BOOK_SEED must be a whole '
                                         f'number >= 0, not {text!r}'):
        gb.set_seed()


# --- iterators --------------------------------------------------------------

def test_torch_random_iter_layout_and_order():
    random.seed(0)
    got = batches(gb.data_iter_random(list(range(30)), 2, 6))
    # The order is Python's shuffle of the window numbers, as in the mxnet
    # module: with seed 0, windows 2, 0, 1, 3 (starts 12, 0, 6, 18).
    random.seed(0)
    order = list(range(4))
    random.shuffle(order)
    assert order == [2, 0, 1, 3]
    assert got == [
        ([[12, 13, 14, 15, 16, 17], [0, 1, 2, 3, 4, 5]],
         [[13, 14, 15, 16, 17, 18], [1, 2, 3, 4, 5, 6]]),
        ([[6, 7, 8, 9, 10, 11], [18, 19, 20, 21, 22, 23]],
         [[7, 8, 9, 10, 11, 12], [19, 20, 21, 22, 23, 24]]),
    ]


def test_torch_random_iter_drops_the_incomplete_minibatch():
    random.seed(1)
    got = batches(gb.data_iter_random(list(range(40)), 4, 6))
    # 39 // 6 = 6 windows make one minibatch of 4; two windows are left out.
    assert len(got) == 1
    X, _ = got[0]
    assert len({row[0] for row in X}) == 4
    assert all(row[0] % 6 == 0 and row == list(range(row[0], row[0] + 6))
               for row in X)


def test_torch_random_iter_shapes_and_order_change_with_seed():
    corpus = list(range(1001))  # 200 windows of 5, 50 minibatches of 4
    random.seed(0)
    first = list(gb.data_iter_random(corpus, 4, 5))
    random.seed(1)
    second = batches(gb.data_iter_random(corpus, 4, 5))
    assert len(first) == 50
    assert all(X.shape == Y.shape == (4, 5) for X, Y in first)
    first = batches(first)
    assert first != second
    assert sorted(r for X, _ in first for r in X) == sorted(
        r for X, _ in second for r in X)


@pytest.mark.parametrize('data_iter_fn', [gb.data_iter_random,
                                          gb.data_iter_consecutive])
def test_torch_iterators_yield_int64_on_the_device(data_iter_fn):
    # Indices as PyTorch wants them (one_hot, Embedding, cross-entropy
    # targets); `device` in place of the mxnet module's `ctx`.
    device = torch.device('cpu')
    for X, Y in data_iter_fn(list(range(30)), 2, 6, device=device):
        assert X.dtype == Y.dtype == torch.int64
        assert X.device == Y.device == device
    X, _ = next(data_iter_fn(list(range(30)), 2, 6))  # device=None: the CPU
    assert X.device == device
    assert torch.nn.functional.one_hot(X, 30).shape == (2, 6, 30)


def test_torch_consecutive_iter_matches_the_documented_layout():
    got = batches(gb.data_iter_consecutive(list(range(30)), 2, 6))
    assert got == [
        ([[0, 1, 2, 3, 4, 5], [15, 16, 17, 18, 19, 20]],
         [[1, 2, 3, 4, 5, 6], [16, 17, 18, 19, 20, 21]]),
        ([[6, 7, 8, 9, 10, 11], [21, 22, 23, 24, 25, 26]],
         [[7, 8, 9, 10, 11, 12], [22, 23, 24, 25, 26, 27]]),
    ]


def test_torch_consecutive_rows_continue_across_minibatches():
    got = batches(gb.data_iter_consecutive(list(range(1000)), 4, 7))
    assert len(got) == (1000 // 4 - 1) // 7
    for (X1, _), (X2, _) in zip(got, got[1:]):
        assert all(r2[0] == r1[-1] + 1 for r1, r2 in zip(X1, X2))


@pytest.mark.parametrize('data_iter_fn, message', [
    (gb.data_iter_random,
     'a corpus of 30 tokens is too short for batch_size=4 and num_steps=8: '
     'one minibatch of random sampling needs at least 33 tokens (4 '
     'subsequences of 8 and one more token, the label of the last)'),
    (gb.data_iter_consecutive,
     'a corpus of 30 tokens is too short for batch_size=4 and num_steps=8: '
     'one minibatch of consecutive sampling needs at least 36 tokens (4 '
     'streams of 9, each 8 inputs and the label of the last)')])
def test_torch_corpus_too_short_for_one_minibatch_is_an_error(data_iter_fn,
                                                              message):
    with pytest.raises(ValueError) as e:
        next(data_iter_fn(list(range(30)), 4, 8))
    assert str(e.value) == message
    with pytest.raises(ValueError, match='must be positive'):
        next(data_iter_fn(list(range(30)), 0, 8))


@pytest.mark.parametrize('data_iter_fn, is_random_iter', [
    (gb.data_iter_random, True), (gb.data_iter_consecutive, False)])
def test_torch_each_sampler_needs_exactly_the_tokens_it_checks_for(
        data_iter_fn, is_random_iter):
    for batch_size, num_steps in [(1, 1), (2, 6), (4, 7), (3, 35)]:
        if is_random_iter:
            needed = batch_size * num_steps + 1
        else:
            needed = batch_size * (num_steps + 1)
        got = batches(data_iter_fn(list(range(needed)), batch_size,
                                   num_steps))
        assert len(got) == 1, (batch_size, num_steps)
        assert max(max(row) for row in got[0][1]) <= needed - 1
        with pytest.raises(ValueError, match=f'at least {needed} tokens'):
            next(data_iter_fn(list(range(needed - 1)), batch_size,
                              num_steps))


def mxnet_signature(name):
    """[(parameter, default)] of a function of the mxnet module, or of a
    class's __init__ without self, read from its source (this file imports
    no mxnet)."""
    import ast
    with open(os.path.join(ROOT, 'gluonbook', 'chapter_rnn.py')) as f:
        tree = ast.parse(f.read())
    node, = [n for n in tree.body if isinstance(
        n, (ast.FunctionDef, ast.ClassDef)) and n.name == name]
    if isinstance(node, ast.ClassDef):
        node, = [n for n in node.body if isinstance(n, ast.FunctionDef)
                 and n.name == '__init__']
    args = node.args
    defaults = [None] * (len(args.args) - len(args.defaults)) + [
        ast.literal_eval(d) for d in args.defaults]
    return [(a.arg, d) for a, d in zip(args.args, defaults)
            if a.arg != 'self']


def torch_signature(obj):
    """The same for a function of the torch module, `device` read as
    `ctx`."""
    import inspect
    return [('ctx' if p.name == 'device' else p.name,
             None if p.default is inspect.Parameter.empty else p.default)
            for p in inspect.signature(obj).parameters.values()]


def test_torch_helpers_have_the_mxnet_signatures():
    # The names, parameters and defaults of the mxnet module, with `device`
    # for `ctx`.
    for name in ['figure_svg', 'plot_curves', 'set_seed', 'read_time_machine',
                 'clean_text', 'ngram_counts', 'train_val_split',
                 'load_data_time_machine', 'check_corpus_size',
                 'data_iter_random', 'data_iter_consecutive']:
        assert torch_signature(getattr(gb, name)) == mxnet_signature(
            name), name


# --- rnn-scratch: the scratch RNN, prediction, clipping, training ----------

CPU = torch.device('cpu')


def test_torch_rnn_scratch_helpers_have_the_mxnet_signatures():
    # Names, parameters and defaults as in the mxnet module, `device` for
    # `ctx`.
    names = ['to_onehot', 'try_gpu', 'get_rnn_params', 'init_rnn_state',
             'rnn', 'check_prefix', 'predict_rnn', 'grad_clipping', 'sgd',
             'eval_perplexity', 'check_finite', 'train_and_predict_rnn',
             'save_history', 'load_history', 'print_summary']
    for name in names:
        assert torch_signature(getattr(gb, name)) == mxnet_signature(
            name), name
    assert gb.RESULTS_DIR == 'results'


def test_torch_to_onehot():
    X = torch.tensor([[0, 2, 1], [3, 3, 0]])  # (batch_size, num_steps)
    inputs = gb.to_onehot(X, 4)
    assert len(inputs) == 3  # one (batch_size, size) matrix per step
    assert all(x.dtype == torch.float32 for x in inputs)
    assert [x.tolist() for x in inputs] == [
        [[1, 0, 0, 0], [0, 0, 0, 1]],
        [[0, 0, 1, 0], [0, 0, 0, 1]],
        [[0, 1, 0, 0], [1, 0, 0, 0]]]


def test_torch_try_gpu_prefers_cuda_then_mps(monkeypatch):
    def available(cuda, mps):
        monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)
        monkeypatch.setattr(torch.backends.mps, 'is_available', lambda: mps)
        return gb.try_gpu()

    assert available(True, True) == torch.device('cuda')
    assert available(False, True) == torch.device('mps')
    assert available(False, False) == torch.device('cpu')


def grad_params(*grads):
    params = [torch.zeros(len(g), requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g, dtype=torch.float32)
    return params


def test_torch_clipping_scales_to_theta():
    params = grad_params([3, 0], [0, 4])
    gb.grad_clipping(params, 1, CPU)
    # Exactly the float32 values the mxnet tab prints.
    assert [p.grad.tolist() for p in params] == [
        [0.6000000238418579, 0.0], [0.0, 0.800000011920929]]


def test_torch_clipping_leaves_small_gradients_untouched():
    params = grad_params([0.3, 0], [0, 0.4])
    gb.grad_clipping(params, 1, CPU)
    assert params[0].grad.tolist() == pytest.approx([0.3, 0])
    assert params[1].grad.tolist() == pytest.approx([0, 0.4])


def test_torch_clipping_matches_numpy_and_clip_grad_norm():
    # The shapes of the book's RNN parameters; the joint norm is well
    # above theta, so every gradient is scaled by the same factor.
    rng = np.random.RandomState(0)
    shapes = [(27, 256), (256, 256), (256,), (256, 27), (27,)]
    grads = [rng.normal(size=shape).astype(np.float32) for shape in shapes]
    params = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    library = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for p, q, g in zip(params, library, grads):
        p.grad, q.grad = torch.tensor(g), torch.tensor(g)
    theta = 2.5
    gb.grad_clipping(params, theta, CPU)
    torch.nn.utils.clip_grad_norm_(library, theta)
    norm = np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads))
    assert norm > 100 * theta
    for p, q, g in zip(params, library, grads):
        np.testing.assert_allclose(p.grad.numpy(), g * theta / norm,
                                   rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(),
                                   rtol=1e-5, atol=1e-7)


def test_torch_sgd_step():
    (param,) = grad_params([1, -2])
    with torch.no_grad():
        param[:] = torch.tensor([10.0, 10.0])
    gb.sgd([param], lr=0.5, batch_size=2)
    assert param.tolist() == [9.75, 10.5]
    assert param.requires_grad and param.is_leaf  # still a parameter


VOCAB, CHAR_TO_IDX = decoding_checks.VOCAB, decoding_checks.CHAR_TO_IDX


def next_char_rnn(inputs, state, params):
    """A stand-in RNN that always predicts the character after its input."""
    outputs = [torch.nn.functional.one_hot(
        (X.argmax(dim=1) + 1) % len(VOCAB), len(VOCAB)).float()
        for X in inputs]
    return outputs, state


def predict_scratch(prefix, num_chars):
    return gb.predict_rnn(prefix, num_chars, next_char_rnn, None,
                          gb.init_rnn_state, 4, len(VOCAB), CPU, VOCAB,
                          CHAR_TO_IDX)


def test_torch_prediction_records_no_gradients():
    params = gb.get_rnn_params(len(VOCAB), 4, CPU)
    gb.predict_rnn('ab', 5, gb.rnn, params, gb.init_rnn_state, 4,
                   len(VOCAB), CPU, VOCAB, CHAR_TO_IDX)
    assert all(p.grad is None for p in params)


def test_torch_scratch_rnn_shapes_and_parameters():
    params = gb.get_rnn_params(27, 8, CPU)
    assert [tuple(p.shape) for p in params] == [(27, 8), (8, 8), (8,),
                                                (8, 27), (27,)]
    assert all(p.requires_grad and p.is_leaf for p in params)
    assert params[2].abs().sum() == 0 and params[4].abs().sum() == 0
    X = torch.arange(10).reshape((2, 5))
    outputs, (H,) = gb.rnn(gb.to_onehot(X, 27), gb.init_rnn_state(2, 8, CPU),
                           params)
    assert len(outputs) == 5 and outputs[0].shape == (2, 27)
    assert H.shape == (2, 8)


def test_torch_scratch_rnn_computes_what_nn_rnn_relu_computes():
    # The scratch model is nn.RNN(nonlinearity='relu') followed by a
    # linear output layer; nn.RNN stores W.T and two biases.
    vocab_size, num_hiddens = 5, 8
    torch.manual_seed(0)
    layer = torch.nn.RNN(vocab_size, num_hiddens, nonlinearity='relu')
    dense = torch.nn.Linear(num_hiddens, vocab_size)
    with torch.no_grad():
        for p in list(layer.parameters()) + list(dense.parameters()):
            p.normal_(0, 0.5)
    X = torch.tensor([[0, 1, 2], [3, 4, 0]])
    inputs = torch.stack(gb.to_onehot(X, vocab_size))  # (steps, batch, d)
    with torch.no_grad():
        Y, H = layer(inputs)
        output = dense(Y.reshape(-1, num_hiddens))
        params = [layer.weight_ih_l0.T, layer.weight_hh_l0.T,
                  layer.bias_ih_l0 + layer.bias_hh_l0, dense.weight.T,
                  dense.bias]
        outputs, (H_scratch,) = gb.rnn(
            gb.to_onehot(X, vocab_size),
            gb.init_rnn_state(2, num_hiddens, CPU), params)
    assert output.abs().max() > 1  # the ReLU was not idle
    assert (torch.cat(outputs) - output).abs().max() < 1e-5
    assert (H_scratch - H[0]).abs().max() < 1e-5


def test_torch_uniform_model_has_perplexity_vocab_size():
    def uniform(X, state):
        return torch.zeros((X.numel(), 27)), state

    ppl = gb.eval_perplexity(uniform, lambda b: None, list(range(27)) * 40,
                             4, 5, CPU)
    assert ppl == pytest.approx(27, rel=1e-5)


def test_torch_check_finite():
    gb.check_finite(3.0, 0, 1)
    with pytest.raises(FloatingPointError, match='epoch 2'):
        gb.check_finite(float('nan'), 1, 1e9)
    # Finite, but exp() of it would overflow: no perplexity either.
    with pytest.raises(FloatingPointError, match='learning rate 0.005'):
        gb.check_finite(1e4, 0, 0.005)


def small_training(corpus, **kwargs):
    _, char_to_idx, idx_to_char, vocab_size = gb.load_data_time_machine()
    args = dict(is_random_iter=False, num_epochs=2, num_steps=10, lr=1,
                clipping_theta=1, batch_size=8, pred_period=5, pred_len=10,
                prefixes=['the'])
    args.update(kwargs)
    return gb.train_and_predict_rnn(
        gb.rnn, lambda: gb.get_rnn_params(vocab_size, 16, CPU),
        gb.init_rnn_state, 16, vocab_size, CPU, corpus, idx_to_char,
        char_to_idx, **args)


def assert_two_sgd_epochs(history, capsys):
    """What a two-epoch SGD run at learning rate 1 with pred_period=1, of
    either trainer, records and prints."""
    assert (history['optimizer'], history['lr']) == ('sgd', 1)
    assert len(history['train']) == len(history['val']) == 2
    assert all(t > 0 for t in history['tokens_per_sec'])
    # Two epochs of SGD on 5400 characters: below the uniform 27.
    assert history['train'][-1] < history['train'][0] < 27
    lines = capsys.readouterr().out.split('\n')
    assert re.fullmatch(r'epoch 2, perplexity [\d.]+, val perplexity '
                        r'[\d.]+, time [\d.]+ sec', lines[2])
    assert re.fullmatch(r' - the[ a-z]{10}', lines[3])
    json.dumps(history)  # plain numbers, as save_history needs


def test_torch_scratch_training_records_its_history(capsys):
    corpus = gb.load_data_time_machine()[0][:6000]
    gb.set_seed(0)
    history = small_training(corpus, pred_period=1)
    assert history['num_params'] == 27 * 16 + 16 * 16 + 16 + 16 * 27 + 27
    assert_two_sgd_epochs(history, capsys)


def test_torch_scratch_training_accepts_adam_and_rejects_unknown_names():
    corpus = gb.load_data_time_machine()[0][:6000]
    history = small_training(corpus, lr=0.01, optimizer='adam')
    assert (history['optimizer'], history['lr']) == ('adam', 0.01)
    # Adam at 0.01 learns something in two epochs of 6000 characters.
    assert history['train'][-1] < 20
    with pytest.raises(ValueError, match='Cannot find optimizer adamm'):
        small_training(corpus, optimizer='adamm')


def test_torch_scratch_training_that_diverges_stops_with_a_clear_error():
    corpus = gb.load_data_time_machine()[0][:6000]
    with pytest.raises(FloatingPointError, match='learning rate 1000000000'):
        small_training(corpus, lr=1e9, num_epochs=5)


def test_torch_training_on_a_too_short_corpus_fails_before_training():
    corpus = gb.load_data_time_machine()[0][:500]
    with pytest.raises(ValueError, match='too short'):
        small_training(corpus, num_steps=35, batch_size=32)


def test_torch_perplexity_plot_records_without_drawing_outside_jupyter(
        capsys):
    plot = gb.PerplexityPlot(num_epochs=2)
    plot.add(1, 9.0, 9.5)
    plot.add(2, 6.0, 7.0)
    assert plot.history == ([1, 2], [9.0, 6.0], [9.5, 7.0])
    assert plot.handle is None and capsys.readouterr().out == ''


def test_torch_history_round_trip_and_missing_history(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    history = {'train': [9.0, 7.0], 'val': [9.5, 8.0],
               'tokens_per_sec': [1000.0, 1100.0], 'num_params': 42,
               'optimizer': 'sgd', 'lr': 2}
    gb.save_history('toy-pytorch', history)
    assert os.path.exists(os.path.join('results', 'toy-pytorch.json'))
    assert gb.load_history('toy-pytorch') == history
    with pytest.raises(FileNotFoundError, match="run the section that "
                                                "trains 'gru-pytorch'"):
        gb.load_history('gru-pytorch')


def test_torch_print_summary_reports_the_best_epoch(capsys):
    gb.print_summary('toy', {'train': [9.0, 7.0, 6.0], 'val': [9.5, 8.0, 8.5],
                             'tokens_per_sec': [10.0, 30.0, 20.0],
                             'num_params': 42})
    assert capsys.readouterr().out == (
        'toy: best val perplexity 8.00 at epoch 2 of 3, train 7.00; '
        '42 parameters\n')


# --- rnn-gluon: RNNModel, predict_rnn_pytorch, the trainer ----------------

def test_torch_rnn_gluon_helpers_have_the_mxnet_signatures():
    # predict_rnn_gluon -> predict_rnn_pytorch and so on: the parameters
    # and defaults of the mxnet module, `device` for `ctx`.
    for torch_name, mxnet_name in [
            ('predict_rnn_pytorch', 'predict_rnn_gluon'),
            ('train_and_predict_rnn_pytorch', 'train_and_predict_rnn_gluon'),
            ('rnn_input_at_once', 'rnn_input_at_once'),
            ('RNNModel', 'RNNModel')]:  # its __init__, **kwargs aside
        assert torch_signature(getattr(gb, torch_name)) == mxnet_signature(
            mxnet_name), torch_name


@pytest.mark.parametrize('make_layer,state_shapes', [
    (lambda: torch.nn.RNN(27, 16, nonlinearity='relu'), [(1, 2, 16)]),
    (lambda: torch.nn.GRU(27, 16), [(1, 2, 16)]),
    (lambda: torch.nn.LSTM(27, 16), [(1, 2, 16), (1, 2, 16)]),
    (lambda: torch.nn.LSTM(27, 16, num_layers=2), [(2, 2, 16)] * 2),
    (lambda: torch.nn.GRU(27, 16, bidirectional=True), [(2, 2, 16)]),
    (lambda: torch.nn.LSTM(27, 16, num_layers=2, bidirectional=True),
     [(4, 2, 16)] * 2)])
def test_torch_rnn_model_shapes_and_begin_state(make_layer, state_shapes):
    model = gb.RNNModel(make_layer(), 27)
    state = model.begin_state(batch_size=2, device=CPU)
    states = list(state) if isinstance(state, tuple) else [state]
    assert [tuple(s.shape) for s in states] == state_shapes
    assert all(s.abs().sum() == 0 for s in states)
    assert isinstance(state, tuple) == (len(state_shapes) == 2)
    X = torch.arange(10).reshape((2, 5))  # (batch_size, num_steps)
    output, new_state = model(X, state)
    assert output.shape == (5 * 2, 27)  # (num_steps * batch_size, vocab)
    new_states = (list(new_state) if isinstance(new_state, tuple)
                  else [new_state])
    assert [tuple(s.shape) for s in new_states] == state_shapes
    # Without a device: where the parameters are.
    assert model.begin_state(3)[0].device == CPU


def test_torch_rnn_model_is_the_scratch_rnn_time_step_major():
    # Rows of the output are time step major: row t * batch_size + b is
    # sequence b at step t, as gb.rnn's outputs concatenated.
    torch.manual_seed(0)
    vocab_size, num_hiddens = 5, 8
    model = gb.RNNModel(torch.nn.RNN(vocab_size, num_hiddens,
                                     nonlinearity='relu'), vocab_size)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.5)
        X = torch.tensor([[0, 1, 2], [3, 4, 0]])
        output, H = model(X, model.begin_state(2, CPU))
        layer, dense = model.rnn, model.dense
        params = [layer.weight_ih_l0.T, layer.weight_hh_l0.T,
                  layer.bias_ih_l0 + layer.bias_hh_l0, dense.weight.T,
                  dense.bias]
        for rnn_fn in (gb.rnn, gb.rnn_input_at_once):
            outputs, (H_scratch,) = rnn_fn(
                gb.to_onehot(X, vocab_size),
                gb.init_rnn_state(2, num_hiddens, CPU), params)
            assert output.abs().max() > 1
            assert (torch.cat(outputs) - output).abs().max() < 1e-5
            assert (H_scratch - H[0]).abs().max() < 1e-5
    # 256 more parameters for 256 hidden units: the second bias vector.
    assert sum(p.numel() for p in model.parameters()) == sum(
        p.numel() for p in params) + num_hiddens


def test_torch_input_at_once_takes_a_single_time_step():
    params = gb.get_rnn_params(5, 4, CPU)
    inputs = gb.to_onehot(torch.tensor([[1], [3]]), 5)  # one time step
    state = gb.init_rnn_state(2, 4, CPU)
    (Y1, (H1,)), (Y2, (H2,)) = (f(inputs, state, params)
                                for f in (gb.rnn, gb.rnn_input_at_once))
    assert len(Y2) == 1 and (Y1[0] - Y2[0]).abs().max() < 1e-6
    assert (H1 - H2).abs().max() < 1e-6


def test_torch_rnn_model_rejects_a_layer_it_cannot_feed():
    with pytest.raises(ValueError) as e:
        gb.RNNModel(torch.nn.RNN(26, 16), 27)
    assert 'vocab_size = 27' in str(e.value)
    assert 'input_size=26' in str(e.value)
    with pytest.raises(ValueError, match='batch_first=True'):
        gb.RNNModel(torch.nn.GRU(27, 16, batch_first=True), 27)


def test_torch_rnn_model_dropout_acts_in_training_mode_only():
    torch.manual_seed(0)
    model = gb.RNNModel(torch.nn.GRU(27, 16), 27, dropout=0.5)
    X = torch.tensor([[0, 1, 2]])
    model.eval()
    out1, _ = model(X, model.begin_state(1))
    out2, _ = model(X, model.begin_state(1))
    assert (out1 - out2).abs().max() == 0
    model.train()
    out3, _ = model(X, model.begin_state(1))
    assert (out1 - out3).abs().max() > 0


class NextCharModel(torch.nn.Module):
    """A stand-in RNNModel that always predicts the character after its
    input, and records the mode it was called in."""
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(1))
        self.modes = []

    def forward(self, inputs, state):
        self.modes.append(self.training)
        scores = torch.nn.functional.one_hot(
            (inputs.T.reshape(-1) + 1) % len(VOCAB), len(VOCAB)).float()
        return scores * self.weight, state

    def begin_state(self, batch_size, device=None):
        return torch.zeros((1, batch_size, 4), device=device)


def predict_concise(prefix, num_chars, model=None):
    return gb.predict_rnn_pytorch(prefix, num_chars, model or NextCharModel(),
                                  len(VOCAB), CPU, VOCAB, CHAR_TO_IDX)


# predict_rnn (scratch) and predict_rnn_pytorch (concise) alike.
PREDICTORS = pytest.mark.parametrize('predict', ['scratch', 'concise'])


def predictor(name):
    return {'scratch': predict_scratch, 'concise': predict_concise}[name]


@PREDICTORS
def test_torch_prediction_continues_the_prefix(predict):
    # The prefix is kept as given (not predicted), then the model takes over.
    predict = predictor(predict)
    assert predict('da', 4) == 'dabcde'
    assert predict('e', 3) == 'eabc'
    assert predict('ca', 0) == 'ca'


@PREDICTORS
def test_torch_prediction_bad_input_is_named(predict):
    # The messages of the mxnet tab, word for word.
    predict = predictor(predict)
    with pytest.raises(ValueError) as e:
        predict('abx', 3)
    assert str(e.value) == ("prefix 'abx' contains 'x', which is not in the "
                            "vocabulary 'abcde'")
    with pytest.raises(ValueError, match='prefix is empty'):
        predict('', 3)
    with pytest.raises(ValueError, match='num_chars must be >= 0, got -1'):
        predict('ab', -1)


def test_torch_concise_prediction_evaluates_and_restores_the_mode():
    model = NextCharModel()
    predict_concise('ab', 3, model)
    assert model.modes == [False] * 4 and model.training  # restored
    assert model.weight.grad is None  # nothing recorded
    model.eval()
    predict_concise('ab', 3, model)
    assert not model.training


def concise_training(model, corpus=None, **kwargs):
    corpus_indices, char_to_idx, idx_to_char, vocab_size = (
        gb.load_data_time_machine())
    args = dict(num_epochs=2, num_steps=10, lr=1, clipping_theta=1,
                batch_size=8, pred_period=5, pred_len=10, prefixes=['the'])
    args.update(kwargs)
    return gb.train_and_predict_rnn_pytorch(
        model, 16, vocab_size, CPU,
        corpus if corpus is not None else corpus_indices[:6000],
        idx_to_char, char_to_idx, **args)


def test_torch_concise_training_records_its_history(capsys):
    gb.set_seed(0)
    model = gb.RNNModel(torch.nn.RNN(27, 16, nonlinearity='relu'), 27)
    history = concise_training(model, pred_period=1)
    assert set(history) == {'train', 'val', 'tokens_per_sec', 'num_params',
                            'optimizer', 'lr'}
    assert history['num_params'] == 27 * 16 + 16 * 16 + 2 * 16 + 16 * 27 + 27
    assert_two_sgd_epochs(history, capsys)


def test_torch_concise_training_initialises_afresh():
    # With a learning rate of 0 the parameters stay as initialised:
    # weight matrices from N(0, 0.01^2), or by the initializer given, and
    # zero biases, whatever PyTorch drew when the layers were built.
    torch.manual_seed(0)
    model = gb.RNNModel(torch.nn.LSTM(27, 64, num_layers=2), 27)
    concise_training(model, lr=0, num_epochs=1)
    for name, p in model.named_parameters():
        if 'bias' in name:
            assert p.abs().max() == 0, name
        else:
            assert 0.009 < p.std().item() < 0.011, name
    concise_training(model, lr=0, num_epochs=1,
                     initializer=lambda w: torch.nn.init.constant_(w, 0.02))
    for name, p in model.named_parameters():
        expected = 0.0 if 'bias' in name else 0.02
        assert (p == expected).all(), name


@pytest.mark.parametrize('make_layer', [
    lambda: torch.nn.LSTM(27, 16),
    lambda: torch.nn.GRU(27, 16, num_layers=2),
    lambda: torch.nn.GRU(27, 16, bidirectional=True)])
def test_torch_concise_training_accepts_adam_and_every_layer(make_layer):
    gb.set_seed(0)
    model = gb.RNNModel(make_layer(), 27, dropout=0.2)
    history = concise_training(model, lr=0.01, optimizer='adam')
    assert (history['optimizer'], history['lr']) == ('adam', 0.01)
    # Adam at 0.01 learns something in two epochs of 6000 characters.
    assert history['train'][-1] < 20
    assert not model.training  # left in evaluation mode, as validated


def test_torch_concise_training_bad_input_is_named():
    def model():
        return gb.RNNModel(torch.nn.RNN(27, 16, nonlinearity='relu'), 27)

    with pytest.raises(ValueError, match='Cannot find optimizer adamm'):
        concise_training(model(), optimizer='adamm')
    with pytest.raises(FloatingPointError, match='learning rate 1000000000'):
        concise_training(model(), lr=1e9, num_epochs=5)
    corpus = gb.load_data_time_machine()[0][:500]
    with pytest.raises(ValueError, match='too short'):
        concise_training(model(), corpus, num_steps=35, batch_size=32)


# --- lstm: the scratch LSTM, save_params and load_params --------------------

def test_torch_lstm_and_decoding_helpers_have_the_mxnet_signatures():
    for name in ['get_lstm_params', 'init_lstm_state', 'lstm', 'save_params',
                 'load_params', 'softmax_with_temperature', 'top_k_probs',
                 'top_p_probs', 'predict_sample', 'predict_top_k',
                 'predict_top_p', 'predict_beam_search']:
        assert torch_signature(getattr(gb, name)) == mxnet_signature(
            name), name


def test_torch_scratch_lstm_shapes_and_parameters():
    d, h = 27, 16
    params = gb.get_lstm_params(d, h, CPU)
    per_gate = d * h + h * h + h
    assert sum(p.numel() for p in params) == 4 * per_gate + h * d + d
    assert all(p.requires_grad and p.is_leaf for p in params)
    # Weights from N(0, 0.01^2), biases zero, as the RNN's and the GRU's.
    assert [tuple(p.shape) for p in params[:3]] == [(d, h), (h, h), (h,)]
    assert all(p.abs().max() == 0 for p in params[2:12:3] + params[13:])
    H0, C0 = gb.init_lstm_state(2, h, CPU)
    assert H0.shape == C0.shape == (2, h)
    assert H0.abs().max() == C0.abs().max() == 0
    X = torch.tensor([[0, 1, 2], [3, 4, 0]])
    outputs, (H, C) = gb.lstm(gb.to_onehot(X, d), (H0, C0), params)
    assert len(outputs) == 3 and outputs[0].shape == (2, d)
    assert H.shape == C.shape == (2, h)


def lstm_params_of(model):
    """The weights of an RNNModel(nn.LSTM) in the order of get_lstm_params."""
    layer, dense, h = model.rnn, model.dense, model.rnn.hidden_size
    # PyTorch stacks the gates as input, forget, candidate (g), output.
    W_x, W_h = layer.weight_ih_l0, layer.weight_hh_l0
    b = layer.bias_ih_l0 + layer.bias_hh_l0
    gate = {name: slice(k * h, (k + 1) * h)
            for k, name in enumerate(['i', 'f', 'g', 'o'])}
    params = []
    for name in ['i', 'f', 'o', 'g']:
        params += [W_x[gate[name]].T, W_h[gate[name]].T, b[gate[name]]]
    return params + [dense.weight.T, dense.bias]


def test_torch_scratch_lstm_computes_what_nn_lstm_computes():
    torch.manual_seed(0)
    vocab_size, h = 5, 8
    model = gb.RNNModel(torch.nn.LSTM(vocab_size, h), vocab_size)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.5)
        X = torch.tensor([[0, 1, 2], [3, 4, 0]])
        output, (H, C) = model(X, model.begin_state(2, CPU))
        outputs, (H_scratch, C_scratch) = gb.lstm(
            gb.to_onehot(X, vocab_size), gb.init_lstm_state(2, h, CPU),
            lstm_params_of(model))
    assert output.abs().max() > 1
    assert (torch.cat(outputs) - output).abs().max() < 1e-5
    assert (H_scratch - H[0]).abs().max() < 1e-5
    assert (C_scratch - C[0]).abs().max() < 1e-5
    # The gates' second bias vectors: 4 * h parameters more.
    assert sum(p.numel() for p in model.parameters()) == sum(
        p.numel() for p in lstm_params_of(model)) + 4 * h


def test_torch_scratch_lstm_drops_units_only_while_recording():
    torch.manual_seed(0)
    d, h = 27, 16
    params = gb.get_lstm_params(d, h, CPU)
    with torch.no_grad():
        for p in params:
            p.normal_(0, 0.5)
    inputs = gb.to_onehot(torch.tensor([[0, 1, 2]]), d)
    state = gb.init_lstm_state(1, h, CPU)
    plain, _ = gb.lstm(inputs, state, params)
    with torch.no_grad():  # evaluation and prediction
        evaluated, _ = gb.lstm(inputs, state, params, dropout=0.5)
    assert all((a - b).abs().max() == 0 for a, b in zip(plain, evaluated))
    trained, (H, C) = gb.lstm(inputs, state, params, dropout=0.5)
    assert (plain[-1] - trained[-1]).abs().max() > 0
    # Dropout acts on the way to the output layer, not on the state.
    _, (H_plain, C_plain) = gb.lstm(inputs, state, params)
    assert (H - H_plain).abs().max() == 0 and (C - C_plain).abs().max() == 0


def small_lstm(seed, num_hiddens=32, layer=torch.nn.LSTM):
    """An untrained model with weights large enough to prefer some text."""
    torch.manual_seed(seed)
    model = gb.RNNModel(layer(len(ALPHABET), num_hiddens), len(ALPHABET))
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 1.0)
    return model


ALPHABET = list(' abcdefghijklmnopqrstuvwxyz')
ALPHABET_TO_IDX = {c: i for i, c in enumerate(ALPHABET)}


def test_torch_params_round_trip_and_missing_params(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = small_lstm(0)
    X = torch.arange(6).reshape((2, 3))
    with torch.no_grad():
        expected, _ = model(X, model.begin_state(2, CPU))
    gb.save_params('toy', model)
    assert os.listdir('results') == ['toy.pt']
    copy = small_lstm(1)  # other weights, overwritten by the file's
    gb.load_params('toy', copy, CPU)
    with torch.no_grad():
        got, _ = copy(X, copy.begin_state(2, CPU))
    assert torch.equal(got, expected)
    assert all(p.device == CPU for p in copy.parameters())
    gb.load_params('toy', copy)  # device=None: gb.try_gpu(), here the CPU
    with pytest.raises(FileNotFoundError) as e:
        gb.load_params('lstm-pytorch', copy, CPU)
    assert str(e.value) == (
        f"{os.path.join('results', 'lstm-pytorch.pt')} not found: run the "
        f"section that trains 'lstm-pytorch' first (it calls "
        f"gb.save_params), from this folder")
    with pytest.raises(RuntimeError, match='size mismatch'):
        gb.load_params('toy', small_lstm(0, num_hiddens=16), CPU)


# --- decoding ---------------------------------------------------------------

def test_torch_softmax_with_temperature():
    decoding_checks.check_softmax_with_temperature(gb)


def test_torch_top_k_keeps_the_k_largest_renormalised():
    decoding_checks.check_top_k(gb)


def test_torch_top_p_keeps_the_fewest_largest_reaching_p():
    decoding_checks.check_top_p(gb)


def decode(decoder, prefix, num_chars, model=None, **kwargs):
    return decoder(prefix, num_chars, model or NextCharModel(), len(VOCAB),
                   CPU, VOCAB, CHAR_TO_IDX, **kwargs)


def sample_with_seed_0(prefix, num_chars, **kwargs):
    np.random.seed(0)
    return decode(gb.predict_sample, prefix, num_chars, **kwargs)


def test_torch_sampling_that_keeps_one_character_is_greedy():
    decoding_checks.check_sampling_keeps_one_character_greedy(
        sample_with_seed_0)


def test_torch_sampling_follows_the_model_distribution():
    decoding_checks.check_sampling_follows_the_model_distribution(
        sample_with_seed_0)


def test_torch_sampling_is_repeatable_with_the_seed():
    model = small_lstm(1)
    texts = []
    for seed in (0, 0, 1):
        gb.set_seed(seed)
        texts.append(gb.predict_sample('the ', 40, model, 27, CPU, ALPHABET,
                                       ALPHABET_TO_IDX))
    assert texts[0] == texts[1] != texts[2]


@pytest.mark.parametrize('decoder,kwargs', [
    (gb.predict_sample, {}), (gb.predict_top_k, {'k': 2}),
    (gb.predict_top_p, {'p': 0.5}), (gb.predict_beam_search,
                                     {'beam_width': 3})])
def test_torch_decoders_evaluate_and_restore_the_mode(decoder, kwargs):
    model = NextCharModel()
    decode(decoder, 'ab', 3, model, **kwargs)
    assert model.modes and not any(model.modes)  # always in eval mode
    assert model.training and model.weight.grad is None
    model.eval()
    decode(decoder, 'ab', 3, model, **kwargs)
    assert not model.training


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('layer', [torch.nn.LSTM, torch.nn.GRU])
def test_torch_beam_search_of_width_one_is_greedy(seed, layer):
    # nn.LSTM's state is a tuple (H, C), nn.GRU's one tensor.
    model = small_lstm(seed, layer=layer)
    for prefix in ['t', 'the time ', 'zq']:
        greedy = gb.predict_rnn_pytorch(prefix, 60, model, 27, CPU,
                                        ALPHABET, ALPHABET_TO_IDX)
        # Not a trivial model: at least three different characters (3 to
        # 17 for these models).
        assert len(set(greedy[len(prefix):])) >= 3
        assert gb.predict_beam_search(prefix, 60, model, 27, CPU, ALPHABET,
                                      ALPHABET_TO_IDX, beam_width=1) == greedy
    assert decode(gb.predict_beam_search, 'da', 4, beam_width=1) == 'dabcde'
    assert decode(gb.predict_beam_search, 'ca', 0, beam_width=3) == 'ca'


class TableModel(torch.nn.Module):
    """A stand-in whose next-character probabilities are a fixed table."""
    def __init__(self, table):
        super().__init__()
        self.log_table = torch.log(torch.tensor(table))

    def forward(self, inputs, state):
        return self.log_table[inputs.T.reshape(-1)], state

    def begin_state(self, batch_size, device=None):
        return torch.zeros((1, batch_size, 1), device=device)


def test_torch_beam_search_finds_the_likelier_text_that_greedy_misses():
    args = (TableModel(decoding_checks.BEAM_TABLE), len(VOCAB), CPU, VOCAB,
            CHAR_TO_IDX)
    assert gb.predict_rnn_pytorch('a', 2, *args) == \
        decoding_checks.GREEDY_ON_TABLE
    for prefix, num_chars, beam_width, text in decoding_checks.BEAM_CASES:
        assert gb.predict_beam_search(prefix, num_chars, *args,
                                      beam_width=beam_width) == text


@pytest.mark.parametrize('layer', [torch.nn.LSTM, torch.nn.GRU])
def test_torch_beam_search_wide_enough_is_exhaustive_search(layer):
    # With 5 characters and width 25 = 5 ** 2, beam search keeps every
    # continuation for two steps and picks the best of all 125 of three
    # characters: it must find the likeliest, as scored by running the
    # model over each whole text. Each beam's state must follow it.
    torch.manual_seed(0)
    model = gb.RNNModel(layer(len(VOCAB), 16), len(VOCAB))
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 1.0)
        texts = [[CHAR_TO_IDX[c] for c in 'ab'] + [x, y, z]
                 for x in range(5) for y in range(5) for z in range(5)]
        X = torch.tensor(texts)
        Y, _ = model(X[:, :-1], model.begin_state(len(texts), CPU))
        # Y: (4 steps * 125 texts, 5); rows of step t are t * 125 + b.
        log_probs = torch.log_softmax(Y, dim=1).reshape(4, len(texts), 5)
        scores = sum(log_probs[t, torch.arange(len(texts)), X[:, t + 1]]
                     for t in range(1, 4))
    best = ''.join(VOCAB[i] for i in texts[scores.argmax()])
    top = scores.sort(descending=True).values
    assert top[0] - top[1] > 1e-3  # no near tie: one answer
    assert gb.predict_beam_search('ab', 3, model, len(VOCAB), CPU, VOCAB,
                                  CHAR_TO_IDX, beam_width=25) == best
    greedy = gb.predict_rnn_pytorch('ab', 3, model, len(VOCAB), CPU, VOCAB,
                                    CHAR_TO_IDX)
    scores_by_text = {''.join(VOCAB[i] for i in text): s
                      for text, s in zip(texts, scores.tolist())}
    assert scores_by_text[greedy] <= scores_by_text[best]


@pytest.mark.parametrize('name,prefix,kwargs,message',
                         decoding_checks.BAD_ARGUMENTS,
                         ids=decoding_checks.BAD_ARGUMENT_IDS)
def test_torch_decoders_name_the_bad_argument(name, prefix, kwargs,
                                              message):
    kwargs = dict(kwargs)
    num_chars = kwargs.pop('num_chars', 3)
    model = NextCharModel()
    with pytest.raises(ValueError, match=message):
        decode(getattr(gb, name), prefix, num_chars, model, **kwargs)
    assert model.modes == []  # refused before the model ran


def test_torch_top_k_and_top_p_decoders_are_the_sampler_with_a_cut():
    model = small_lstm(1)
    for named, kwargs in [(gb.predict_top_k, {'k': 3}),
                          (gb.predict_top_p, {'p': 0.5})]:
        gb.set_seed(4)
        expected = gb.predict_sample('the ', 40, model, 27, CPU, ALPHABET,
                                     ALPHABET_TO_IDX, **kwargs)
        gb.set_seed(4)
        assert named('the ', 40, model, 27, CPU, ALPHABET, ALPHABET_TO_IDX,
                     **kwargs) == expected
    with pytest.raises(ValueError, match='k must be a whole number'):
        gb.predict_top_k('the', 5, model, 27, CPU, ALPHABET,
                         ALPHABET_TO_IDX, k=0)
    with pytest.raises(ValueError, match=r'p must be in \(0, 1\], got 2'):
        gb.predict_top_p('the', 5, model, 27, CPU, ALPHABET,
                         ALPHABET_TO_IDX, p=2)


# --- gru: gate_params, get_gru_params, the scratch GRU ----------------------

def test_torch_gru_helpers_have_the_mxnet_signatures():
    import inspect
    for name in ['gate_params', 'get_gru_params', 'gru']:
        assert torch_signature(getattr(gb, name)) == mxnet_signature(
            name), name


def test_torch_gate_and_gru_params_shapes():
    torch.manual_seed(0)
    d, h = 27, 16
    W_x, W_h, b = gb.gate_params(d, h, CPU)
    assert (W_x.shape, W_h.shape, b.shape) == ((d, h), (h, h), (h,))
    # Weights from N(0, 0.01^2), biases zero.
    assert 0.008 < torch.cat([W_x.flatten(), W_h.flatten()]).std() < 0.012
    assert b.abs().max() == 0
    params = gb.get_gru_params(d, h, CPU)
    assert len(params) == 11
    assert [tuple(p.shape) for p in params] == (
        [(d, h), (h, h), (h,)] * 3 + [(h, d), (d,)])
    assert all(p.requires_grad and p.is_leaf for p in params)
    assert all(p.abs().max() == 0 for p in params[2:9:3] + params[10:])
    per_gate = d * h + h * h + h
    assert sum(p.numel() for p in params) == 3 * per_gate + h * d + d
    X = torch.tensor([[0, 1, 2], [3, 4, 0]])
    outputs, (H,) = gb.gru(gb.to_onehot(X, d), gb.init_rnn_state(2, h, CPU),
                           params)
    assert len(outputs) == 3 and outputs[0].shape == (2, d)
    assert H.shape == (2, h)


def test_torch_gru_on_a_toy_input_by_hand():
    # One hidden unit, all weights zero but these: b_h = atanh(1/2) makes
    # the candidate 1/2 at every step; with b_z = 0 the update gate is 1/2,
    # so H_t = (H_{t-1} + 1/2) / 2: 1/4, 3/8, ... The input 1 opens the
    # update gate fully (sigmoid(100) is 1 in float32): H is kept.
    params = gb.get_gru_params(3, 1, CPU)
    with torch.no_grad():
        for p in params:
            p.zero_()
        W_xz, b_h, W_hq, b_q = params[0], params[8], params[9], params[10]
        W_xz[1, 0] = 100
        b_h[0] = float(np.arctanh(0.5))
        W_hq[0] = torch.tensor([1.0, 2.0, 0.0])
        b_q[2] = 1
        for X, expected in [([0, 0, 0], [0.25, 0.375, 0.4375]),
                            ([0, 1, 0], [0.25, 0.25, 0.375])]:
            outputs, (H,) = gb.gru(gb.to_onehot(torch.tensor([X]), 3),
                                   gb.init_rnn_state(1, 1, CPU), params)
            got = torch.cat(outputs)
            want = torch.tensor([[e, 2 * e, 1.0] for e in expected])
            assert (got - want).abs().max() < 1e-6, (X, got)
            assert abs(H.item() - expected[-1]) < 1e-6


def gru_params_of(model):
    """The weights of an RNNModel(nn.GRU) in the order of get_gru_params,
    the two bias vectors of each gate added up."""
    layer, dense, h = model.rnn, model.dense, model.rnn.hidden_size
    # PyTorch stacks the blocks as reset (r), update (z), candidate (n).
    W_x, W_h = layer.weight_ih_l0, layer.weight_hh_l0
    b = layer.bias_ih_l0 + layer.bias_hh_l0
    block = {name: slice(k * h, (k + 1) * h)
             for k, name in enumerate(['r', 'z', 'n'])}
    params = []
    for name in ['z', 'r', 'n']:
        params += [W_x[block[name]].T, W_h[block[name]].T, b[block[name]]]
    return params + [dense.weight.T, dense.bias]


def small_gru_model(seed, vocab_size=5, h=8):
    torch.manual_seed(seed)
    model = gb.RNNModel(torch.nn.GRU(vocab_size, h), vocab_size)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 1.0)
    return model


def test_torch_nn_gru_applies_the_reset_gate_after_the_product():
    # PyTorch's candidate, written out: tanh(X W_xh + b_xh + R * (H W_hh +
    # b_hh)); the gates and the update of H as in gb.gru.
    model = small_gru_model(0)
    layer, h = model.rnn, 8
    X = torch.tensor([[0, 1, 2, 3], [4, 3, 2, 1]])
    with torch.no_grad():
        output, H_layer = model(X, model.begin_state(2, CPU))
        W_x, W_h = layer.weight_ih_l0.T, layer.weight_hh_l0.T
        b_x, b_h = layer.bias_ih_l0, layer.bias_hh_l0
        H = torch.zeros((2, h))
        outputs = []
        for X_t in gb.to_onehot(X, 5):
            x_r, x_z, x_n = (X_t @ W_x + b_x).split(h, dim=1)
            h_r, h_z, h_n = (H @ W_h + b_h).split(h, dim=1)
            R, Z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
            H = Z * H + (1 - Z) * torch.tanh(x_n + R * h_n)
            outputs.append(model.dense(H))
    assert output.abs().max() > 1
    assert (torch.cat(outputs) - output).abs().max() < 1e-5
    assert (H - H_layer[0]).abs().max() < 1e-5


def test_torch_scratch_gru_is_nn_gru_only_with_the_reset_gate_open():
    # nn.GRU's weights copied into gb.gru: different scores, because the
    # reset gate sits elsewhere. Forced open (R = 1) the two formulas are
    # the same, and so are the scores: nothing else differs.
    model = small_gru_model(1)
    X = torch.tensor([[0, 1, 2, 3], [4, 3, 2, 1]])

    def max_difference():
        with torch.no_grad():
            output, _ = model(X, model.begin_state(2, CPU))
            outputs, _ = gb.gru(gb.to_onehot(X, 5),
                                gb.init_rnn_state(2, 8, CPU),
                                gru_params_of(model))
        return (torch.cat(outputs) - output).abs().max().item()

    assert max_difference() > 1e-2
    with torch.no_grad():
        model.rnn.bias_ih_l0[:8] = 100  # the reset gate's bias
    assert max_difference() < 1e-5
    # Two bias vectors per block: 3 * h parameters more.
    assert sum(p.numel() for p in model.parameters()) == sum(
        p.numel() for p in gru_params_of(model)) + 3 * 8


def test_torch_scratch_gru_drops_units_only_while_recording():
    torch.manual_seed(0)
    d, h = 27, 16
    params = gb.get_gru_params(d, h, CPU)
    with torch.no_grad():
        for p in params:
            p.normal_(0, 0.5)
    inputs = gb.to_onehot(torch.tensor([[0, 1, 2]]), d)
    state = gb.init_rnn_state(1, h, CPU)
    plain, (H_plain,) = gb.gru(inputs, state, params)
    with torch.no_grad():  # evaluation and prediction
        evaluated, _ = gb.gru(inputs, state, params, dropout=0.5)
    assert all(torch.equal(a, b) for a, b in zip(plain, evaluated))
    trained, (H,) = gb.gru(inputs, state, params, dropout=0.5)
    assert (plain[-1] - trained[-1]).abs().max() > 0
    # Dropout acts on the way to the output layer, not on the state.
    assert torch.equal(H, H_plain)
    # A unit is zero or scaled by 1 / (1 - dropout) in the output layer's
    # input: the dropped scores are those of a masked, rescaled H.
    W_hq, b_q = params[9], params[10]
    torch.manual_seed(3)
    trained, (H,) = gb.gru(inputs[:1], state, params, dropout=0.5)
    torch.manual_seed(3)
    mask = torch.nn.functional.dropout(torch.ones_like(H), 0.5, True)
    assert set(mask.flatten().tolist()) <= {0.0, 2.0}
    assert (trained[0] - ((H * mask) @ W_hq + b_q)).abs().max() < 1e-5
    with pytest.raises(ValueError, match='dropout probability'):
        gb.gru(inputs, state, params, dropout=1.5)


def test_torch_scratch_gru_trains_with_adam():
    corpus, char_to_idx, idx_to_char, vocab_size = gb.load_data_time_machine()
    gb.set_seed(0)
    history = gb.train_and_predict_rnn(
        lambda inputs, state, params: gb.gru(inputs, state, params, 0.3),
        lambda: gb.get_gru_params(vocab_size, 16, CPU), gb.init_rnn_state,
        16, vocab_size, CPU, corpus[:6000], idx_to_char, char_to_idx,
        is_random_iter=False, num_epochs=2, num_steps=10, lr=0.01,
        clipping_theta=1, batch_size=8, pred_period=5, pred_len=10,
        prefixes=['the'], optimizer='adam')
    assert history['num_params'] == 3 * (27 * 16 + 16 * 16 + 16) + 16 * 27 + 27
    assert (history['optimizer'], history['lr']) == ('adam', 0.01)
    # Adam at 0.01 learns something in two epochs of 6000 characters.
    assert history['train'][-1] < 20


def test_export_lstm_js_writes_the_layers_arrays(tmp_path):
    from torch import nn
    model = gb.RNNModel(nn.LSTM(5, 3), 5)
    path = str(tmp_path / 'tiny.js')
    gb.export_lstm_js(model, list('abcde'), path)
    arrays, vocab = gb.read_weights_js(path)
    assert vocab == list('abcde')
    assert {k: v.shape for k, v in arrays.items()} == {
        'W_ih': (12, 5), 'W_hh': (12, 3), 'b_ih': (12,), 'b_hh': (12,),
        'W_out': (5, 3), 'b_out': (5,)}
    assert np.array_equal(arrays['b_hh'],
                          model.rnn.bias_hh_l0.detach().numpy())
    assert np.array_equal(arrays['W_out'], model.dense.weight.detach().numpy())
    with pytest.raises(ValueError, match='one unidirectional LSTM'):
        gb.export_lstm_js(gb.RNNModel(nn.LSTM(5, 3, bidirectional=True), 5),
                          list('abcde'), path)
    with pytest.raises(ValueError, match='one unidirectional LSTM'):
        gb.export_lstm_js(gb.RNNModel(nn.GRU(5, 3), 5), list('abcde'), path)
