"""The build scripts: library drift is caught, a failing cell is named."""
import os
import re
import sys

import nbformat
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'build'))
import evaluate  # noqa: E402
import finish_html  # noqa: E402
import make_lib  # noqa: E402


@pytest.mark.parametrize('tab', make_lib.TABS)
def test_generated_library_matches_the_chapter(tab, capsys):
    assert make_lib.check(tab)
    assert 'matches the chapter' in capsys.readouterr().out


def test_drift_is_reported_by_definition(tmp_path, capsys):
    text = make_lib.generate()
    drifted = text.replace('theta / norm', 'theta / (norm + 1)')
    assert drifted != text
    path = tmp_path / 'chapter_rnn.py'
    path.write_text(drifted)
    assert not make_lib.check('mxnet', str(path))
    assert capsys.readouterr().out.strip().splitlines() == [
        'check-lib: gluonbook/chapter_rnn.py: grad_clipping: differs',
        'check-lib: gluonbook/chapter_rnn.py is out of date; run `make lib`']


def test_a_tab_mark_below_the_first_line_is_refused():
    # d2lbook would run such a cell in the marked tab while make_lib, which
    # reads the first line, would save it into the default tab's module.
    assert make_lib.cell_tabs(['#@tab pytorch', '#@save', 'x = 1']) == (
        ['pytorch'], ['#@save', 'x = 1'])
    assert make_lib.cell_tabs(['x = 1']) == (['mxnet'], ['x = 1'])
    for late in ('#@tab pytorch', '# @tab all', '%%tab pytorch'):
        with pytest.raises(SystemExit) as e:
            make_lib.cell_tabs(['#@save', late, 'x = 1'])
        assert str(e.value) == (f"make_lib: {late!r} must be the first line "
                                "of its code cell (the cell starts '#@save')")


def test_saved_cells_come_in_book_order():
    order = make_lib.book_order()
    assert order[:4] == ['chapter_rnn/index.md', 'chapter_rnn/sequence.md',
                         'chapter_rnn/lang-model.md', 'chapter_rnn/rnn.md']
    assert len(order) == 15 and order[-1] == 'chapter_rnn/tools.md'
    names = make_lib.public_names(make_lib.generate())
    assert names.index('read_time_machine') < names.index(
        'load_data_time_machine') < names.index('rnn') < names.index(
        'RNNModel') < names.index('gru') < names.index('lstm') < names.index(
        'save_params') < names.index('predict_beam_search')


def test_every_figure_is_current_and_used(tmp_path, monkeypatch):
    import make_figures
    monkeypatch.setattr(make_figures, 'IMG_DIR', str(tmp_path))
    make_figures.main()
    text = ''.join(open(os.path.join(ROOT, f)).read()
                   for f in make_lib.book_order())
    for name in make_figures.FIGURES:
        with open(os.path.join(ROOT, 'img', name)) as f:
            assert f.read() == (tmp_path / name).read_text(), (
                f'img/{name} is out of date: run `make figures`')
        assert f'](../img/{name})' in text, f'img/{name} is not used'


