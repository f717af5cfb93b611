"""The gluonbook library on toy inputs whose answers are known exactly."""
import os
import random
import shutil

import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd, nd
from mxnet.gluon import nn, rnn

import decoding_checks
import gluonbook as gb

CTX = mx.cpu()


def batches(data_iter):
    return [(X.asnumpy().astype(int).tolist(),
             Y.asnumpy().astype(int).tolist()) for X, Y in data_iter]


# --- data -------------------------------------------------------------------

def test_corpus_is_the_cleaned_book():
    corpus, char_to_idx, idx_to_char, vocab_size = gb.load_data_time_machine()
    assert len(corpus) == 173427
    assert vocab_size == 27
    assert idx_to_char == list(' abcdefghijklmnopqrstuvwxyz')
    assert all(char_to_idx[c] == i for i, c in enumerate(idx_to_char))
    text = ''.join(idx_to_char[i] for i in corpus[:24])
    assert text == 'the time machine by h g '


def test_data_is_found_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert len(gb.read_time_machine()) == 178979


def test_hash_check_accepts_an_exact_copy(tmp_path):
    copy = tmp_path / 'timemachine.txt'
    shutil.copyfile(os.path.join(gb.DATA_DIR, 'timemachine.txt'), copy)
    assert gb.read_time_machine(str(copy)).startswith('The Time Machine')


def test_altered_data_file_is_named(tmp_path):
    altered = tmp_path / 'timemachine.txt'
    text = open(os.path.join(gb.DATA_DIR, 'timemachine.txt')).read()
    altered.write_text(text.replace('Time Traveller', 'Time Travellor', 1))
    with pytest.raises(ValueError) as e:
        gb.read_time_machine(str(altered))
    assert str(altered) in str(e.value)
    assert gb.TIME_MACHINE_SHA1 in str(e.value)


def test_missing_data_file_is_named(tmp_path):
    missing = tmp_path / 'nowhere.txt'
    with pytest.raises(FileNotFoundError) as e:
        gb.load_data_time_machine(str(missing))
    assert str(missing) in str(e.value)


def test_clean_text():
    assert gb.clean_text("'Is it -- 42 Times?'\n") == 'is it times'


def test_train_val_split_keeps_the_tail():
    train, val = gb.train_val_split(list(range(100)))
    assert train == list(range(90)) and val == list(range(90, 100))
    with pytest.raises(ValueError, match='val_fraction'):
        gb.train_val_split(list(range(10)), val_fraction=1.5)


# --- iterators --------------------------------------------------------------

def test_random_iter_covers_every_window_once():
    random.seed(0)
    got = batches(gb.data_iter_random(list(range(30)), 2, 6))
    assert len(got) == 2  # (30 - 1) // 6 = 4 windows, 2 per minibatch
    rows = [row for X, _ in got for row in X]
    # Windows start at 0, 6, 12, 18 and together cover positions 0..23.
    assert sorted(rows) == [list(range(s, s + 6)) for s in (0, 6, 12, 18)]
    for X, Y in got:
        assert [[x + 1 for x in row] for row in X] == Y


def test_random_iter_drops_the_incomplete_minibatch():
    random.seed(1)
    got = batches(gb.data_iter_random(list(range(40)), 4, 6))
    # 39 // 6 = 6 windows make one minibatch of 4; two windows are left out.
    assert len(got) == 1
    X, _ = got[0]
    assert len({row[0] for row in X}) == 4
    assert all(row[0] % 6 == 0 and row == list(range(row[0], row[0] + 6))
               for row in X)


def test_random_iter_shapes_and_order_change_with_seed():
    corpus = list(range(1001))  # 200 windows of 5, 50 minibatches of 4
    random.seed(0)
    first = batches(gb.data_iter_random(corpus, 4, 5))
    random.seed(1)
    second = batches(gb.data_iter_random(corpus, 4, 5))
    assert len(first) == 50
    assert all(nd.array(X).shape == (4, 5) for X, _ in first)
    assert first != second
    assert sorted(r for X, _ in first for r in X) == sorted(
        r for X, _ in second for r in X)


