"""Execute the book's sections into notebooks under _build/eval.

d2lbook would evaluate them too, but it runs two notebooks at once on two
CPU workers (so timings printed by one section depend on the other), it
decides what is stale from file times only (so a changed gluonbook does
not re-run the sections that import it), and it reports a failing cell
without naming it. This script runs before `d2lbook build html`:

* sections run one at a time, in book order;
* a section is re-run when its Markdown, gluonbook or the data changed,
  or, for a section that reads training histories saved by earlier ones
  (`gb.load_history`), when one of those changed (a content hash stored
  in the notebook's metadata decides);
* a notebook is written only once all its cells ran, by an atomic rename,
  so an interrupted build leaves no half-written notebook behind;
* a failing cell stops the build, names the section and the cell, and
  removes that section's old notebook, rst and html so that nothing stale
  looks current.

    python build/evaluate.py [SECTION.md ...]
"""
import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import sys
import time

from make_lib import ROOT, book_order

BUILD = os.path.join(ROOT, '_build')
EVAL_DIR = os.path.join(BUILD, 'eval')
# Copied next to the notebooks, so `sys.path.insert(0, '..')` finds them.
RESOURCES = ['gluonbook/__init__.py', 'gluonbook/chapter_rnn.py',
             'data/timemachine.txt']
CELL_TIMEOUT = 20 * 60  # seconds, the same limit d2lbook uses
ANSI_COLOR = re.compile(r'\x1b\[[0-9;]*m')


def results_of(md_file):
    """The saved training histories a section reads (gb.load_history)."""
    with open(os.path.join(ROOT, md_file)) as f:
        if 'gb.load_history(' not in f.read():
            return []
    folder = os.path.join(os.path.dirname(target_of(md_file)), 'results')
    return sorted(glob.glob(os.path.join(folder, '*.json')))


def content_hash(md_file):
    """Hash a section together with everything its cells import or read."""
    sha1 = hashlib.sha1()
    for name in [md_file] + RESOURCES:
        with open(os.path.join(ROOT, name), 'rb') as f:
            sha1.update(name.encode() + b'\0' + f.read() + b'\0')
    # Histories saved by earlier sections, which ran before this one.
    for path in results_of(md_file):
        with open(path, 'rb') as f:
            sha1.update(os.path.basename(path).encode() + b'\0' + f.read())
    return sha1.hexdigest()


def target_of(md_file):
    return os.path.join(EVAL_DIR, md_file[:-len('.md')] + '.ipynb')


def is_current(md_file, digest):
    target = target_of(md_file)
    if not os.path.exists(target):
        return False
    with open(target) as f:
        metadata = json.load(f).get('metadata', {})
    if metadata.get('build', {}).get('source_sha1') != digest:
        return False
    # d2lbook compares file times: keep it from re-running this section.
    source_time = os.path.getmtime(os.path.join(ROOT, md_file))
    if os.path.getmtime(target) < source_time:
        now = max(time.time(), source_time)
        os.utime(target, (now, now))
    return True


def copy_resources():
    for name in RESOURCES:
        target = os.path.join(EVAL_DIR, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(ROOT, name), target)


def remove_stale(md_file):
    """Remove every built file of a section that failed."""
    stem = md_file[:-len('.md')]
    for pattern in [f'eval/{stem}.ipynb', f'rst/{stem}.rst',
                    f'html/{stem}.html', f'html/{stem}.ipynb',
                    f'ipynb/{stem}.ipynb']:
        for path in glob.glob(os.path.join(BUILD, pattern)):
            os.remove(path)


def describe(cell):
    n = cell.metadata.get('attributes', {}).get('n', '?')
    first = cell.source.strip().splitlines()[0] if cell.source.strip() else ''
    return f'cell n={n} ({first!r})'


def run_cells(nb, md_file):
    """Execute the cells of nb in place; raise RuntimeError on an error."""
    # Imported here, when a section runs: they take seconds to import, and
    # a build with nothing to run should not wait for them.
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    workdir = os.path.dirname(target_of(md_file))
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name='python3',
                            resources={'metadata': {'path': workdir}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as e:
                raise RuntimeError(f'{md_file}: {describe(cell)} failed:\n'
                                   + ANSI_COLOR.sub('', str(e))) from None


def execute(md_file):
    """Run one section; return its notebook or raise RuntimeError."""
    from d2lbook import notebook

    with open(os.path.join(ROOT, md_file)) as f:
        nb = notebook.read_markdown(f.read())
    os.makedirs(os.path.dirname(target_of(md_file)), exist_ok=True)
    nb.metadata['language_info'] = {'name': 'python'}
    if any(cell.cell_type == 'code' for cell in nb.cells):
        run_cells(nb, md_file)
    for cell in nb.cells:
        # The HTML shows stdout only; keep what cells print to stderr.
        for out in cell.get('outputs', []):
            if out.get('name') == 'stderr':
                out['name'] = 'stdout'
    return nb


def write_atomically(nb, target):
    import nbformat  # slow to import; needed only when a section ran

    tmp = target + '.partial'
    with open(tmp, 'w') as f:
        nbformat.write(nb, f)
    os.replace(tmp, target)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('sections', nargs='*',
                        help='only these .md files (default: all, in order)')
    parser.add_argument('--force', action='store_true',
                        help='re-run even the sections that are current')
    args = parser.parse_args()
    sections = ['index.md'] + book_order()
    if args.sections:
        sections = [os.path.relpath(os.path.abspath(s), ROOT)
                    for s in args.sections]
    copy_resources()
    total = time.time()
    for md_file in sections:
        digest = content_hash(md_file)
        if not args.force and is_current(md_file, digest):
            print(f'evaluate: {md_file} is up to date')
            continue
        print(f'evaluate: running {md_file} ...', flush=True)
        start = time.time()
        try:
            nb = execute(md_file)
        except RuntimeError as e:
            remove_stale(md_file)
            sys.exit(f'evaluate: FAILED {e}')
        nb.metadata['build'] = {'source_sha1': digest}
        write_atomically(nb, target_of(md_file))
        print(f'evaluate: {md_file} done in {time.time() - start:.0f} s',
              flush=True)
    print(f'evaluate: finished in {time.time() - total:.0f} s')


if __name__ == '__main__':
    main()
