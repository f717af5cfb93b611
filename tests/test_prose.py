"""The prose quotes no measured number that the build did not record.

A number that the book's code measures (a perplexity, a speed or a
factor between speeds, a time, a share) differs from machine to machine
and from run to run, so the text takes it from the executed notebook of
its own tab (:glue:`name`, recorded by gb.glue) instead of typing it in.
This test reads the prose of every section, both tabs (code cells, inline
code and math left out: an equation's numbers are worked out, not
measured), and fails on every measured-looking number that is not a glue
reference and not one of the constants listed in ALLOWED.
"""
import glob
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECTIONS = sorted(glob.glob(os.path.join(ROOT, 'chapter_rnn', '*.md')))

NUMBER_WORD = (r'(?:one|two|three|four|five|six|seven|eight|nine|ten|'
               r'a hundred|a thousand)')
MEASURED = re.compile('|'.join([
    r'\b\d+\.\d+\b',  # a perplexity, a factor, a time: 4.68, 6.0
    r'\b\d+(?:\.\d+)?\s*(?:×|x\b)',  # 6x, 6 ×
    r'\b\d+(?:[.,]\d+)?\s+times\b',  # 6 times, 95 times
    NUMBER_WORD + r'(?:[- ]and a half)?\s+times\b',  # six times
    r'\b\d[\d,]*\s+(?:tokens|characters)\s+(?:per\s+second|a\s+second|/s)',
    r'\b\d+(?:\.\d+)?\s*(?:ms|µs|s|sec|seconds|minutes|min)\b',  # times
    r'\b\d+(?:\.\d+)?\s*(?:%|per\s*cent)',  # a share
]), re.IGNORECASE)

# Constants of the text, each matched with enough context to say what it
# is, and why it is not a measurement.
ALLOWED = [
    # Settings the code sets: learning rates, dropout rates, the standard
    # deviation of the initial weights, smoothing constants, temperatures
    # and top-p thresholds of the decoding section's examples.
    r'(?:learning rate|Adam at|Adam with learning rate|SGD at) 0\.\d+',
    r'dropout (?:at a rate of |rate )?0\.3',
    r'deviation 0\.(?:2|01)',
    r'(?:1 and|rate) 0\.01(?:, for)?',
    r'we use 0\.005',
    r'From 0\.5 to 1 to 1\.5',
    r'at 1 and at 1\.5 than at 0\.5',
    r"the held-out text's than at 0\.5 or at 1\.5",
    r'temperature (?:of )?0\.[58]',
    # A software version.
    r'MXNet 1\.9\.1',
    # The share of the text held out for validation, a setting.
    r'last 10%',
    # Counts in the shipped text, the same on every machine: how often
    # the rarest of the ten most frequent words occurs.
    r'occurs 95 times',
    # Counts of weights fixed by the architecture (a GRU has three sets
    # of the RNN's weights, an LSTM four).
    r'(?:has|and) (?:three|four) times the RNN\'s',
    r'three times as many (?:matrix|operators)',
    # bptt's chosen singular values and the numbers of its worked bound.
    r'factor of 0\.8 per step',
    r'grows by 1\.2 per step',
    r'singular value 0\.8',
    r'with 1\.2 it rises',
    r'eigenvalues are 0\.9',
    # Thresholds that gru and lstm count gate values against (the code's
    # `z > 0.9`, `f > 0.9`), not measurements.
    r'(?:are|have a mean) above 0\.9',
    r'many below 0\.1',
    # An exercise's hypothetical perplexity.
    r'perplexity 1\.5 on its training text',
    # The probabilities of a worked example of top-p sampling.
    r'two largest sum to 0\.88',
    # A property of the held-out row, true by construction.
    r'100% by construction',
    # Bounds of relations that claim tests check on every build.
    r'within 0\.2 of (?:it|each other)',
    # The ratio of two numbers worked out in the equation beside it.
    r'is five times that of',
    # The parameter ratio of two layer sizes, fixed by the architecture.
    r'about 2\.6 times the (?:parameters|arithmetic)',
]
CODE_FENCE = re.compile(r'^```.*?^```', re.MULTILINE | re.DOTALL)
DISPLAY_MATH = re.compile(r'\$\$.*?\$\$', re.DOTALL)
INLINE = re.compile(r'`[^`]*`|\$[^$]*\$')


def prose(text):
    """The text of a section without code, math and roles' arguments."""
    text = CODE_FENCE.sub('', text)
    text = DISPLAY_MATH.sub('', text)
    return text


def unexplained_numbers(text):
    """Measured-looking numbers in text that are neither glue references
    nor constants of ALLOWED, each with the words around it."""
    flat = re.sub(r'\s+', ' ', prose(text))
    # Inline code, inline math and roles (:glue:`x`, :numref:`y`) become
    # spaces, so that positions stay those of flat.
    blanked = INLINE.sub(lambda m: ' ' * len(m.group(0)), flat)
    allowed = [m.span() for pattern in ALLOWED
               for m in re.finditer(pattern, blanked)]
    found = []
    for m in MEASURED.finditer(blanked):
        if not any(a <= m.start() and m.end() <= b for a, b in allowed):
            found.append(flat[max(0, m.start() - 40): m.end() + 40])
    return found


@pytest.mark.parametrize('path', SECTIONS,
                         ids=[os.path.basename(p) for p in SECTIONS])
def test_prose_quotes_no_measured_number(path):
    with open(path) as f:
        found = unexplained_numbers(f.read())
    assert not found, (
        'measured-looking numbers typed into the text; record them with '
        'gb.glue and write :glue:`name` (or, for a constant, add it to '
        'ALLOWED with its reason):\n' + '\n'.join(found))


@pytest.mark.parametrize('text, count', [
    ('Gluon trains 6.0 times as fast.', 1),
    ('Gluon trains six times as fast.', 1),
    ('It took 12 s, at 13,000 tokens per second.', 2),
    ('About 57% of its words.', 1),
    ('Gluon trains :glue:`speedup` times as fast.', 0),
    ('Weights from $N(0, 0.01^2)$, the `lr = 0.5` cell.', 0),
    ('Adam at 0.005 with dropout 0.3, on MXNet 1.9.1.', 0),
    ('```{.python .input}\nprint(4.68)\n```\n', 0),
    ('$$x = 0.88$$ but 0.88 here', 1),
])
def test_the_scan_finds_measured_numbers(text, count):
    assert len(unexplained_numbers(text)) == count, unexplained_numbers(text)