def test_sections_read_histories_only_from_earlier_sections():
    order = make_lib.book_order()
    saved_by, params_by = {}, {}
    for position, md_file in enumerate(order):
        if md_file == 'chapter_rnn/tools.md':
            # Its toy history goes to a temporary folder and back; it
            # reads none of the book's results
            # (test_only_reading_sections_depend_on_saved_histories).
            continue
        with open(os.path.join(ROOT, md_file)) as f:
            text = f.read()
        for name in evaluate.re.findall(r"save_history\('([\w-]+)'", text):
            saved_by[name] = position
        loaded = evaluate.re.findall(r"load_history\('([\w-]+)'", text)
        if 'gb.load_history(name)' in text:  # names listed in a table
            loaded += evaluate.re.findall(
                r"'([\w-]+-(?:scratch|gluon|pytorch|jax))'", text)
        for name in loaded:
            assert saved_by.get(name, len(order)) < position, (md_file, name)
        # Parameters too: decoding reads what lstm saves, comparison what
        # rnn-gluon, gru and lstm save.
        for name in evaluate.re.findall(r"save_params\('([\w-]+)'", text):
            params_by[name] = position
        read = evaluate.re.findall(r"load_params\('([\w-]+)'", text)
        if 'gb.load_params(saved' in text:  # names listed in a table
            read += evaluate.re.findall(
                r"'((?:rnn|gru|lstm)-(?:gluon|pytorch|jax))',\s*(?:None|1)\)",
                text)
            assert len(read) == 9, (md_file, read)
        for name in read:
            assert params_by.get(name, len(order)) < position, (md_file,
                                                                 name)
    # Nine runs in each tab (gru's control too), and the best counting
    # model of lang-model (which rnn quotes); each tab's trained RNN, GRU
    # and LSTM.
    assert len(saved_by) == 28 and '5-gram' in saved_by, sorted(saved_by)
    assert sorted(params_by) == [
        'gru-gluon', 'gru-jax', 'gru-pytorch', 'lstm-gluon', 'lstm-jax',
        'lstm-pytorch', 'rnn-gluon', 'rnn-jax', 'rnn-pytorch']


def test_failing_cell_is_named(tmp_path):
    section = tmp_path / 'broken.md'
    section.write_text('# Broken\n\n```{.python .input  n=1}\nx = 1\n```\n\n'
                       '```{.python .input  n=2}\nx / 0\n```\n')
    with pytest.raises(RuntimeError) as e:
        evaluate.execute(str(section))
    message = str(e.value)
    assert str(section) in message and "cell n=2 ('x / 0')" in message
    assert 'ZeroDivisionError' in message


def test_a_section_is_rerun_exactly_when_its_inputs_change(tmp_path,
                                                           monkeypatch):
    section = tmp_path / 'section.md'
    section.write_text('# S\n\n```{.python .input  n=1}\n1 + 1\n```\n')
    helper = tmp_path / 'helper.py'
    helper.write_text('x = 1\n')
    monkeypatch.setattr(evaluate, 'RESOURCES', [str(helper)])
    md = str(section)
    digest = evaluate.content_hash(md)
    nb = evaluate.execute(md)
    nb.metadata['build'] = {'source_sha1': digest}
    evaluate.write_atomically(nb, evaluate.target_of(md))
    assert not os.path.exists(evaluate.target_of(md) + '.partial')
    assert evaluate.is_current(md, evaluate.content_hash(md))
    # A notebook just executed has nothing to refresh (no per-run metadata
    # such as execution timestamps that the Markdown cannot have).
    assert not evaluate.refresh_text(md)

    # Touching the source changes nothing, and the notebook is made newer
    # than the source, so that d2lbook does not re-run it either.
    os.utime(md, (os.path.getmtime(md) + 10,) * 2)
    assert evaluate.is_current(md, evaluate.content_hash(md))
    assert os.path.getmtime(evaluate.target_of(md)) >= os.path.getmtime(md)

    helper.write_text('x = 2\n')  # a changed library re-runs the section
    assert not evaluate.is_current(md, evaluate.content_hash(md))
    helper.write_text('x = 1\n')
    assert evaluate.is_current(md, evaluate.content_hash(md))

    # New prose alone runs nothing: the notebook gets the text and keeps
    # its outputs.
    section.write_text(section.read_text() + '\nMore text.\n')
    assert evaluate.is_current(md, evaluate.content_hash(md))
    assert evaluate.refresh_text(md)
    refreshed = nbformat.read(evaluate.target_of(md), as_version=4)
    assert refreshed.cells[-1].source.strip() == 'More text.'
    assert refreshed.cells[1].outputs[0]['data']['text/plain'] == '2'
    assert not evaluate.refresh_text(md)  # nothing new the second time

    section.write_text(section.read_text().replace('1 + 1', '1 + 2'))
    assert not evaluate.is_current(md, evaluate.content_hash(md))


