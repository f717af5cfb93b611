"""Read the executed notebooks and check their outputs against expectations.

Each tab has its notebooks (read_notebook(section, tab)) and its
expectations (load_expectations(tab)): tests/expected_outputs.json for
MXNet, the default tab, tests/expected_outputs_pytorch.json for PyTorch.
The expectations are keyed by section; each entry finds a code cell by a
snippet of its source and says what its output must show:

* "equals": the output text, exactly;
* "contains": lines that must appear in the output;
* "matches": a regular expression the whole output must match;
* "between": [lo, hi] bounds on an output that is a single number;
* "training": the progress lines of a training run, as printed by the
  training functions: the final epoch, bounds on the final training and
  validation perplexity, and a sample per prefix after every line; and
  the perplexity plot, as an SVG figure;
* "speedup": the minimum speedup printed by the speed comparison;
* "figure": true if the cell must show an SVG figure.
"""
import json
import os
import re

import nbformat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# As config.ini's `tabs`; the first is the default.
TABS = ['mxnet', 'pytorch', 'jax']
# `make robustness` points the tests at a build made with another seed
# (the default tab's folder; the others' are beside it, as evaluate.py
# writes them).
EVAL_DIR = os.environ.get('RNN_BOOK_EVAL_DIR') or os.path.join(
    ROOT, '_build', 'eval')
EXPECTED = os.path.join(ROOT, 'tests', 'expected_outputs.json')
EPOCH_LINE = re.compile(
    r'^epoch (\d+), perplexity ([\d.]+|nan|inf), val perplexity ([\d.]+|nan|'
    r'inf), time ([\d.]+) sec$')
# The JAX tab's training functions compile their steps before the first
# epoch and print how long that took, once, before the progress lines.
COMPILE_LINE = re.compile(r'^compile ([\d.]+) sec$')
# What gb.glue displays (the build removes it from the outputs).
GLUE_MIME = 'application/vnd.rnn-book.glue+json'
# The library layer against the scratch model: Gluon's in the MXNet tab,
# nn.RNN in the PyTorch tab, Flax's nnx.RNN in the JAX tab.
SPEEDUP_LINE = re.compile(
    r'^speedup of (?:gluon|nn\.RNN|nnx\.RNN) over scratch: ([\d.]+)x$',
    re.MULTILINE)


def check_tab(tab):
    if tab not in TABS:
        raise ValueError(f'no tab {tab!r}; the tabs are {TABS}')


def eval_dir(tab='mxnet'):
    """A tab's executed notebooks: _build/eval, _build/eval_pytorch."""
    check_tab(tab)
    return EVAL_DIR if tab == TABS[0] else f'{EVAL_DIR}_{tab}'


def expectations_file(tab='mxnet'):
    check_tab(tab)
    if tab == TABS[0]:
        return EXPECTED
    return os.path.join(ROOT, 'tests', f'expected_outputs_{tab}.json')


def load_expectations(tab='mxnet'):
    with open(expectations_file(tab)) as f:
        return json.load(f)


def read_notebook(section, tab='mxnet'):
    path = os.path.join(eval_dir(tab), section + '.ipynb')
    with open(path) as f:
        return nbformat.read(f, as_version=4)


def cell_output(nb, snippet):
    """Return the text output of the one code cell containing snippet."""
    cells = [c for c in nb.cells
             if c.cell_type == 'code' and snippet in c.source]
    if len(cells) != 1:
        raise LookupError(f'{len(cells)} code cells contain {snippet!r}')
    parts = []
    for out in cells[0].get('outputs', []):
        if GLUE_MIME in out.get('data', {}):
            continue  # gb.glue's record: the build moves it into the text
        if out.get('output_type') == 'stream':
            parts.append(out['text'])
        elif 'data' in out and not any(k.startswith('image/')
                                       for k in out['data']):
            parts.append(out['data']['text/plain'] + '\n')
        elif out.get('output_type') == 'error':
            parts.append(f"{out['ename']}: {out['evalue']}\n")
    return ''.join(parts)


def output(section, snippet, tab='mxnet'):
    """The text output of the one code cell of a section's notebook in a
    tab that contains snippet."""
    return cell_output(read_notebook(section, tab), snippet)


def code_sources(section, tab='mxnet'):
    """The source of every code cell of a section's notebook in a tab."""
    return '\n'.join(c.source for c in read_notebook(section, tab).cells
                     if c.cell_type == 'code')


def saved_history(name, tab='mxnet'):
    """A training history that a tab's notebooks saved with
    gb.save_history(name, ...), in results/ beside them."""
    path = os.path.join(eval_dir(tab), 'chapter_rnn', 'results',
                        name + '.json')
    with open(path) as f:
        return json.load(f)


def numbers_after(text, label):
    """The numbers on the first line of text that starts with label."""
    for line in text.split('\n'):
        if line.startswith(label):
            return [float(x) for x in
                    re.findall(r'[-+]?\d+\.?\d*(?:e[-+]?\d+)?',
                               line[len(label):])]
    raise LookupError(f'no line starting with {label!r} in {text!r}')


def glued(section, name, tab='mxnet'):
    """The text that a section's cell recorded with gb.glue(name, ...) in
    a tab, as the build wrote it into that tab's prose."""
    values = read_notebook(section, tab).metadata.get('glue', {})
    if name not in values:
        raise LookupError(f'{section} [{tab}] recorded no {name!r}; it '
                          f'recorded {sorted(values)}')
    return values[name]


