"""The built notebooks as a reader gets them, in each tab: copied anywhere,
or unpacked from the archive the HTML links to (rnn-book/mxnet/,
rnn-book/pytorch/, rnn-book/jax/), they run and print what the build
printed (neither section below prints timings of its own), and their text refers to
sections and figures as the HTML does, with no Sphinx markup. Each runs
in its own tab's environment alone (the PyTorch one has no mxnet, the
JAX one neither mxnet nor torch)."""
import glob
import os
import re
import shutil
import sys
import zipfile

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbclient import NotebookClient

import outputs

sys.path.insert(0, os.path.join(outputs.ROOT, 'build'))
from evaluate import KERNELS  # noqa: E402
from finish_html import MODULES, PARAMETERS, beside_page  # noqa: E402
from make_lib import book_order  # noqa: E402

TABS = outputs.TABS
SECTION = 'chapter_rnn/lang-model-dataset'
HTML_DIR = os.path.join(outputs.ROOT, '_build', 'html')
ARCHIVE = os.path.join(HTML_DIR, 'rnn-book-notebooks.zip')
READERS_DIR = os.path.join(outputs.ROOT, '_build', 'notebooks')
# Every page of the book, as a notebook.
NOTEBOOKS = ['index.ipynb'] + [f[:-len('.md')] + '.ipynb'
                               for f in book_order()]
# d2lbook's markup: roles (:numref:`x`, :eqref:, :cite:, ...), option
# lines (:label:`x`, :maxdepth:) and table-of-contents blocks.
RAW_MARKER = re.compile(r':[a-z]+:`|^:[a-z_]+:|^```toc', re.MULTILINE)
# A reference as the HTML shows it, linked or not.
REFERENCE = re.compile(r'(?:Section|Fig\.) \d+(?:\.\d+)*')
CAPTION = re.compile(r'^\*Fig\. [\d.]+\* .*$', re.MULTILINE)
# Run last in a PyTorch or JAX notebook: proof that the other tabs'
# frameworks were not importable (the JAX one has neither mxnet nor torch).
ABSENT = {'pytorch': ['mxnet'], 'jax': ['mxnet', 'torch']}


def absent_probe(modules):
    return ''.join(f'try:\n    import {m}\nexcept ImportError:\n'
                   f'    print("no {m}")\n' for m in modules)


def archived(tab):
    """{'chapter_rnn/rnn.ipynb': raw bytes, ...}: a tab's files in the
    archive, relative to its folder."""
    prefix = f'rnn-book/{tab}/'
    with zipfile.ZipFile(ARCHIVE) as z:
        return {name[len(prefix):]: z.read(name) for name in z.namelist()
                if name.startswith(prefix) and not name.endswith('/')}


def archived_notebooks(tab):
    return {name: raw for name, raw in archived(tab).items()
            if name.endswith('.ipynb')}


def built_notebooks(tab):
    """The tab's executed notebooks, relative to its eval folder."""
    folder = outputs.eval_dir(tab)
    return sorted(os.path.relpath(path, folder) for path in glob.glob(
        os.path.join(folder, '**', '*.ipynb'), recursive=True)
        if os.path.getsize(path) > 0)


def markdown(raw):
    nb = nbformat.reads(raw.decode(), as_version=4)
    return '\n\n'.join(cell.source for cell in nb.cells
                        if cell.cell_type == 'markdown')


def text_outputs(nb):
    return [outputs.cell_output(nb, cell.source) for cell in nb.cells
            if cell.cell_type == 'code']


def execute(nb, folder, tab):
    """Run nb in folder, in the tab's kernel (its own environment); for
    PyTorch and JAX, check that the other frameworks were absent."""
    for cell in nb.cells:
        cell.pop('outputs', None)
    absent = ABSENT.get(tab, [])
    if absent:
        nb.cells.append(nbformat.v4.new_code_cell(absent_probe(absent)))
    NotebookClient(nb, timeout=600, kernel_name=KERNELS[tab],
                   resources={'metadata': {'path': str(folder)}}).execute()
    if absent:
        probe = nb.cells.pop()
        assert ''.join(o.get('text', '') for o in probe.outputs) == ''.join(
            f'no {m}\n' for m in absent)
    return nb


def run_copy(folder, tab='mxnet'):
    """Run a copy of the built notebook alone in folder; return it."""
    name = os.path.basename(SECTION) + '.ipynb'
    copy = folder / name
    shutil.copyfile(os.path.join(outputs.eval_dir(tab), SECTION + '.ipynb'),
                    copy)
    nb = nbformat.read(str(copy), as_version=4)
    # gluonbook comes from `pip install -e .`, the data from its package.
    return execute(nb, folder, tab)


