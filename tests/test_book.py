"""The executed book: every section ran, and its key outputs are as expected.

`make test` evaluates the sections into _build/eval before pytest runs.
"""
import random
import sys

import pytest
from mxnet.gluon import rnn

import gluonbook as gb
import outputs

sys.path.insert(0, outputs.os.path.join(outputs.ROOT, 'build'))
from make_lib import book_order  # noqa: E402

SECTIONS = ['index'] + [f[:-len('.md')] for f in book_order()]
EXPECTED = outputs.load_expectations()
CASES = [(section, i) for section in EXPECTED
         for i in range(len(EXPECTED[section]))]


@pytest.mark.parametrize('section', SECTIONS)
def test_every_cell_ran(section):
    nb = outputs.read_notebook(section)
    for cell in nb.cells:
        if cell.cell_type != 'code':
            continue
        assert cell.execution_count is not None, cell.source
        errors = [o for o in cell.outputs if o.output_type == 'error']
        assert not errors, (section, cell.source)


def test_every_section_with_code_has_expectations():
    for section in SECTIONS:
        nb = outputs.read_notebook(section)
        if any(c.cell_type == 'code' for c in nb.cells):
            assert EXPECTED.get(section), section


@pytest.mark.parametrize('section,index', CASES)
def test_output(section, index):
    expectation = EXPECTED[section][index]
    nb = outputs.read_notebook(section)
    assert outputs.check_cell(nb, expectation) == []


# The checks must catch a model that does not learn. We run the real
# training functions for one epoch, broken in two ways, and feed their
# printed output to the same check as the book's (the epoch count adjusted
# to the short run, so that only the perplexity can fail it).

def gluon_spec():
    for expectation in EXPECTED['chapter_rnn/rnn-gluon']:
        if 'training' in expectation:
            return dict(expectation['training'], epochs=1)


def train_gluon_one_epoch(corpus_indices, lr, spec, capsys):
    _, char_to_idx, idx_to_char, vocab_size = gb.load_data_time_machine()
    model = gb.RNNModel(rnn.RNN(256), vocab_size)
    capsys.readouterr()
    gb.train_and_predict_rnn_gluon(
        model, 256, vocab_size, gb.try_gpu(), corpus_indices, idx_to_char,
        char_to_idx, num_epochs=1, num_steps=35, lr=lr, clipping_theta=1,
        batch_size=32, pred_period=1, pred_len=spec['pred_len'],
        prefixes=spec['prefixes'])
    return capsys.readouterr().out


def test_checks_reject_a_learning_rate_of_zero(capsys):
    spec = gluon_spec()
    corpus_indices = gb.load_data_time_machine()[0]
    log = train_gluon_one_epoch(corpus_indices, 0, spec, capsys)
    problems = outputs.check_training(log, spec)
    assert any('perplexity' in p for p in problems), (log, problems)


def test_checks_reject_labels_unrelated_to_inputs(capsys):
    spec = gluon_spec()
    corpus_indices = list(gb.load_data_time_machine()[0])
    random.Random(0).shuffle(corpus_indices)
    log = train_gluon_one_epoch(corpus_indices, 1, spec, capsys)
    problems = outputs.check_training(log, spec)
    assert any('perplexity' in p for p in problems), (log, problems)


# Claims the text makes about the outputs beside it.

def final_lines(section, snippet):
    nb = outputs.read_notebook(section)
    return [outputs.EPOCH_LINE.match(line).groups()
            for line in outputs.cell_output(nb, snippet).split('\n')
            if outputs.EPOCH_LINE.match(line)]


def test_scratch_text_on_the_two_samplers():
    # "consecutive sampling ends with the lower training perplexity ...
    # the two validation perplexities are close"
    (*_, random_), (*_, consecutive) = (
        final_lines('chapter_rnn/rnn-scratch', f'history_{name} = ')
        for name in ('random', 'consecutive'))
    assert float(consecutive[1]) < float(random_[1])
    assert abs(float(consecutive[2]) - float(random_[2])) < 0.3


def test_gluon_text_on_validation_perplexity():
    # "training perplexity falls until the last epoch, but validation
    # perplexity improves little over the last five"
    lines = final_lines('chapter_rnn/rnn-gluon',
                        'history = train_and_predict_rnn_gluon(')
    (e1, train1, val1, _), (e2, train2, val2, _) = lines[-2:]
    assert int(e2) - int(e1) == 5
    assert float(train2) < float(train1)
    assert float(val1) - float(val2) < 0.1