SPEED_LINE = re.compile(
    r'^(.+?): +(\d+) tokens/sec \(middle half (\d+) to (\d+)\)$',
    re.MULTILINE)


def without_speeds(text):
    """text without what a timing measures anew on every run: the lines of
    gb.measure_speed and the tok/s column of the comparison's table."""
    lines = [line for line in text.split('\n') if not SPEED_LINE.match(line)]
    return '\n'.join(
        line[:36] + line[42:] if re.match(r'^.{36}[ \d-]{6} (sgd|adam) ',
                                          line) else line
        for line in lines)


def speeds(section, snippet, tab='mxnet'):
    """The median speeds that gb.measure_speed printed in one cell, by
    model; the middle half of its rounds must hold the median."""
    text = cell_output(read_notebook(section, tab), snippet)
    found = {}
    for m in SPEED_LINE.finditer(text):
        median, low, high = (float(m.group(i)) for i in (2, 3, 4))
        assert low <= median <= high, m.group(0)
        found[m.group(1)] = median
    if not found:
        raise LookupError(f'no speeds in {section} [{tab}] {snippet!r}')
    return found


def has_figure(nb, snippet):
    """Whether the one code cell containing snippet shows an SVG figure."""
    cells = [c for c in nb.cells
             if c.cell_type == 'code' and snippet in c.source]
    return any('image/svg+xml' in out.get('data', {})
               for out in cells[0].get('outputs', []))


def check_training(text, spec):
    """Return the problems found in a training log; [] if it is as expected."""
    lines = text.rstrip('\n').split('\n')
    problems, epochs = [], []
    i = 0
    if lines and COMPILE_LINE.match(lines[0]):
        i = 1  # the JAX tab's compile time, printed once before the epochs
    while i < len(lines):
        m = EPOCH_LINE.match(lines[i])
        if not m:
            problems.append(f'unexpected line {lines[i]!r}')
            i += 1
            continue
        epochs.append((int(m.group(1)), float(m.group(2)),
                       float(m.group(3))))
        samples = lines[i + 1: i + 1 + len(spec['prefixes'])]
        for prefix, sample in zip(spec['prefixes'], samples):
            if not sample.startswith(' - ' + prefix):
                problems.append(f'sample {sample!r} does not start with '
                                f'the prefix {prefix!r}')
            elif len(sample) != 3 + len(prefix) + spec['pred_len']:
                problems.append(f'sample {sample!r} is not prefix + '
                                f'{spec["pred_len"]} characters')
        if len(samples) < len(spec['prefixes']):
            problems.append(f'missing samples after {lines[i]!r}')
        i += 1 + len(spec['prefixes'])
    if not epochs:
        return problems + ['no progress line found']
    epoch, train_ppl, val_ppl = epochs[-1]
    if epoch != spec['epochs']:
        problems.append(f'last epoch printed is {epoch}, '
                        f'expected {spec["epochs"]}')
    lo, hi = spec['train_ppl']
    if not lo <= train_ppl <= hi:
        problems.append(f'final training perplexity {train_ppl} is '
                        f'outside [{lo}, {hi}]')
    lo, hi = spec['val_ppl']
    if not lo <= val_ppl <= hi:
        problems.append(f'final validation perplexity {val_ppl} is '
                        f'outside [{lo}, {hi}]')
    return problems


def measure(nb, expectation):
    """The numbers an expectation bounds, as {name: value}."""
    text = cell_output(nb, expectation['cell'])
    values = {}
    if 'training' in expectation:
        last = [m for m in map(EPOCH_LINE.match, text.split('\n')) if m]
        if last:
            values['train'] = float(last[-1].group(2))
            values['val'] = float(last[-1].group(3))
    if 'between' in expectation:
        values['value'] = float(text)
    if 'speedup' in expectation:
        m = SPEEDUP_LINE.search(text)
        if m:
            values['speedup'] = float(m.group(1))
    return values


def check_cell(nb, expectation):
    """Return the problems of one expectation; [] if it holds."""
    text = cell_output(nb, expectation['cell'])
    problems = []
    if 'equals' in expectation and text.rstrip('\n') != expectation['equals']:
        problems.append(f'output {text!r} != {expectation["equals"]!r}')
    if 'matches' in expectation and not re.fullmatch(
            expectation['matches'], text.rstrip('\n')):
        problems.append(f'output {text!r} does not match '
                        f'{expectation["matches"]!r}')
    if 'between' in expectation:
        lo, hi = expectation['between']
        if not lo <= float(text) <= hi:
            problems.append(f'output {text.strip()} is outside [{lo}, {hi}]')
    for line in expectation.get('contains', []):
        if line not in text.split('\n'):
            problems.append(f'no line {line!r} in output {text!r}')
    if 'training' in expectation:
        problems += check_training(text, expectation['training'])
        if not has_figure(nb, expectation['cell']):
            problems.append('no perplexity plot (SVG) in the output')
    if expectation.get('figure') and not has_figure(nb, expectation['cell']):
        problems.append('no SVG figure in the output')
    if 'speedup' in expectation:
        m = SPEEDUP_LINE.search(text)
        if not m:
            problems.append('no speedup line in the output')
        elif float(m.group(1)) < expectation['speedup']:
            problems.append(f'speedup {m.group(1)} is below '
                            f'{expectation["speedup"]}')
    return problems