def test_a_failed_section_leaves_no_stale_output(tmp_path, monkeypatch):
    monkeypatch.setattr(evaluate, 'BUILD', str(tmp_path))
    monkeypatch.setattr(evaluate, 'EVAL_DIR', str(tmp_path / 'eval'))
    built = ['eval/chapter_rnn/x.ipynb', 'eval_pytorch/chapter_rnn/x.ipynb',
             'eval_all/chapter_rnn/x.ipynb', 'rst_all/chapter_rnn/x.rst',
             'html/chapter_rnn/x.html', 'html/chapter_rnn/x.ipynb',
             'html/chapter_rnn/y.html']
    for name in built:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text('old')
    # A seed's failed section takes only its own notebook, not the book's
    # pages.
    monkeypatch.setattr(evaluate, 'EVAL_DIR', str(tmp_path / 'seed1' / 'eval'))
    seed_built = ['seed1/eval/chapter_rnn/x.ipynb',
                  'seed1/eval_pytorch/chapter_rnn/x.ipynb']
    for name in seed_built:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text('old')
    evaluate.remove_stale('chapter_rnn/x.md', 'pytorch')
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob('*.*'))
    assert left == sorted(built + seed_built[:1])
    monkeypatch.setattr(evaluate, 'EVAL_DIR', str(tmp_path / 'eval'))
    evaluate.remove_stale('chapter_rnn/x.md', 'pytorch')
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob('*.*'))
    # The other tab's notebook is still current.
    assert left == ['eval/chapter_rnn/x.ipynb', 'html/chapter_rnn/y.html',
                    'seed1/eval/chapter_rnn/x.ipynb']


def test_only_reading_sections_depend_on_saved_histories():
    # rnn-scratch saves a history; it must not be re-run because a
    # history (with its measured speed) changed.
    assert evaluate.results_of('chapter_rnn/rnn-scratch.md') == []
    # tools defines both and runs them on a toy history in a temporary
    # folder: no history of the book can make it run again.
    assert evaluate.results_of('chapter_rnn/tools.md') == []
    # gru quotes the ReLU RNN's best (rnn-gluon's histories), lstm the
    # control's and the GRU's (gru's): only the histories they name, not
    # their own, which change with every run.
    assert [os.path.basename(path) for path in evaluate.results_of(
        'chapter_rnn/gru.md')] == ['rnn-gluon.json', 'rnn-jax.json',
                                   'rnn-pytorch.json']
    results = {os.path.basename(path) for path in
               evaluate.results_of('chapter_rnn/comparison.md')}
    assert {'rnn-scratch.json', 'gru-gluon.json', 'lstm-scratch.json',
            'deep-lstm-128-gluon.json'} <= results  # written by the build
    # lstm saves the parameters that decoding reads; it must not depend on
    # them itself.
    assert [os.path.basename(path) for path in evaluate.results_of(
        'chapter_rnn/lstm.md')] == ['gru-gluon.json', 'gru-jax.json',
                                    'gru-pytorch.json',
                                    'rnn-control-gluon.json',
                                    'rnn-control-jax.json',
                                    'rnn-control-pytorch.json']
    results = {os.path.basename(path) for path in
               evaluate.results_of('chapter_rnn/decoding.md')}
    assert {'lstm-gluon.params', 'lstm-gluon.json'} <= results


def test_a_section_that_loads_parameters_reruns_when_they_change(tmp_path):
    reader = tmp_path / 'reader.md'
    reader.write_text("# R\n\n```{.python .input}\n"
                      "gb.load_params('m', model)\n```\n")
    writer = tmp_path / 'writer.md'
    writer.write_text("# W\n\n```{.python .input}\n"
                      "gb.save_params('m', model)\n```\n")
    results = tmp_path / 'results'  # next to the notebooks
    results.mkdir()
    (results / 'm.params').write_bytes(b'1')
    (results / 'h.json').write_text('{}')
    assert evaluate.results_of(str(reader)) == [str(results / 'm.params')]
    assert evaluate.results_of(str(writer)) == []
    reader_digest = evaluate.content_hash(str(reader))
    writer_digest = evaluate.content_hash(str(writer))
    (results / 'm.params').write_bytes(b'2')
    assert evaluate.content_hash(str(reader)) != reader_digest
    assert evaluate.content_hash(str(writer)) == writer_digest