def test_consecutive_iter_matches_the_documented_layout():
    got = batches(gb.data_iter_consecutive(list(range(30)), 2, 6))
    assert got == [
        ([[0, 1, 2, 3, 4, 5], [15, 16, 17, 18, 19, 20]],
         [[1, 2, 3, 4, 5, 6], [16, 17, 18, 19, 20, 21]]),
        ([[6, 7, 8, 9, 10, 11], [21, 22, 23, 24, 25, 26]],
         [[7, 8, 9, 10, 11, 12], [22, 23, 24, 25, 26, 27]]),
    ]


def test_consecutive_rows_continue_across_minibatches():
    got = batches(gb.data_iter_consecutive(list(range(1000)), 4, 7))
    assert len(got) == (1000 // 4 - 1) // 7
    for (X1, _), (X2, _) in zip(got, got[1:]):
        assert all(r2[0] == r1[-1] + 1 for r1, r2 in zip(X1, X2))


@pytest.mark.parametrize('data_iter_fn, sampler, needed', [
    (gb.data_iter_random, 'random', 4 * 8 + 1),
    (gb.data_iter_consecutive, 'consecutive', 4 * (8 + 1))])
def test_corpus_too_short_for_one_minibatch_is_an_error(data_iter_fn,
                                                        sampler, needed):
    with pytest.raises(ValueError) as e:
        next(data_iter_fn(list(range(30)), 4, 8))
    message = str(e.value)
    assert '30 tokens' in message and 'batch_size=4' in message
    assert 'num_steps=8' in message
    assert f'{sampler} sampling needs at least {needed} tokens' in message


@pytest.mark.parametrize('data_iter_fn, is_random_iter', [
    (gb.data_iter_random, True), (gb.data_iter_consecutive, False)])
def test_each_sampler_needs_exactly_the_tokens_it_checks_for(
        data_iter_fn, is_random_iter):
    # Random sampling: batch_size windows of num_steps, and one more token
    # for the last label. Consecutive: batch_size streams of num_steps + 1.
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
        gb.check_corpus_size(needed, batch_size, num_steps,
                             is_random_iter=is_random_iter)


def test_check_corpus_size_defaults_to_the_consecutive_sampler():
    # Old calls without is_random_iter (the validation checks of the
    # training functions, whose eval_perplexity reads consecutively).
    gb.check_corpus_size(36, 4, 8)
    with pytest.raises(ValueError, match='consecutive sampling needs at '
                                         'least 36 tokens'):
        gb.check_corpus_size(35, 4, 8)
    gb.check_corpus_size(33, 4, 8, is_random_iter=True)


# --- clipping and SGD -------------------------------------------------------

def make_params(*grads):
    params = [nd.zeros(len(g)) for g in grads]
    for p, g in zip(params, grads):
        p.attach_grad()
        p.grad[:] = nd.array(g)
    return params


def test_clipping_scales_to_theta():
    params = make_params([3, 0], [0, 4])
    gb.grad_clipping(params, 1, CTX)
    assert params[0].grad.asnumpy().tolist() == pytest.approx([0.6, 0])
    assert params[1].grad.asnumpy().tolist() == pytest.approx([0, 0.8])


def test_clipping_leaves_small_gradients_untouched():
    params = make_params([0.3, 0], [0, 0.4])
    gb.grad_clipping(params, 1, CTX)
    assert params[0].grad.asnumpy().tolist() == pytest.approx([0.3, 0])
    assert params[1].grad.asnumpy().tolist() == pytest.approx([0, 0.4])


def test_clipping_matches_numpy_on_model_shaped_gradients():
    # The shapes of the book's RNN parameters; the joint norm is well
    # above theta, so every gradient is scaled by the same factor.
    rng = np.random.RandomState(0)
    shapes = [(27, 256), (256, 256), (256,), (256, 27), (27,)]
    grads = [rng.normal(size=shape).astype(np.float32) for shape in shapes]
    params = []
    for g in grads:
        param = nd.zeros(g.shape)
        param.attach_grad()
        param.grad[:] = nd.array(g)
        params.append(param)
    theta = 2.5
    gb.grad_clipping(params, theta, CTX)
    norm = np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads))
    assert norm > 100 * theta
    for param, g in zip(params, grads):
        np.testing.assert_allclose(param.grad.asnumpy(), g * theta / norm,
                                   rtol=1e-5, atol=1e-7)
    clipped = np.sqrt(sum((p.grad.asnumpy().astype(np.float64) ** 2).sum()
                          for p in params))
    assert clipped == pytest.approx(theta, rel=1e-5)