@pytest.mark.parametrize('tab', TABS)
def test_notebook_runs_from_an_empty_folder_and_repeats_the_build(
        tmp_path, monkeypatch, tab):
    monkeypatch.delenv('RNN_BOOK_SEED', raising=False)
    folder = tmp_path / 'notebook'
    folder.mkdir()
    nb = run_copy(folder, tab)
    assert os.listdir(folder) == ['lang-model-dataset.ipynb']
    assert text_outputs(nb) == text_outputs(
        outputs.read_notebook(SECTION, tab))


def test_the_seed_variable_reaches_the_notebook(tmp_path, monkeypatch):
    # `make robustness` rebuilds with RNN_BOOK_SEED=1, 2: seed 0 is the
    # default build, another seed draws other random minibatches.
    built = text_outputs(outputs.read_notebook(SECTION))
    monkeypatch.setenv('RNN_BOOK_SEED', '0')
    assert text_outputs(run_copy(tmp_path)) == built
    monkeypatch.setenv('RNN_BOOK_SEED', '1')
    other = text_outputs(run_copy(tmp_path))
    changed = [a for a, b in zip(built, other) if a != b]
    assert len(other) == len(built) and changed
    assert all(text.startswith('X: ') for text in changed), changed


@pytest.mark.parametrize('tab', TABS)
@pytest.mark.parametrize('section', ['comparison', 'decoding'])
def test_reading_sections_run_from_the_archive(tmp_path, monkeypatch,
                                               section, tab):
    # The archive carries the histories that the comparison reads (of
    # both tabs) and the parameters that decoding reads (each tab its
    # own), so their notebooks run without training anything and print
    # the same tables (decoding samples with the default seed).
    monkeypatch.delenv('RNN_BOOK_SEED', raising=False)
    with zipfile.ZipFile(ARCHIVE) as z:
        z.extractall(tmp_path)
    folder = tmp_path / 'rnn-book' / tab / 'chapter_rnn'
    nb = nbformat.read(str(folder / f'{section}.ipynb'), as_version=4)
    built = outputs.read_notebook(f'chapter_rnn/{section}', tab)
    # (but for the comparison's speeds, which it measures on every run)
    assert [outputs.without_speeds(t) for t in text_outputs(
        execute(nb, folder, tab))] == [outputs.without_speeds(t)
                                       for t in text_outputs(built)]


@pytest.mark.parametrize('tab', TABS)
def test_archive_carries_each_tab_with_what_it_reads(tab):
    files = archived(tab)
    # Every section, as built.
    assert sorted(archived_notebooks(tab)) == built_notebooks(tab)
    assert sorted(archived_notebooks(tab)) == sorted(NOTEBOOKS)
    # gluonbook with this tab's module only: the PyTorch folder has no
    # MXNet code in it.
    assert sorted(n for n in files if n.startswith('gluonbook/')) == sorted(
        ['gluonbook/__init__.py', MODULES[tab]])
    with open(os.path.join(outputs.ROOT, MODULES[tab]), 'rb') as f:
        assert files[MODULES[tab]] == f.read()
    with open(os.path.join(outputs.ROOT, 'data', 'timemachine.txt'),
              'rb') as f:
        assert files['data/timemachine.txt'] == f.read()
    figures = sorted(os.listdir(os.path.join(outputs.ROOT, 'img')))
    assert sorted(n[len('img/'):] for n in files
                  if n.startswith('img/')) == figures
    # The histories of both tabs; this tab's trained parameters only.
    results = os.path.join(outputs.EVAL_DIR, 'chapter_rnn', 'results')
    saved = sorted(os.listdir(results))
    own = PARAMETERS[tab][1:]  # '*.pt' -> '.pt'
    assert sorted(n[len('chapter_rnn/results/'):] for n in files
                  if n.startswith('chapter_rnn/results/')) == [
        n for n in saved if n.endswith(('.json', own))]
    for other in TABS[1:]:
        assert any(n.endswith('.json') and f'-{other}' in n for n in saved)
    assert any(n.endswith(own) for n in saved)
    # What to install to run them, from the repository root.
    with open(os.path.join(outputs.ROOT, f'requirements-{tab}.txt'),
              'rb') as f:
        assert files[f'requirements-{tab}.txt'] == f.read()
    # Beside the two folders, a README says which is which.
    with zipfile.ZipFile(ARCHIVE) as z:
        assert f'`{tab}/`' in z.read('rnn-book/README.md').decode()