def test_every_tabs_parameters_count_but_not_what_the_section_writes(
        tmp_path):
    # A section that reads parameters by a computed name (the comparison)
    # depends on every tab's (.params, .pt, .npz), but not on the .npz it
    # writes itself (surprisal-<tab>.npz), which would make it never
    # current.
    reader = tmp_path / 'reader.md'
    reader.write_text("# R\n\n```{.python .input}\n"
                      "for name in names:\n"
                      "    gb.load_params(name, model)\n"
                      "np.savez(os.path.join(gb.RESULTS_DIR, "
                      "f'surprisal-{framework}.npz'), x=1)\n```\n")
    results = tmp_path / 'results'
    results.mkdir()
    for name in ['m.params', 'm.pt', 'm.npz', 'surprisal-jax.npz',
                 'surprisal-mxnet.npz']:
        (results / name).write_bytes(b'1')
    assert [os.path.basename(p) for p in evaluate.results_of(str(reader))] \
        == ['m.npz', 'm.params', 'm.pt']


def test_each_tab_runs_its_own_cells_in_its_own_environment(tmp_path):
    section = tmp_path / 'tabs.md'
    section.write_text(
        '# T\n\nShared text.\n\n:begin_tab:`mxnet`\nGluon text.\n:end_tab:'
        '\n\n:begin_tab:`pytorch`\nPyTorch text.\n:end_tab:\n\n'
        ':begin_tab:`jax`\nJAX text.\n:end_tab:\n\n'
        '```{.python .input  n=1}\nimport mxnet\nprint("mx")\n```\n\n'
        '```{.python .input  n=1}\n#@tab pytorch\nprint("pt")\n```\n\n'
        '```{.python .input  n=1}\n#@tab jax\nprint("jx")\n```\n\n'
        '```{.python .input  n=2}\n#@tab all\nprint("both")\n```\n')
    md = str(section)
    outputs, environments = {}, {}
    for tab in evaluate.TABS:
        nb = evaluate.execute(md, tab)
        text = '\n'.join(c.source for c in nb.cells
                         if c.cell_type == 'markdown')
        assert 'Shared text.' in text
        assert ('Gluon text.' in text) == (tab == 'mxnet')
        assert ('PyTorch text.' in text) == (tab == 'pytorch')
        assert ('JAX text.' in text) == (tab == 'jax')
        outputs[tab] = [o['text'] for c in nb.cells
                        if c.cell_type == 'code' for o in c.outputs]
        environments[tab] = nb.metadata['environment']
    assert outputs == {'mxnet': ['mx\n', 'both\n'],
                       'pytorch': ['pt\n', 'both\n'],
                       'jax': ['jx\n', 'both\n']}
    # Each kernel ran in its tab's environment, recorded in the notebook:
    # the PyTorch tab's has numpy 2 and no mxnet, the JAX tab's Python 3.12
    # and neither mxnet nor torch, as a reader's has.
    assert environments['mxnet']['mxnet'] == '1.9.1'
    assert environments['mxnet']['numpy'] == '1.23.5'
    assert environments['pytorch']['mxnet'] is None
    assert environments['pytorch']['torch'].startswith('2.13.0')
    assert environments['pytorch']['numpy'].startswith('2.')
    assert environments['jax']['python'].startswith('3.12.')
    assert environments['jax']['jax'] == '0.12.0.1'
    assert environments['jax']['flax'] == '0.12.12'
    assert environments['jax']['mxnet'] is None
    assert environments['jax']['torch'] is None
    section.write_text('# T\n\n```{.python .input}\n#@tab pytorch\n'
                       'import mxnet\n```\n')
    with pytest.raises(RuntimeError, match="No module named 'mxnet'"):
        evaluate.execute(md, 'pytorch')


