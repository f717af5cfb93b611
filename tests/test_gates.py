"""What gru and lstm say about gates, checked in each tab: the control RNN
trained like the gated models, the gradient's decay with the distance,
and the gates' values on the validation text (the text's relations and
its glued numbers against the printed outputs); and that gate_values
reads the gate the layer computes (for MXNet and PyTorch here; the JAX
tab's helpers are checked in tests/env_jax/test_gru.py, in .venv-jax)."""
import numpy as np
import pytest

import outputs
from outputs import numbers_after, output

GRU, LSTM = 'chapter_rnn/gru', 'chapter_rnn/lstm'
LAYER = {'mxnet': 'gluon', 'pytorch': 'pytorch', 'jax': 'jax'}
TABS = pytest.mark.parametrize('tab', outputs.TABS)


def summary(section, tab, label):
    """(best val, epoch, epochs, train, params) that print_summary printed
    for label."""
    best, epoch, epochs, train, params = numbers_after(
        output(section, 'gb.print_summary(', tab), label + ':')
    return best, int(epoch), int(epochs), train, int(params)


def grad_table(section, tab):
    """{model: {k: norm}} and {model: shrink per step}, as printed."""
    text = output(section, "print('%4s' % 'k'", tab)
    lines = text.strip('\n').split('\n')
    names = [n.strip() for n in outputs.re.findall(r'.{12}', lines[0][4:])]
    table = {name: {} for name in names}
    for line in lines[1:]:
        if line.startswith('shrink per step:'):
            break
        k, *values = line.split()
        for name, value in zip(names, values):
            table[name][int(k)] = float(value)
    shrink = {name: float(value) for name, value in outputs.re.findall(
        r' (RNN \(tanh\)|GRU|LSTM) ([\d.]+)',
        text.split('shrink per step:')[1].split('\n')[0])}
    assert set(shrink) == set(names), text
    return table, shrink


@TABS
def test_gated_models_beat_the_control_trained_alike(tab, measured):
    # gru: "The control RNN, trained with the same optimizer, learning
    # rate, dropout and number of epochs, got no lower than
    # <control_best>"; lstm: "below ... the <control_best> of the tanh RNN
    # of sec_gru".
    layer = LAYER[tab]
    gru = summary(GRU, tab, f'GRU, {layer}')
    control = summary(GRU, tab, f'RNN (tanh), {layer}')
    lstm = summary(LSTM, tab, 'LSTM, ' + layer)
    measured(gru_best=gru[0], lstm_best=lstm[0], control_best=control[0])
    assert gru[2] == control[2] == lstm[2] == 8
    assert outputs.glued(GRU, 'control_best', tab) == '%.2f' % control[0]
    assert outputs.glued(LSTM, 'control_best', tab) == '%.2f' % control[0]
    assert outputs.glued(GRU, 'best', tab) == '%.2f' % gru[0]
    assert gru[0] < control[0] and lstm[0] < control[0]
    # gru: "the ReLU RNN of sec_rnn_gluon ... reached <relu_best> in its 20
    # epochs, better than the control and still not as well as the GRU."
    relu = min(outputs.saved_history(f'rnn-{layer}', tab)['val'])
    measured(relu_best=relu)
    assert outputs.glued(GRU, 'relu_best', tab) == '%.2f' % relu
    assert gru[0] < relu < control[0]
    # Same size class: a tanh RNN has the ReLU RNN's parameters.
    assert gru[4] > control[4]


@TABS
def test_gradients_shrink_more_slowly_through_gates(tab, measured):
    # gru: "Both gradients shrink geometrically with the distance ... the
    # RNN's gradient is multiplied by about <shrink_rnn> and the GRU's by
    # <shrink_gru> ... 50 steps back, the GRU's gradient is <far> times
    # the RNN's"; lstm: "by a factor of <shrink_lstm> per step against the
    # control RNN's <shrink_rnn>: more slowly, but it still vanishes".
    table, shrink = grad_table(GRU, tab)
    rnn, gru = table['RNN (tanh)'], table['GRU']
    far = gru[50] / rnn[50]
    measured(shrink_rnn=shrink['RNN (tanh)'], shrink_gru=shrink['GRU'],
             far=far)
    for name, g in table.items():
        # geometric: every printed row smaller than the one before it
        assert [g[k] for k in sorted(g)] == sorted(g.values(),
                                                   reverse=True), name
        assert abs((g[50] / g[10]) ** (1 / 40) - shrink[name]) < 0.006
        assert shrink[name] < 0.95, (name, shrink)
    assert shrink['RNN (tanh)'] < shrink['GRU']
    assert outputs.glued(GRU, 'shrink_rnn', tab) == '%.2f' % shrink[
        'RNN (tanh)']
    assert outputs.glued(GRU, 'shrink_gru', tab) == '%.2f' % shrink['GRU']
    # the printed norms have 3 digits: far within rounding of them
    assert abs(float(outputs.glued(GRU, 'far', tab)) - far) < 0.02 * far + 1
    assert far > 1
    lstm_table, lstm_shrink = grad_table(LSTM, tab)
    measured(shrink_lstm=lstm_shrink['LSTM'])
    # lstm reads the norms that gru saved
    assert lstm_table['RNN (tanh)'] == rnn and lstm_table['GRU'] == gru
    assert lstm_shrink['RNN (tanh)'] < lstm_shrink['LSTM'] < 0.95
    assert outputs.glued(LSTM, 'shrink_lstm', tab) == '%.2f' % lstm_shrink[
        'LSTM']