def test_sgd_step():
    (param,) = make_params([1, -2])
    param[:] = nd.array([10, 10])
    gb.sgd([param], lr=0.5, batch_size=2)
    assert param.asnumpy().tolist() == [9.75, 10.5]


# --- prediction -------------------------------------------------------------

VOCAB, CHAR_TO_IDX = decoding_checks.VOCAB, decoding_checks.CHAR_TO_IDX


def next_char_rnn(inputs, state, params):
    """A stand-in RNN that always predicts the character after its input."""
    outputs = [nd.one_hot((X.argmax(axis=1) + 1) % len(VOCAB), len(VOCAB))
               for X in inputs]
    return outputs, state


class NextCharModel(nn.Block):
    """The same stand-in, with the RNNModel interface."""
    def forward(self, inputs, state):
        return nd.one_hot((inputs.T.reshape((-1,)) + 1) % len(VOCAB),
                          len(VOCAB)), state

    def begin_state(self, batch_size, ctx):
        return [nd.zeros((1, batch_size, 1), ctx=ctx)]


def predict_scratch(prefix, num_chars):
    return gb.predict_rnn(prefix, num_chars, next_char_rnn, None,
                          gb.init_rnn_state, 4, len(VOCAB), CTX, VOCAB,
                          CHAR_TO_IDX)


def predict_gluon(prefix, num_chars):
    return gb.predict_rnn_gluon(prefix, num_chars, NextCharModel(),
                                len(VOCAB), CTX, VOCAB, CHAR_TO_IDX)


@pytest.mark.parametrize('predict', [predict_scratch, predict_gluon])
def test_prediction_continues_the_prefix(predict):
    # The prefix is kept as given (not predicted), then the model takes over.
    assert predict('da', 4) == 'dabcde'
    assert predict('e', 3) == 'eabc'
    assert predict('ca', 0) == 'ca'


@pytest.mark.parametrize('predict', [predict_scratch, predict_gluon])
def test_bad_prefix_is_named(predict):
    with pytest.raises(ValueError, match="'x'"):
        predict('abx', 3)
    with pytest.raises(ValueError, match='empty'):
        predict('', 3)
    with pytest.raises(ValueError, match='num_chars'):
        predict('ab', -1)


# --- model shapes and perplexity --------------------------------------------

def test_scratch_rnn_shapes():
    params = gb.get_rnn_params(27, 8, CTX)
    X = nd.arange(10).reshape((2, 5))
    outputs, (H,) = gb.rnn(gb.to_onehot(X, 27), gb.init_rnn_state(2, 8, CTX),
                           params)
    assert len(outputs) == 5 and outputs[0].shape == (2, 27)
    assert H.shape == (2, 8)


@pytest.mark.parametrize('num_steps', [1, 7])
def test_input_at_once_computes_and_differentiates_like_rnn(num_steps):
    # num_steps=1 is prediction, where nd.split returns an array, not a list
    vocab_size, num_hiddens = 27, 16
    mx.random.seed(3)
    X = nd.random.randint(0, vocab_size, (4, num_steps)).astype('float32')
    results = []
    for rnn_fn in (gb.rnn, gb.rnn_input_at_once):
        mx.random.seed(4)
        params = gb.get_rnn_params(vocab_size, num_hiddens, CTX)
        params[1][:] = nd.random.normal(scale=0.3, shape=params[1].shape)
        with autograd.record():
            outputs, (H,) = rnn_fn(gb.to_onehot(X, vocab_size),
                                   gb.init_rnn_state(4, num_hiddens, CTX),
                                   params)
            loss = (nd.concat(*outputs, dim=0) ** 2).sum() + H.sum()
        loss.backward()
        results.append((outputs, H, [p.grad.copy() for p in params]))
    (out1, H1, g1), (out2, H2, g2) = results
    assert len(out1) == len(out2) == num_steps
    for a, b in zip(out1 + [H1] + g1, out2 + [H2] + g2):
        assert a.shape == b.shape
        np.testing.assert_allclose(a.asnumpy(), b.asnumpy(), rtol=1e-4,
                                   atol=1e-5)
    if num_steps > 1:  # from the zero state, W_hh matters from step 2 on
        assert float(nd.abs(g1[1]).sum().asscalar()) > 0