def test_every_notebook_of_the_build_ran_in_its_tabs_environment():
    from env_pins import pins
    for tab in evaluate.TABS:
        wanted = pins(evaluate.PINS[tab])
        found = 0
        for md_file in ['index.md'] + make_lib.book_order():
            nb = nbformat.read(evaluate.target_of(md_file, tab), as_version=4)
            if not any(c.cell_type == 'code' for c in nb.cells):
                continue
            found += 1
            env = nb.metadata['environment']
            assert env['numpy'] == wanted['numpy'], (md_file, tab)
            for name in ['mxnet', 'torch', 'jax']:
                assert (env[name] or '').split('+')[0] == wanted.get(
                    name, ''), (md_file, tab, name)
        # Every section has code but the chapter's index page.
        assert found == len(make_lib.book_order()) - 1


def test_a_tab_without_its_kernel_stops_the_build_naming_the_fix(
        monkeypatch):
    monkeypatch.setitem(evaluate.KERNELS, 'pytorch', 'rnn-book-nowhere')
    with pytest.raises(SystemExit) as e:
        evaluate.kernel_of('pytorch')
    assert str(e.value) == (
        "evaluate: the pytorch tab's kernel 'rnn-book-nowhere' is not "
        "registered (its environment is made from build/pins-pytorch.txt): "
        "run `make venv`")


def test_each_kernel_is_its_own_environments_python():
    from jupyter_client.kernelspec import KernelSpecManager
    for tab, venv in [('mxnet', '.venv'), ('pytorch', '.venv-pytorch'),
                      ('jax', '.venv-jax')]:
        spec = KernelSpecManager().get_kernel_spec(evaluate.KERNELS[tab])
        python = os.path.abspath(spec.argv[0])
        assert python == os.path.join(ROOT, venv, 'bin', 'python'), tab


def book_of_its_own(tmp_path, monkeypatch):
    """Make tmp_path the book's root, with a pins file for each tab's
    environment; return {tab: its pins file}."""
    pins = {}
    for tab in evaluate.TABS:
        pins[tab] = tmp_path / evaluate.PINS[tab]
        pins[tab].parent.mkdir(exist_ok=True)
        pins[tab].write_text('# exact pins\nnumpy==1.0\n')
    monkeypatch.setattr(evaluate, 'ROOT', str(tmp_path))
    return pins


def test_a_tab_reruns_for_its_own_module_and_pins_only(tmp_path, monkeypatch):
    section = tmp_path / 'section.md'
    section.write_text('# S\n\n```{.python .input}\n1\n```\n\n'
                       '```{.python .input}\n#@tab pytorch\n2\n```\n\n'
                       '```{.python .input}\n#@tab jax\n3\n```\n')
    modules = {}
    for name in ['gluonbook/chapter_rnn.py', 'gluonbook/torch.py',
                 'gluonbook/jax.py']:
        modules[name] = tmp_path / name
        modules[name].parent.mkdir(exist_ok=True)
        modules[name].write_text('x = 1\n')
    pins = book_of_its_own(tmp_path, monkeypatch)
    monkeypatch.setattr(evaluate, 'RESOURCES', list(modules))
    md = str(section)

    def changed():
        return [tab for tab in evaluate.TABS
                if evaluate.content_hash(md, tab) != before[tab]]

    before = {tab: evaluate.content_hash(md, tab) for tab in evaluate.TABS}
    modules['gluonbook/torch.py'].write_text('x = 2\n')
    assert changed() == ['pytorch']
    # So does a change of its environment's pins; their comments and
    # order do not count.
    modules['gluonbook/torch.py'].write_text('x = 1\n')
    pins['pytorch'].write_text('numpy==1.0\n# pins, sorted\n')
    assert changed() == []
    pins['pytorch'].write_text('numpy==2.0\n')
    assert changed() == ['pytorch']
    pins['pytorch'].write_text('numpy==1.0\n')
    modules['gluonbook/jax.py'].write_text('x = 3\n')
    assert changed() == ['jax']
    modules['gluonbook/jax.py'].write_text('x = 1\n')
    pins['jax'].write_text('numpy==2.5.5\n')
    assert changed() == ['jax']