@pytest.mark.parametrize('tab', TABS)
def test_front_page_of_each_tab_says_what_it_needs(tab):
    # Each tab's index.ipynb says what that tab needs (its own
    # requirements file, shipped beside it) and that a notebook needs the
    # folder's gluonbook; not another tab's instructions.
    text = markdown(archived_notebooks(tab)['index.ipynb'])
    assert f'requirements-{tab}.txt' in text
    assert 'gluonbook' in text and 'rnn-book-notebooks.zip' in text
    for other in TABS:
        if other != tab:
            assert f'requirements-{other}.txt' not in text
    assert f'requirements-{tab}.txt' in archived(tab)


@pytest.mark.parametrize('tab', TABS)
def test_readers_notebooks_have_no_raw_markers(tab):
    notebooks = archived_notebooks(tab)
    assert notebooks
    found = {}
    for name, raw in notebooks.items():
        nb = nbformat.reads(raw.decode(), as_version=4)
        for cell in nb.cells:
            found.setdefault(name, []).extend(
                RAW_MARKER.findall(cell.source))
    assert {name: hits for name, hits in found.items() if hits} == {}
    # d2lbook builds the HTML from the eval folders, which keep them.
    assert ':numref:`sec_lang_model`' in markdown(open(os.path.join(
        outputs.eval_dir(tab), 'chapter_rnn', 'rnn.ipynb'), 'rb').read())


def shown_references(page, tab):
    """The numbered references the page shows in tab, in order."""
    with open(os.path.join(HTML_DIR, page), encoding='utf-8') as f:
        soup = BeautifulSoup(f, 'html.parser')
    for panel in soup.select('div.mdl-tabs__panel'):
        if not panel.get('id', '').startswith(tab + '-'):
            panel.decompose()
    return [span.get_text() for span in soup.select('span.std-numref')]


@pytest.mark.parametrize('tab', TABS)
def test_readers_notebooks_refer_as_the_html_does(tab):
    notebooks = archived_notebooks(tab)
    chapter = markdown(notebooks['chapter_rnn/index.ipynb'])
    assert 'perplexity ([Section 1.3](rnn.ipynb))' in chapter
    rnn = markdown(notebooks['chapter_rnn/rnn.ipynb'])
    assert rnn.startswith('# 1.3. Recurrent Neural Networks\n')
    assert '\nFig. 1.3.1 unrolls the computation' in rnn
    assert '\n*Fig. 1.3.1* An RNN unrolled over three time steps.' in rnn
    root = markdown(notebooks['index.ipynb'])
    assert '  * [1.3. Recurrent Neural Networks](chapter_rnn/rnn.ipynb)' \
        in root
    # Every page's numbered references in this tab, in order, are its
    # notebook's (the other tab's blocks of text left out).
    for name, raw in notebooks.items():
        text = CAPTION.sub('', markdown(raw))
        assert REFERENCE.findall(text) == shown_references(
            name[:-len('.ipynb')] + '.html', tab), name


@pytest.mark.parametrize('tab', TABS)
def test_every_copy_of_the_readers_notebooks_is_the_same(tab):
    # The archive, the notebooks beside the pages (rnn.ipynb for MXNet,
    # rnn-pytorch.ipynb for PyTorch), and _build/notebooks/<tab>, which
    # `make lab` opens.
    for name, raw in archived_notebooks(tab).items():
        for path in [os.path.join(HTML_DIR, beside_page(name, tab)),
                     os.path.join(READERS_DIR, tab, name)]:
            with open(path, 'rb') as f:
                assert f.read() == raw, (path, name)


@pytest.mark.parametrize('tab', TABS)
def test_glued_values_reach_the_page_and_notebook_of_their_tab(tab):
    # rnn-gluon quotes its speed factor, :glue:`speedup`, in each tab's
    # block: the page shows each tab's own value in that tab's panel, and
    # the readers' notebook of the tab says the same.
    speedup = outputs.glued('chapter_rnn/rnn-gluon', 'speedup', tab)
    sentence = f'trained on {speedup} times as many characters'
    with open(os.path.join(HTML_DIR, 'chapter_rnn', 'rnn-gluon.html'),
              encoding='utf-8') as f:
        soup = BeautifulSoup(f, 'html.parser')
    shown = [' '.join(panel.get_text().split()) for panel in
             soup.select('div.mdl-tabs__panel')
             if panel.get('id', '').startswith(tab + '-')]
    assert any(sentence in text for text in shown), sentence
    notebook = markdown(archived_notebooks(tab)['chapter_rnn/rnn-gluon.ipynb'])
    assert sentence in ' '.join(notebook.split())
