"""Generate gluonbook/'s modules from the chapter's ``#@save`` cells.

The book has three tabs (d2lbook's tab mode): a code cell with no ``#@tab``
line belongs to the default tab, mxnet; a cell whose first line is
``#@tab pytorch`` to the PyTorch tab, ``#@tab jax`` to the JAX tab,
``#@tab pytorch, jax`` to both of those; ``#@tab all`` to every tab. A cell whose
first line (after its ``#@tab`` line, if any) is ``#@save`` is copied whole,
in book order (the order of the ``toc`` blocks in index.md and
chapter_rnn/index.md), under a comment naming the section it came from,
into the module of each tab it belongs to:

    mxnet    gluonbook/chapter_rnn.py   (import gluonbook as gb)
    pytorch  gluonbook/torch.py         (from gluonbook import torch as gb)
    jax      gluonbook/jax.py           (from gluonbook import jax as gb)

    python build/make_lib.py          # rewrite the generated modules
    python build/make_lib.py --check  # fail, naming definitions, on drift
"""
import argparse
import ast
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABS = ['mxnet', 'pytorch', 'jax']  # the first is the default tab
LIB_FILES = {'mxnet': os.path.join('gluonbook', 'chapter_rnn.py'),
             'pytorch': os.path.join('gluonbook', 'torch.py'),
             'jax': os.path.join('gluonbook', 'jax.py')}
SAVE_MARK = '#@save'
TAB_MARK = re.compile(r'^# *@tab +([\w, ]+)$')
LATE_TAB_MARK = re.compile(r'^\s*(# *@tab|%%tab)\b')
CELL = re.compile(r'^```\{\.python \.input[^}]*\}\n(.*?)^```$',
                  re.MULTILINE | re.DOTALL)
TOC = re.compile(r'^```toc\n(.*?)^```$', re.MULTILINE | re.DOTALL)
HEADERS = {'mxnet': '''\
# Generated from chapter_rnn/ by build/make_lib.py: edit the chapter, not
# this file. Each block below is a `#@save` cell, in book order.
"""The helpers that the RNN chapter saves for later sections."""
import sys

# Saved code calls other helpers as `gb.name`, exactly as the book does.
gb = sys.modules[__name__]
''', 'pytorch': '''\
# Generated from chapter_rnn/ by build/make_lib.py: edit the chapter, not
# this file. Each block below is a `#@save` cell of the PyTorch tab (or of
# every tab), in book order. It never imports mxnet.
"""The PyTorch helpers that the RNN chapter saves for later sections."""
import sys

# Saved code calls other helpers as `gb.name`, exactly as the book does.
gb = sys.modules[__name__]
''', 'jax': '''\
# Generated from chapter_rnn/ by build/make_lib.py: edit the chapter, not
# this file. Each block below is a `#@save` cell of the JAX tab (or of
# every tab), in book order. It never imports mxnet or torch.
"""The JAX helpers that the RNN chapter saves for later sections."""
import sys

# Saved code calls other helpers as `gb.name`, exactly as the book does.
gb = sys.modules[__name__]
'''}


def book_order(index='index.md'):
    """Return the Markdown files listed by the toc blocks, depth first."""
    with open(os.path.join(ROOT, index)) as f:
        text = f.read()
    files = []
    folder = os.path.dirname(index)
    for block in TOC.findall(text):
        for line in block.splitlines():
            line = line.strip()
            if not line or line.startswith(':'):
                continue
            name = os.path.join(folder, line + '.md')
            files.append(name)
            if os.path.basename(name) == 'index.md':
                files.extend(book_order(name))
    return files


def section_title(text):
    for line in text.splitlines():
        if line.startswith('# '):
            return line[2:].strip()
    return ''


def cell_tabs(lines):
    """The tabs a code cell belongs to, and its lines without the mark."""
    # d2lbook finds a tab mark anywhere in a cell; this reads only the
    # first line, so a mark further down would send the cell to the wrong
    # module.
    for line in lines[1:]:
        if LATE_TAB_MARK.match(line):
            sys.exit(f'make_lib: {line.strip()!r} must be the first line of '
                     f'its code cell (the cell starts {lines[0]!r})')
    m = TAB_MARK.match(lines[0].strip()) if lines else None
    if not m:
        return [TABS[0]], lines
    tabs = [t.strip() for t in m.group(1).split(',')]
    unknown = [t for t in tabs if t not in TABS + ['all']]
    if unknown:
        sys.exit(f'make_lib: unknown tab {unknown[0]!r} in {lines[0]!r}')
    return (TABS if tabs == ['all'] else tabs), lines[1:]


def saved_cells(md_file, tab=TABS[0]):
    """Yield the source of each `#@save` cell of one section and tab."""
    with open(os.path.join(ROOT, md_file)) as f:
        text = f.read()
    for source in CELL.findall(text):
        tabs, lines = cell_tabs(source.rstrip('\n').split('\n'))
        if tab in tabs and lines and lines[0].strip() == SAVE_MARK:
            yield '\n'.join(lines[1:]).strip('\n')


def generate(tab=TABS[0]):
    """Return the text of one tab's generated module."""
    blocks, names = [], []
    for md_file in book_order():
        with open(os.path.join(ROOT, md_file)) as f:
            title = section_title(f.read())
        for source in saved_cells(md_file, tab):
            blocks.append(f'# --- {md_file}\n# {title}\n{source}\n')
            names += public_names(source)
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        sys.exit(f'make_lib: {tab} tab: saved more than once: '
                 f'{", ".join(dup)}')
    all_names = ''.join(f'    {n!r},\n' for n in names)
    return (HEADERS[tab] + '\n\n' + '\n\n'.join(blocks) +
            f'\n\n__all__ = [\n{all_names}]\n')


def public_names(source):
    names = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return [n for n in names if not n.startswith('_')]


def definitions(text):
    """Map each top-level name to the source of its statement."""
    result = {}
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            result[node.name] = ast.get_source_segment(text, node)
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    result[t.id] = ast.get_source_segment(text, node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            result['import: ' + ast.unparse(node)] = ''
    return result


def check(tab, path=None):
    """Return True if tab's module (or path) matches the chapter; print what
    differs."""
    expected = generate(tab)
    lib_file = LIB_FILES[tab]
    try:
        with open(path or os.path.join(ROOT, lib_file)) as f:
            actual = f.read()
    except FileNotFoundError:
        print(f'check-lib: {lib_file} is missing; run `make lib`')
        return False
    if actual == expected:
        print(f'check-lib: {lib_file} matches the chapter')
        return True
    new, old = definitions(expected), definitions(actual)
    differ = sorted(n for n in new.keys() | old.keys()
                    if new.get(n) != old.get(n))
    for name in differ:
        state = ('only in the chapter' if name not in old else
                 'only in gluonbook' if name not in new else 'differs')
        print(f'check-lib: {lib_file}: {name}: {state}')
    if not differ:
        print(f'check-lib: {lib_file}: no definition differs, but the text '
              'does (order, comments or blank lines)')
    print(f'check-lib: {lib_file} is out of date; run `make lib`')
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--check', action='store_true',
                        help='compare instead of writing')
    args = parser.parse_args()
    if args.check:
        # Check every tab before failing, so one run names all drift.
        if not all([check(tab) for tab in TABS]):
            sys.exit(1)
        return
    texts = {tab: generate(tab) for tab in TABS}  # fail before writing
    for tab, text in texts.items():
        with open(os.path.join(ROOT, LIB_FILES[tab]), 'w') as f:
            f.write(text)
        print(f'make_lib: wrote {LIB_FILES[tab]}')


if __name__ == '__main__':
    main()
