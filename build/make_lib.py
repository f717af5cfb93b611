"""Generate gluonbook/chapter_rnn.py from the chapter's ``#@save`` cells.

A code cell whose first line is ``#@save`` is copied whole, in book order
(the order of the ``toc`` blocks in index.md and chapter_rnn/index.md), under
a comment naming the section it came from.

    python build/make_lib.py          # rewrite the generated module
    python build/make_lib.py --check  # fail, naming definitions, on drift
"""
import argparse
import ast
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB_FILE = os.path.join('gluonbook', 'chapter_rnn.py')
SAVE_MARK = '#@save'
CELL = re.compile(r'^```\{\.python \.input[^}]*\}\n(.*?)^```$',
                  re.MULTILINE | re.DOTALL)
TOC = re.compile(r'^```toc\n(.*?)^```$', re.MULTILINE | re.DOTALL)
HEADER = '''\
# Generated from chapter_rnn/ by build/make_lib.py: edit the chapter, not
# this file. Each block below is a `#@save` cell, in book order.
"""The helpers that the RNN chapter saves for later sections."""
import sys

# Saved code calls other helpers as `gb.name`, exactly as the book does.
gb = sys.modules[__name__]
'''


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


def saved_cells(md_file):
    """Yield the source of each `#@save` cell of one section."""
    with open(os.path.join(ROOT, md_file)) as f:
        text = f.read()
    for source in CELL.findall(text):
        lines = source.rstrip('\n').split('\n')
        if lines[0].strip() == SAVE_MARK:
            yield '\n'.join(lines[1:]).strip('\n')


def generate():
    """Return the text of the generated module."""
    blocks, names = [], []
    for md_file in book_order():
        with open(os.path.join(ROOT, md_file)) as f:
            title = section_title(f.read())
        for source in saved_cells(md_file):
            blocks.append(f'# --- {md_file}\n# {title}\n{source}\n')
            names += public_names(source)
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        sys.exit(f'make_lib: saved more than once: {", ".join(dup)}')
    all_names = ''.join(f'    {n!r},\n' for n in names)
    return (HEADER + '\n\n' + '\n\n'.join(blocks) +
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


def check(path):
    expected = generate()
    try:
        with open(path) as f:
            actual = f.read()
    except FileNotFoundError:
        sys.exit(f'check-lib: {LIB_FILE} is missing; run `make lib`')
    if actual == expected:
        print(f'check-lib: {LIB_FILE} matches the chapter')
        return
    new, old = definitions(expected), definitions(actual)
    differ = sorted(n for n in new.keys() | old.keys()
                    if new.get(n) != old.get(n))
    for name in differ:
        state = ('only in the chapter' if name not in old else
                 'only in gluonbook' if name not in new else 'differs')
        print(f'check-lib: {name}: {state}')
    if not differ:
        print('check-lib: no definition differs, but the text does '
              '(order, comments or blank lines)')
    sys.exit(f'check-lib: {LIB_FILE} is out of date; run `make lib`')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--check', action='store_true',
                        help='compare instead of writing')
    args = parser.parse_args()
    path = os.path.join(ROOT, LIB_FILE)
    if args.check:
        check(path)
    else:
        with open(path, 'w') as f:
            f.write(generate())
        print(f'make_lib: wrote {LIB_FILE}')


if __name__ == '__main__':
    main()