@TABS
def test_gates_on_the_validation_text(tab, measured):
    # gru: "the mean of Z_t is <z_mean>, far from 1, but <z_keep> of the
    # values are above 0.9"; lstm: "The forget gate is far from the
    # constant 1 ...: its mean over the validation text is <f_mean>, and
    # <f_keep> of its values are above 0.9."
    for section, gate, name in ((GRU, 'update gate', 'z'),
                                (LSTM, 'forget gate', 'f')):
        m = outputs.re.search(
            gate + r': mean ([\d.]+), above 0\.9: ([\d.]+)%, below 0\.1: '
            r'([\d.]+)%', output(section, 'gate: mean', tab))
        mean, above, below = (float(x) for x in m.groups())
        measured(**{f'{name}_mean': mean, f'{name}_above_0.9': above})
        assert outputs.glued(section, f'{name}_mean', tab) == '%.2f' % mean
        assert outputs.glued(section, f'{name}_keep', tab) == \
            '%.1f%%' % above
        assert 0 < above and above + below <= 100
        assert mean < 0.7, (section, mean)


def gru_from_gates(z, r, X, H_prev, W_x, W_h, b_x, b_h, h):
    """The layer's next states, from the gates gate_values returned and
    the candidate of the libraries' variant (reset after the product)."""
    n = np.tanh(X @ W_x[2 * h:].T + b_x[2 * h:]
                + r * (H_prev @ W_h[2 * h:].T + b_h[2 * h:]))
    return (1 - z) * n + z * H_prev


def test_gate_values_are_the_mxnet_layers_gates():
    import gluonbook as gb
    from mxnet import nd
    from mxnet.gluon import rnn
    gb.set_seed(0)
    corpus, _, _, vocab_size = gb.load_data_time_machine()
    ctx, h = gb.try_gpu(), 16
    model = gb.RNNModel(rnn.GRU(h), vocab_size)
    model.initialize(ctx=ctx)
    layer = model.rnn
    windows = gb.val_windows(corpus, 20, ctx)
    X = nd.one_hot(windows[:, :-1].T, vocab_size)
    layer(X, model.begin_state(batch_size=X.shape[1], ctx=ctx))  # shapes
    for p in layer.collect_params().values():  # gates far from 0.5
        p.set_data(nd.random.normal(scale=0.5, shape=p.shape))
    Y, _ = layer(X, model.begin_state(batch_size=X.shape[1], ctx=ctx))
    Y = Y.asnumpy()
    H_prev = np.concatenate([np.zeros_like(Y[:1]), Y[:-1]])
    z, r = (gb.gate_values(model, corpus, vocab_size, ctx, block,
                           num_steps=20).reshape(Y.shape)
            for block in (1, 0))
    W_x, W_h, b_x, b_h = (p.data().asnumpy() for p in (
        layer.l0_i2h_weight, layer.l0_h2h_weight, layer.l0_i2h_bias,
        layer.l0_h2h_bias))
    H = gru_from_gates(z, r, X.asnumpy(), H_prev, W_x, W_h, b_x, b_h, h)
    assert np.abs(H - Y).max() < 1e-5
    assert z.std() > 0.1  # not a constant that would pass anyway


def test_gate_values_are_the_pytorch_layers_gates():
    from gluonbook import torch as gb
    import torch
    from torch import nn
    gb.set_seed(0)
    corpus, _, _, vocab_size = gb.load_data_time_machine()
    device, h = gb.try_gpu(), 16
    model = gb.RNNModel(nn.GRU(vocab_size, h), vocab_size)
    with torch.no_grad():
        for p in model.rnn.parameters():
            p.normal_(0, 0.5)
        windows = gb.val_windows(corpus, 20, device)
        X = nn.functional.one_hot(windows[:, :-1].T, vocab_size).float()
        Y, _ = model.rnn(X, model.begin_state(X.shape[1], device))
    Y = Y.numpy()
    H_prev = np.concatenate([np.zeros_like(Y[:1]), Y[:-1]])
    z, r = (gb.gate_values(model, corpus, vocab_size, device, block,
                           num_steps=20).reshape(Y.shape)
            for block in (1, 0))
    layer = model.rnn
    W_x, W_h, b_x, b_h = (p.detach().numpy() for p in (
        layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0,
        layer.bias_hh_l0))
    H = gru_from_gates(z, r, X.numpy(), H_prev, W_x, W_h, b_x, b_h, h)
    assert np.abs(H - Y).max() < 1e-5
    assert z.std() > 0.1


@pytest.mark.parametrize('tab', outputs.TABS)
def test_input_grad_norms_measure_the_last_steps_loss(tab):
    # An RNN with zero recurrent weights carries nothing from one step to
    # the next: the last step's loss depends on its own input only.
    if tab == 'jax':  # .venv has no jax: tests/env_jax/test_gru.py has it
        pytest.skip('checked in .venv-jax by tests/env_jax/test_gru.py')
    if tab == 'mxnet':
        import gluonbook as gb
        from mxnet import nd
        from mxnet.gluon import rnn
        corpus, _, _, vocab_size = gb.load_data_time_machine()
        ctx = gb.try_gpu()
        model = gb.RNNModel(rnn.RNN(8, activation='tanh'), vocab_size)
        model.initialize(ctx=ctx)
        model.rnn.l0_h2h_weight.set_data(nd.zeros((8, 8)))
        g = gb.input_grad_norms(model, corpus, vocab_size, ctx, num_steps=5)
    else:
        from gluonbook import torch as gb
        import torch
        from torch import nn
        corpus, _, _, vocab_size = gb.load_data_time_machine()
        device = gb.try_gpu()
        model = gb.RNNModel(nn.RNN(vocab_size, 8), vocab_size)
        with torch.no_grad():
            model.rnn.weight_hh_l0.zero_()
        g = gb.input_grad_norms(model, corpus, vocab_size, device,
                                num_steps=5)
    assert g.shape == (5,)
    assert g[0] > 0 and np.all(g[1:] == 0), g