@pytest.mark.parametrize('tab', make_lib.TABS)
def test_generated_modules_do_nothing_on_import(tab):
    # No seeding, plotting or I/O when gluonbook is imported: the modules'
    # top-level statements only import, define and assign constants.
    import ast
    for node in ast.parse(make_lib.generate(tab)).body:
        assert isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef,
                                 ast.ClassDef, ast.Assign, ast.Expr)), (
            ast.unparse(node))
        if isinstance(node, ast.Expr):  # only the module's docstring
            assert isinstance(node.value, ast.Constant), ast.unparse(node)


def test_a_changed_tab_makes_d2lbook_merge_the_section_again(
        tmp_path, monkeypatch):
    # d2lbook merges a section's tabs into _build/eval_all only when the
    # default tab's notebook is newer than the merged one.
    monkeypatch.setattr(evaluate, 'EVAL_DIR', str(tmp_path / 'eval'))
    md = 'chapter_rnn/s.md'
    paths = {tab: evaluate.target_of(md, tab) for tab in evaluate.TABS}
    for tab, path in paths.items():
        os.makedirs(os.path.dirname(path))
        with open(path, 'w') as f:
            f.write('{}')
    os.utime(paths['mxnet'], (1000, 1000))
    os.utime(paths['pytorch'], (2000, 2000))
    os.utime(paths['jax'], (1500, 1500))
    evaluate.mark_for_merge(md)
    assert os.path.getmtime(paths['mxnet']) == 2000
    os.utime(paths['mxnet'], (3000, 3000))
    evaluate.mark_for_merge(md)  # the default tab is the newest: kept
    assert os.path.getmtime(paths['mxnet']) == 3000


GLUE_SECTION = '''# G

```{.python .input  n=1}
#@tab all
import sys
sys.path.insert(0, %(root)r)
```

```{.python .input  n=2}
from gluonbook.torch import glue
glue('ratio', 6.04, '%%.1f')
glue('same', 2, '%%d')
```

```{.python .input  n=2}
#@tab pytorch
from gluonbook.torch import glue
glue('ratio', 1.26, '%%.1f')
glue('same', 2, '%%d')
```

```{.python .input  n=2}
#@tab jax
from gluonbook.jax import glue
glue('ratio', 2.51, '%%.1f')
glue('same', 2, '%%d')
```

Both tabs agree on :glue:`same`.

:begin_tab:`mxnet`
Gluon trained :glue:`ratio` times as fast.
:end_tab:

:begin_tab:`pytorch`
PyTorch trained :glue:`ratio` times as fast.
:end_tab:

:begin_tab:`jax`
JAX trained :glue:`ratio` times as fast.
:end_tab:
'''


def glue_section(tmp_path, monkeypatch, text):
    """A section in a book of its own, in tmp_path; its name."""
    book_of_its_own(tmp_path, monkeypatch)
    monkeypatch.setattr(evaluate, 'RESOURCES', [])
    monkeypatch.setattr(evaluate, 'EVAL_DIR', str(tmp_path / 'eval'))
    section = tmp_path / 'chapter_rnn' / 'glue.md'
    section.parent.mkdir()
    section.write_text(text)
    return 'chapter_rnn/glue.md'


def test_glued_values_reach_the_text_of_their_own_tab(tmp_path, monkeypatch):
    md = glue_section(tmp_path, monkeypatch, GLUE_SECTION % {'root': ROOT})
    section = tmp_path / md
    for tab in evaluate.TABS:
        evaluate.evaluate(md, tab)
        nb = nbformat.read(evaluate.target_of(md, tab), as_version=4)
        text = '\n'.join(c.source for c in nb.cells
                         if c.cell_type == 'markdown')
        ratio = {'mxnet': '6.0', 'pytorch': '1.3', 'jax': '2.5'}[tab]
        assert f'trained {ratio} times as fast' in text
        assert 'Both tabs agree on 2.' in text and ':glue:' not in text
        assert nb.metadata['glue'] == {'ratio': ratio, 'same': '2'}
        # The records leave the outputs: the page shows no trace of them.
        assert not [o for c in nb.cells if c.cell_type == 'code'
                    for o in c.outputs]
    evaluate.check_shared_text(md, evaluate.TABS)
    # New prose is glued from the recorded values, without running.
    section.write_text(section.read_text().replace(
        'as fast.\n:end_tab:\n\n:begin_tab:`pytorch`',
        'as fast, here.\n:end_tab:\n\n:begin_tab:`pytorch`'))
    assert evaluate.refresh_text(md, 'mxnet')
    nb = nbformat.read(evaluate.target_of(md, 'mxnet'), as_version=4)
    assert 'trained 6.0 times as fast, here.' in '\n'.join(
        c.source for c in nb.cells)