def test_uniform_model_has_perplexity_vocab_size():
    def uniform(X, state):
        return nd.zeros((X.size, 27)), state

    ppl = gb.eval_perplexity(uniform, lambda b: None, list(range(27)) * 40,
                             4, 5, CTX)
    assert ppl == pytest.approx(27, rel=1e-5)


def test_check_finite():
    gb.check_finite(3.0, 0, 1)
    with pytest.raises(FloatingPointError, match='epoch 2'):
        gb.check_finite(float('nan'), 1, 1e9)
    # Finite, but exp() of it would overflow: no perplexity either.
    with pytest.raises(FloatingPointError, match='learning rate 0.005'):
        gb.check_finite(1e4, 0, 0.005)


def test_scratch_rnn_computes_what_gluon_rnn_computes():
    vocab_size, num_hiddens = 5, 8
    model = gb.RNNModel(rnn.RNN(num_hiddens), vocab_size)
    model.initialize(init=mx.init.Normal(0.5))
    X = nd.array([[0, 1, 2], [3, 4, 0]])
    output, (H,) = model(X, model.begin_state(batch_size=2))
    p = {name.split('_', 1)[1]: param.data()
         for name, param in model.collect_params().items()}
    params = [p['l0_i2h_weight'].T, p['l0_h2h_weight'].T,
              p['l0_i2h_bias'] + p['l0_h2h_bias'], p['weight'].T, p['bias']]
    outputs, (H_scratch,) = gb.rnn(gb.to_onehot(X, vocab_size),
                                   gb.init_rnn_state(2, num_hiddens, CTX),
                                   params)
    assert (nd.concat(*outputs, dim=0) - output).abs().max() < 1e-5
    assert (H_scratch - H[0]).abs().max() < 1e-5


def test_training_that_diverges_stops_with_a_clear_error():
    corpus, char_to_idx, idx_to_char, vocab_size = gb.load_data_time_machine()
    model = gb.RNNModel(rnn.RNN(32), vocab_size)
    with pytest.raises(FloatingPointError, match='learning rate 1000000000'):
        gb.train_and_predict_rnn_gluon(
            model, 32, vocab_size, CTX, corpus[:6000], idx_to_char,
            char_to_idx, num_epochs=5, num_steps=10, lr=1e9,
            clipping_theta=1, batch_size=8, pred_period=1, pred_len=10,
            prefixes=['the'])


def test_training_on_a_too_short_corpus_fails_before_training():
    corpus, char_to_idx, idx_to_char, vocab_size = gb.load_data_time_machine()
    with pytest.raises(ValueError, match='too short'):
        gb.train_and_predict_rnn(
            gb.rnn, lambda: gb.get_rnn_params(vocab_size, 8, CTX),
            gb.init_rnn_state, 8, vocab_size, CTX, corpus[:500],
            idx_to_char, char_to_idx, is_random_iter=True, num_epochs=1,
            num_steps=35, lr=1, clipping_theta=1, batch_size=32,
            pred_period=1, pred_len=10, prefixes=['the'])


def test_perplexity_plot_records_without_drawing_outside_jupyter(capsys):
    plot = gb.PerplexityPlot(num_epochs=2)
    plot.add(1, 9.0, 9.5)
    plot.add(2, 6.0, 7.0)
    assert plot.history == ([1, 2], [9.0, 6.0], [9.5, 7.0])
    assert plot.handle is None and capsys.readouterr().out == ''


def gluon_params(model):
    return {name.split('_', 1)[1]: param.data()
            for name, param in model.collect_params().items()}


