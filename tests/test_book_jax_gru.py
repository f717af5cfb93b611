"""Claims that only the JAX tab of gru makes, checked on the executed
notebooks (run in .venv; no jax needed). The claims that every tab makes
are in test_book.py and test_gates.py; the helpers themselves, in jax,
in env_jax/test_gru.py."""
import outputs
from outputs import code_sources, numbers_after, output

SECTION = 'chapter_rnn/gru'


def history(name):
    return outputs.saved_history(name, 'jax')


def test_jax_gru_is_trained_as_the_other_tabs_ones():
    # "the same settings": Adam at 0.005, dropout 0.3, clipping at 1,
    # 3 epochs from scratch and 8 with nnx.GRUCell, histories saved for
    # the sections after it; the control's history too, with the norms.
    scratch, concise = history('gru-scratch-jax'), history('gru-jax')
    control = history('rnn-control-jax')
    for h, epochs in [(scratch, 3), (concise, 8), (control, 8)]:
        assert len(h['val']) == len(h['train']) == epochs
        assert (h['optimizer'], h['lr']) == ('adam', 0.005)
    for h in (concise, control):
        assert len(h['input_grad_norms']) == 60
    sources = code_sources(SECTION, 'jax')
    for code in ['num_epochs, num_steps, batch_size, lr, clipping_theta = '
                 '8, 35, 32, 0.005, 1', 'dropout, scratch_epochs = 0.3, 3',
                 'nnx.RNN(nnx.GRUCell(vocab_size, num_hiddens,',
                 'nnx.RNN(nnx.SimpleCell(vocab_size, num_hiddens,',
                 'lax.scan(step, H, inputs)',
                 "gb.save_history('gru-scratch-jax', history_scratch)",
                 "gb.save_history('gru-jax', history_jax)",
                 "gb.save_params('gru-jax', model)"]:
        assert code in sources, code


def test_jax_training_runs_print_their_compile_time_first():
    # "the run prints the time the compilation took before its first
    # epoch"
    for snippet in ('history_scratch = gb.train_and_predict_rnn(',
                    'history_jax = gb.train_and_predict_rnn_jax(',
                    'history_control = gb.train_and_predict_rnn_jax('):
        lines = output(SECTION, snippet, 'jax').split('\n')
        compiled = [line for line in lines
                    if outputs.COMPILE_LINE.match(line)]
        assert len(compiled) == 1 and lines[0] == compiled[0], lines[:3]
        assert lines[1].startswith('epoch '), lines[:3]


def test_flax_gru_is_not_the_scratch_gru_but_has_its_parameters(measured):
    # "The scores differ by about as much as the scores themselves, far
    # more than rounding error"; "its parameters correspond one to one to
    # ours" (the summary's parameter counts); "Every parameter has its
    # counterpart, so the copy is exact" (the copied list is the scratch
    # list: same count).
    text = output(SECTION, 'layer, dense = model.layers[0]', 'jax')
    largest, difference = numbers_after(text, 'largest |output|:')
    measured(relative_difference=difference / largest)
    assert largest > 1 and 0.3 * largest < difference < 3 * largest
    text = output(SECTION, 'gb.print_summary(', 'jax')
    scratch = numbers_after(text, 'GRU, scratch:')
    concise = numbers_after(text, 'GRU, jax:')
    assert concise[4] == scratch[4] == 3 * (27 * 256 + 256 * 256 + 256) \
        + 256 * 27 + 27


def test_jax_gru_results_as_the_text_says(measured):
    text = output(SECTION, 'gb.print_summary(', 'jax')
    scratch3, concise3 = numbers_after(
        text, 'val perplexity after 3 epochs: scratch')
    speedup, = numbers_after(text, 'speedup of nnx.GRUCell over scratch:')
    concise = numbers_after(text, 'GRU, jax:')
    gru = history('gru-jax')
    measured(speedup=speedup, gru_best=min(gru['val']))
    # The saved history is the one printed.
    assert '%.2f' % min(gru['val']) == '%.2f' % concise[0]
    assert '%.2f' % gru['val'][2] == '%.2f' % concise3
    assert scratch3 < 27 and concise3 < 27  # both learn something
    # "Here nnx.GRUCell trained on <speedup> times as many characters per
    # second as our gru": the ratio of the printed medians, as glued.
    speed = outputs.speeds(SECTION, 'gb.print_summary(', 'jax')
    assert abs(speedup - speed['nnx.GRUCell'] / speed['scratch']) < 0.051
    assert outputs.glued(SECTION, 'speedup', 'jax') == '%.1f' % speedup
    # "In 8 epochs Flax's GRU reached a validation perplexity of <best>,
    # below the best counting model of sec_lang_model."
    assert outputs.glued(SECTION, 'best', 'jax') == '%.2f' % min(gru['val'])
    assert len(gru['val']) == 8
    assert min(gru['val']) < float(outputs.glued('chapter_rnn/lang-model',
                                                 'best', 'jax'))


def test_jax_gru_beats_the_jax_rnn():
    # The GRU (8 epochs) reaches a lower validation perplexity than the
    # ReLU RNN of rnn-gluon (20 epochs) and than the control (8 epochs).
    gru = min(history('gru-jax')['val'])
    assert gru < min(history('rnn-jax')['val'])
    assert gru < min(history('rnn-control-jax')['val'])


def test_jax_gru_samples_are_repetitive():
    # "Its samples still repeat themselves": some stretch of 8 characters
    # comes back in the samples of the last epoch.
    text = output(SECTION, 'history_jax = gb.train_and_predict_rnn_jax(',
                  'jax')
    samples = text.rstrip('\n').split('\n')[-2:]
    assert len(samples) == 2 and all(s.startswith(' - ') for s in samples)
    generated = [sample[-50:] for sample in samples]
    stretches = [g[i:i + 8] for g in generated for i in range(len(g) - 7)]
    assert len(set(stretches)) < len(stretches), samples