def test_an_unknown_glue_name_stops_the_build(tmp_path, monkeypatch):
    md = glue_section(tmp_path, monkeypatch, (
        GLUE_SECTION % {'root': ROOT}).replace(
            'PyTorch trained :glue:`ratio`', 'PyTorch trained :glue:`ratoi`'))
    evaluate.evaluate(md, 'mxnet')
    with pytest.raises(SystemExit) as e:
        evaluate.evaluate(md, 'pytorch')
    assert str(e.value) == (
        f'evaluate: FAILED [pytorch] {md} [pytorch]: no cell recorded '
        ':glue:`ratoi` (gb.glue recorded: ratio, same)')
    assert not os.path.exists(evaluate.target_of(md, 'pytorch'))


def test_a_value_glued_into_shared_text_must_agree(tmp_path, monkeypatch):
    md = glue_section(tmp_path, monkeypatch, (
        GLUE_SECTION % {'root': ROOT}).replace(
            'agree on :glue:`same`', 'agree on :glue:`ratio`'))
    for tab in evaluate.TABS:
        evaluate.evaluate(md, tab)
    with pytest.raises(evaluate.GlueError, match=r'glue\.md: text that the '
                       r'tabs share reads differently in mxnet and pytorch'):
        evaluate.check_shared_text(md, evaluate.TABS)


def test_glue_names_are_checked():
    from gluonbook.torch import glue
    for name in ('Speedup', '2x', 'speed up', ''):
        with pytest.raises(ValueError, match='a glue name is lower case'):
            glue(name, 1.0)


def test_markup_left_as_text_stops_the_build(tmp_path, capsys):
    # d2lbook leaves $k$ inside *emphasis* as ":math:`k`" text; a role
    # nothing resolved shows as itself. The build fails, naming the page
    # and the text; code cells and outputs may show anything.
    import finish_html
    assert finish_html.raw_markup(
        '<p>and <em>top-:math:`k` sampling</em> keeps</p>'
        '<pre>:label:`in_code`</pre>') == [
            'and top-:math:`k` sampling keeps']
    for role in ['numref', 'label', 'glue', 'math']:
        assert finish_html.raw_markup(f'<li>see :{role}:`x`</li>')
    assert finish_html.raw_markup(
        '<p>Section 1.3, <span class="math">\\(k\\)</span></p>') == []
    (tmp_path / 'chapter_rnn').mkdir()
    (tmp_path / 'index.html').write_text('<p>fine</p>')
    (tmp_path / 'chapter_rnn' / 'gru.html').write_text(
        '<p>a :glue:`speedup` times faster</p>')
    with pytest.raises(SystemExit) as failed:
        finish_html.check_raw_markup(str(tmp_path))
    assert 'chapter_rnn/gru.html: ...a :glue:`speedup` times' in str(
        failed.value)
    assert 'index.html' not in str(failed.value)


def test_a_role_that_d2lbook_drops_stops_the_build():
    # d2lbook leaves a :glue: that nothing filled in out of the page
    # without a word; the build names the page and the role instead.
    import finish_html
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        'See :numref:`sec_rnn`, :citet:`Cho.2014`; '
        'a :glue:`speedup` times speedup.')])
    with pytest.raises(SystemExit) as failed:
        finish_html.check_roles({'mxnet': {'chapter_rnn/gru.ipynb': nb}})
    assert 'chapter_rnn/gru.html [mxnet]: :glue:`speedup`' in str(
        failed.value)
    assert 'numref' not in str(failed.value)
    nb.cells[0].source = 'See :numref:`sec_rnn`.'
    finish_html.check_roles({'mxnet': {'chapter_rnn/gru.ipynb': nb}})