def test_scratch_lstm_computes_what_gluon_lstm_computes():
    vocab_size, h = 5, 8
    model = gb.RNNModel(rnn.LSTM(h), vocab_size)
    model.initialize(init=mx.init.Normal(0.5))
    X = nd.array([[0, 1, 2], [3, 4, 0]])
    output, (H, C) = model(X, model.begin_state(batch_size=2))
    p = gluon_params(model)
    # MXNet stacks the gates as input, forget, candidate (g), output.
    W_x, W_h = p['l0_i2h_weight'], p['l0_h2h_weight']
    b = p['l0_i2h_bias'] + p['l0_h2h_bias']
    gate = {name: slice(k * h, (k + 1) * h)
            for k, name in enumerate(['i', 'f', 'c', 'o'])}
    params = []
    for name in ['i', 'f', 'o', 'c']:  # the order of get_lstm_params
        params += [W_x[gate[name]].T, W_h[gate[name]].T, b[gate[name]]]
    params += [p['weight'].T, p['bias']]
    outputs, (H_scratch, C_scratch) = gb.lstm(
        gb.to_onehot(X, vocab_size), gb.init_lstm_state(2, h, CTX), params)
    assert (nd.concat(*outputs, dim=0) - output).abs().max() < 1e-5
    assert (H_scratch - H[0]).abs().max() < 1e-5
    assert (C_scratch - C[0]).abs().max() < 1e-5


def test_gated_models_have_the_documented_parameters():
    d, h = 27, 16
    gru_params = gb.get_gru_params(d, h, CTX)
    lstm_params = gb.get_lstm_params(d, h, CTX)
    per_gate = d * h + h * h + h
    assert sum(p.size for p in gru_params) == 3 * per_gate + h * d + d
    assert sum(p.size for p in lstm_params) == 4 * per_gate + h * d + d
    X = nd.array([[0, 1, 2], [3, 4, 0]])
    outputs, (H,) = gb.gru(gb.to_onehot(X, d), gb.init_rnn_state(2, h, CTX),
                           gru_params)
    assert len(outputs) == 3 and outputs[0].shape == (2, d)
    assert H.shape == (2, h)


def test_dropout_is_active_in_training_only():
    d, h = 27, 16
    params = gb.get_gru_params(d, h, CTX)
    inputs = gb.to_onehot(nd.array([[0, 1, 2]]), d)
    state = gb.init_rnn_state(1, h, CTX)
    plain, _ = gb.gru(inputs, state, params)
    evaluated, _ = gb.gru(inputs, state, params, dropout=0.5)
    assert (plain[-1] - evaluated[-1]).abs().max() == 0
    with mx.autograd.record():
        trained, _ = gb.gru(inputs, state, params, dropout=0.5)
    assert (plain[-1] - trained[-1]).abs().max() > 0
    model = gb.RNNModel(rnn.GRU(h), d, dropout=0.5)
    model.initialize()
    X = nd.array([[0, 1, 2]])
    out1, _ = model(X, model.begin_state(batch_size=1))
    out2, _ = model(X, model.begin_state(batch_size=1))
    assert (out1 - out2).abs().max() == 0


def test_both_trainers_accept_adam_and_record_speed():
    corpus, char_to_idx, idx_to_char, vocab_size = gb.load_data_time_machine()
    kwargs = dict(corpus_indices=corpus[:6000], idx_to_char=idx_to_char,
                  char_to_idx=char_to_idx, num_epochs=2, num_steps=10,
                  lr=0.01, clipping_theta=1, batch_size=8, pred_period=5,
                  pred_len=10, prefixes=['the'], optimizer='adam')
    scratch = gb.train_and_predict_rnn(
        gb.gru, lambda: gb.get_gru_params(vocab_size, 16, CTX),
        gb.init_rnn_state, 16, vocab_size, CTX, is_random_iter=False,
        **kwargs)
    gluon = gb.train_and_predict_rnn_gluon(
        gb.RNNModel(rnn.LSTM(16), vocab_size), 16, vocab_size, CTX,
        **kwargs)
    for history, num_params in [(scratch, 3 * (27 * 16 + 16 * 16 + 16) +
                                 16 * 27 + 27),
                                (gluon, 4 * (27 * 16 + 16 * 16 + 2 * 16) +
                                 16 * 27 + 27)]:
        assert len(history['val']) == len(history['tokens_per_sec']) == 2
        assert all(t > 0 for t in history['tokens_per_sec'])
        assert history['num_params'] == num_params
        assert (history['optimizer'], history['lr']) == ('adam', 0.01)
        # Adam at 0.01 learns something in two epochs of 6000 characters.
        assert history['train'][-1] < 20


def test_history_round_trip_and_missing_history(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    history = {'train': [9.0, 7.0], 'val': [9.5, 8.0],
               'tokens_per_sec': [1000.0, 1100.0], 'num_params': 42}
    gb.save_history('toy', history)
    assert gb.load_history('toy') == history
    with pytest.raises(FileNotFoundError, match="run the section that "
                                                "trains 'gru-gluon'"):
        gb.load_history('gru-gluon')


def test_print_summary_reports_the_best_epoch(capsys):
    gb.print_summary('toy', {'train': [9.0, 7.0, 6.0], 'val': [9.5, 8.0, 8.5],
                             'tokens_per_sec': [10.0, 30.0, 20.0],
                             'num_params': 42})
    # No speed: an epoch's time depends on what else the machine ran.
    assert capsys.readouterr().out == (
        'toy: best val perplexity 8.00 at epoch 2 of 3, train 7.00; '
        '42 parameters\n')


def test_ngram_counts():
    counts = gb.ngram_counts('abab', 2)
    assert counts == {('a', 'b'): 2, ('b', 'a'): 1}
    assert gb.ngram_counts(['x'], 2) == {}


def test_plot_curves_draws_nothing_outside_jupyter(capsys):
    gb.plot_curves([([1, 2], [3, 4], 'a')], 'x', 'y', yscale='log')
    assert capsys.readouterr().out == ''


def test_set_seed_seeds_all_three_generators(monkeypatch):
    import random
    import numpy as np
    monkeypatch.delenv('RNN_BOOK_SEED', raising=False)
    draws = []
    for _ in range(2):
        gb.set_seed()
        draws.append((random.random(), np.random.rand(),
                      nd.random.uniform().asscalar()))
    assert draws[0] == draws[1]
    monkeypatch.setenv('RNN_BOOK_SEED', '2')
    gb.set_seed()
    other = (random.random(), np.random.rand(), nd.random.uniform().asscalar())
    assert all(a != b for a, b in zip(other, draws[0]))
    gb.set_seed(0)  # an explicit seed wins over the variable
    assert (random.random(), np.random.rand(),
            nd.random.uniform().asscalar()) == draws[0]


@pytest.mark.parametrize('text', ['one', '-1', '1.5', ''])
def test_set_seed_rejects_a_bad_variable(monkeypatch, text):
    monkeypatch.setenv('RNN_BOOK_SEED', text)
    with pytest.raises(ValueError, match=f'RNN_BOOK_SEED must be a whole '
                                         f'number >= 0, not {text!r}'):
        gb.set_seed()


# --- saved parameters and decoding ------------------------------------------

ALPHABET = list(' abcdefghijklmnopqrstuvwxyz')
ALPHABET_TO_IDX = {c: i for i, c in enumerate(ALPHABET)}


def small_lstm(seed):
    """An untrained LSTM with weights large enough to prefer some text."""
    mx.random.seed(seed)
    model = gb.RNNModel(rnn.LSTM(32), len(ALPHABET))
    model.initialize(mx.init.Normal(1.0), ctx=CTX)
    return model


def test_params_round_trip_and_missing_params(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = small_lstm(0)
    X = nd.arange(6).reshape((2, 3))
    expected, _ = model(X, model.begin_state(batch_size=2, ctx=CTX))
    gb.save_params('toy', model)
    assert os.path.exists(os.path.join('results', 'toy.params'))
    copy = gb.RNNModel(rnn.LSTM(32), len(ALPHABET))  # not initialised
    gb.load_params('toy', copy, CTX)
    got, _ = copy(X, copy.begin_state(batch_size=2, ctx=CTX))
    assert (got == expected).min().asscalar() == 1
    with pytest.raises(FileNotFoundError, match="run the section that "
                                                "trains 'lstm-gluon'"):
        gb.load_params('lstm-gluon', copy, CTX)


def test_softmax_with_temperature():
    decoding_checks.check_softmax_with_temperature(gb)


def test_top_k_keeps_the_k_largest_renormalised():
    decoding_checks.check_top_k(gb)


def test_top_p_keeps_the_fewest_largest_reaching_p():
    decoding_checks.check_top_p(gb)


def decode(decoder, prefix, num_chars, **kwargs):
    return decoder(prefix, num_chars, NextCharModel(), len(VOCAB), CTX,
                   VOCAB, CHAR_TO_IDX, **kwargs)


def sample_with_seed_0(prefix, num_chars, **kwargs):
    np.random.seed(0)
    return decode(gb.predict_sample, prefix, num_chars, **kwargs)


def test_sampling_that_keeps_one_character_is_greedy():
    decoding_checks.check_sampling_keeps_one_character_greedy(
        sample_with_seed_0)


def test_sampling_follows_the_model_distribution():
    decoding_checks.check_sampling_follows_the_model_distribution(
        sample_with_seed_0)


def test_sampling_is_repeatable_with_the_seed():
    model = small_lstm(1)
    texts = []
    for seed in (0, 0, 1):
        gb.set_seed(seed)
        texts.append(gb.predict_sample('the ', 40, model, 27, CTX, ALPHABET,
                                       ALPHABET_TO_IDX))
    assert texts[0] == texts[1] != texts[2]


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_beam_search_of_width_one_is_greedy(seed):
    model = small_lstm(seed)
    for prefix in ['t', 'the time ', 'zq']:
        greedy = gb.predict_rnn_gluon(prefix, 60, model, 27, CTX, ALPHABET,
                                      ALPHABET_TO_IDX)
        assert len(set(greedy[len(prefix):])) >= 10  # not a trivial model
        assert gb.predict_beam_search(prefix, 60, model, 27, CTX, ALPHABET,
                                      ALPHABET_TO_IDX, beam_width=1) == greedy
    assert decode(gb.predict_beam_search, 'da', 4, beam_width=1) == 'dabcde'
    assert decode(gb.predict_beam_search, 'ca', 0, beam_width=3) == 'ca'


class TableModel(nn.Block):
    """A stand-in whose next-character probabilities are a fixed table."""
    def __init__(self, table, **kwargs):
        super().__init__(**kwargs)
        self.log_table = nd.log(nd.array(table))

    def forward(self, inputs, state):
        return nd.take(self.log_table, inputs.T.reshape((-1,))), state

    def begin_state(self, batch_size, ctx):
        return [nd.zeros((1, batch_size, 1), ctx=ctx)]


def test_beam_search_finds_the_likelier_text_that_greedy_misses():
    args = (TableModel(decoding_checks.BEAM_TABLE), len(VOCAB), CTX, VOCAB,
            CHAR_TO_IDX)
    assert gb.predict_rnn_gluon('a', 2, *args) == \
        decoding_checks.GREEDY_ON_TABLE
    for prefix, num_chars, beam_width, text in decoding_checks.BEAM_CASES:
        assert gb.predict_beam_search(prefix, num_chars, *args,
                                      beam_width=beam_width) == text


@pytest.mark.parametrize('name,prefix,kwargs,message',
                         decoding_checks.BAD_ARGUMENTS,
                         ids=decoding_checks.BAD_ARGUMENT_IDS)
def test_decoders_name_the_bad_argument(name, prefix, kwargs, message):
    kwargs = dict(kwargs)
    num_chars = kwargs.pop('num_chars', 3)
    with pytest.raises(ValueError, match=message):
        decode(getattr(gb, name), prefix, num_chars, **kwargs)


def test_top_k_and_top_p_decoders_are_the_sampler_with_a_cut():
    model = small_lstm(1)
    for named, kwargs in [(gb.predict_top_k, {'k': 3}),
                          (gb.predict_top_p, {'p': 0.5})]:
        gb.set_seed(4)
        expected = gb.predict_sample('the ', 40, model, 27, CTX, ALPHABET,
                                     ALPHABET_TO_IDX, **kwargs)
        gb.set_seed(4)
        assert named('the ', 40, model, 27, CTX, ALPHABET, ALPHABET_TO_IDX,
                     **kwargs) == expected
    with pytest.raises(ValueError, match='k must be a whole number'):
        gb.predict_top_k('the', 5, model, 27, CTX, ALPHABET,
                         ALPHABET_TO_IDX, k=0)
    with pytest.raises(ValueError, match=r'p must be in \(0, 1\], got 2'):
        gb.predict_top_p('the', 5, model, 27, CTX, ALPHABET,
                         ALPHABET_TO_IDX, p=2)


def test_mxnet_ignores_dropout_between_layers_on_the_cpu():
    # deep-rnn says so: MXNet 1.9.1's fused layer on the CPU returns the
    # same outputs in training mode as in prediction mode, dropout=0.3
    # between its two layers notwithstanding.
    from mxnet import autograd, init
    layer = rnn.LSTM(32, num_layers=2, dropout=0.3)
    layer.initialize(init.Xavier())
    X = nd.one_hot(nd.array([[1, 2, 3, 4]] * 3).T, 27)
    state = layer.begin_state(batch_size=3)
    predicted = layer(X, state)[0]
    with autograd.record():
        trained = layer(X, state)[0]
    assert nd.abs(predicted).max().asscalar() > 1e-3
    assert nd.abs(trained - predicted).max().asscalar() < 1e-6


# --- the playground's weights ----------------------------------------------

def test_weights_script_round_trip(tmp_path):
    # Exact float32 values, shapes and vocabulary come back; the file is
    # a script that adds the model to a global, under the file's name.
    arrays = {'a': np.array([[1.5, -2.0, 3.25]], dtype=np.float32),
              'b': np.array([0.1], dtype=np.float64)}
    path = str(tmp_path / 'toy-model.js')
    gb.write_weights_js(path, arrays, ['x', ' '])
    with open(path) as f:
        text = f.read()
    assert text.startswith('window.RNN_BOOK_MODELS = window.RNN_BOOK_MODELS '
                           '|| {};\nwindow.RNN_BOOK_MODELS["toy-model"] = {')
    read, vocab = gb.read_weights_js(path)
    assert vocab == ['x', ' ']
    assert read['a'].dtype == np.float32 and read['a'].shape == (1, 3)
    assert read['a'].tolist() == [[1.5, -2.0, 3.25]]
    assert read['b'].tolist() == [np.float32(0.1)]


def test_export_lstm_js_writes_the_layers_arrays(tmp_path):
    model = gb.RNNModel(rnn.LSTM(3), 5)
    model.initialize(ctx=CTX)
    model(nd.zeros((1, 2), ctx=CTX), model.begin_state(batch_size=1,
                                                        ctx=CTX))
    path = str(tmp_path / 'tiny.js')
    gb.export_lstm_js(model, list('abcde'), path)
    arrays, vocab = gb.read_weights_js(path)
    assert vocab == list('abcde')
    assert {k: v.shape for k, v in arrays.items()} == {
        'W_ih': (12, 5), 'W_hh': (12, 3), 'b_ih': (12,), 'b_hh': (12,),
        'W_out': (5, 3), 'b_out': (5,)}
    assert np.array_equal(arrays['W_hh'],
                          model.rnn.l0_h2h_weight.data().asnumpy())
    assert np.array_equal(arrays['W_out'], model.dense.weight.data().asnumpy())
    with pytest.raises(ValueError, match='one unidirectional LSTM'):
        gb.export_lstm_js(gb.RNNModel(rnn.LSTM(3, num_layers=2), 5),
                          list('abcde'), path)
    with pytest.raises(ValueError, match='one unidirectional LSTM'):
        gb.export_lstm_js(gb.RNNModel(rnn.GRU(3), 5), list('abcde'), path)