@pytest.mark.parametrize('part', finish_html.INTERACTIVE,
                         ids=lambda part: part.script)
def test_interactive_pages_get_their_script_and_data(tmp_path, part):
    # The decoding page, and only it, loads static/playground.js with each
    # tab's exported weights beside it; the comparison page loads
    # static/surprisal.js with each tab's surprisal data. Without the
    # section's label or a data file the build stops, naming what is
    # missing.
    folder, results = tmp_path / 'html', tmp_path / 'results'
    (folder / 'chapter_rnn').mkdir(parents=True)
    (folder / '_static').mkdir()
    results.mkdir()
    page = folder / part.page
    page.write_text('<body><section><span id="other"></span></section>'
                    '</body>')
    with pytest.raises(SystemExit, match=part.anchor.replace('-', '_')):
        finish_html.add_interactive(str(folder), str(results), part)
    page.write_text(f'<body><section><span id="{part.anchor}">'
                    '</span><h2>Part</h2></section></body>')
    *first, last = part.files  # one file a tab
    assert len(part.files) == len(evaluate.TABS)
    for name in first:
        (results / name).write_text('// ' + name)
    with pytest.raises(SystemExit, match=re.escape(
            f'{last} is missing: the section of {part.page} writes it '
            f'({part.writer})')):
        finish_html.add_interactive(str(folder), str(results), part)
    (results / last).write_text('// last')
    finish_html.add_interactive(str(folder), str(results), part)
    assert page.read_text().endswith(
        f'<script src="../_static/{part.script}"></script>\n</body>')
    assert (folder / '_static' / part.script).read_text() == open(
        os.path.join(ROOT, 'static', part.script)).read()
    for name in part.files:
        assert (folder / 'chapter_rnn' / name).read_text() == (
            results / name).read_text()


def test_pages_are_published_only_when_finished(tmp_path):
    # d2lbook writes its pages aside (config.ini's html_dir), never where
    # readers open them; finish_html moves the finished copy into place,
    # replacing the old pages whole.
    import configparser
    import finish_html
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, 'config.ini'))
    html_dir = os.path.abspath(os.path.join(ROOT,
                                            config['build']['html_dir']))
    assert html_dir not in (finish_html.HTML_DIR, finish_html.WORK_DIR)
    target = tmp_path / 'html'
    target.mkdir()
    (target / 'old.html').write_text('old')
    finished = tmp_path / 'html.partial'
    finished.mkdir()
    (finished / 'index.html').write_text('new')
    finish_html.publish(str(finished), str(target))
    assert sorted(os.listdir(tmp_path)) == ['html']
    assert sorted(os.listdir(target)) == ['index.html']
    finished.mkdir()  # a first build: nothing to replace
    (finished / 'index.html').write_text('newer')
    finish_html.publish(str(finished), str(tmp_path / 'first'))
    assert (tmp_path / 'first' / 'index.html').read_text() == 'newer'


def test_the_busy_profile_keeps_a_core_busy_during_the_build_only(
        monkeypatch):
    import subprocess
    import robustness
    seen = {}
    real_popen = subprocess.Popen

    def popen(*args, **kwargs):
        seen['busy'] = real_popen(*args, **kwargs)
        return seen['busy']

    def run(command, **kwargs):
        # The build runs while the loop spins, everything forced, in the
        # profile's own folder.
        seen['command'] = command
        seen['spinning'] = seen['busy'].poll() is None
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(robustness.subprocess, 'Popen', popen)
    monkeypatch.setattr(robustness.subprocess, 'run', run)
    robustness.build(0, 'busy')
    assert seen['spinning']
    assert seen['command'][-5:] == ['--seed', '0', '--profile', 'busy',
                                    '--force']
    assert seen['busy'].poll() is not None  # stopped after the build
    assert robustness.eval_dir(0, 'busy').endswith('busy-seed0/eval')
    assert robustness.eval_dir(0, 'default') == robustness.EVAL_DIR
