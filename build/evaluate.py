"""Execute the book's sections, in every tab, into notebooks under _build.

d2lbook would evaluate them too, but it runs two notebooks at once on two
CPU workers (so timings printed by one section depend on the other), it
decides what is stale from file times only (so a changed gluonbook does
not re-run the sections that import it), and it reports a failing cell
without naming it. This script runs before `d2lbook build html --tab all`, which merges the
three tabs' notebooks into one page each:

* each section is split into its tabs as d2lbook splits it (cells marked
  `#@tab pytorch`, `#@tab jax` or `#@tab all`, `:begin_tab:` blocks); the
  mxnet tab (the default) goes to _build/eval, the others to
  _build/eval_pytorch and _build/eval_jax;
* sections run one at a time, in book order, each in every tab;
* each tab runs in its own environment's kernel (KERNELS: rnn-book-mxnet
  from .venv, rnn-book-pytorch from .venv-pytorch, which has no mxnet and
  numpy 2, as a reader of that tab has, rnn-book-jax from .venv-jax,
  Python 3.12 with neither mxnet nor torch; `make venv` creates and
  registers them), and the notebook records what the kernel ran (Python, numpy, the
  frameworks: metadata.environment); a change of a tab's pins
  re-runs that tab;
* every tab saves training histories and parameters into one results/
  folder (eval_pytorch's and eval_jax's results/ link to eval's), so that a section can
  set the frameworks side by side;
* a section is re-run when its code cells, gluonbook or the data changed,
  or, for a section that reads training histories or model parameters
  saved by earlier ones (`gb.load_history`, `gb.load_params`), when one
  of those changed (a content hash stored in the notebook's metadata
  decides); when only its prose changed, the notebook's text cells are
  replaced and its outputs kept;
* a long section shows its progress: the training lines as they are
  printed, and each slow cell's number and time;
* a notebook is written only once all its cells ran, by an atomic rename,
  so an interrupted build leaves no half-written notebook behind;
* when a tab's notebook changed, the default tab's gets its time, so that
  `d2lbook build html --tab all` merges the section's tabs again (it
  looks at the default tab's notebooks only);
* a failing cell stops the build, names the section and the cell, and
  removes that section's old notebook, rst and html so that nothing stale
  looks current;
* numbers in the prose come from the build (glue): a cell records a value
  with `gb.glue(name, value, fmt)`, and the section's text in that tab
  says :glue:`name`. The recorded values move from the cells' outputs to
  the notebook's metadata (`glue`), and every :glue:`name` in the tab's
  text is replaced by the value, in the notebook that d2lbook turns into
  HTML and finish_html.py into the readers' notebooks. A reference to a
  name that no cell of the tab recorded stops the build, naming the
  section; so does a value glued into prose that the tabs share (outside
  a `:begin_tab:` block) that differs between the tabs, since the page
  shows that prose once.

    python build/evaluate.py [--tab TAB] [SECTION.md ...]
    python build/evaluate.py --seed 1   # into _build/seed1/eval{,_pytorch}
    python build/evaluate.py --seed 0 --profile isa  # _build/isa-seed0/...

With --seed N the notebooks run with RNN_BOOK_SEED=N, which `gb.set_seed`
reads, and go to a folder of their own; with --profile as well, the
kernels run in the environment of an emulated other machine (PROFILES).
`make robustness` checks the book's claims on such builds.
"""
import argparse
import fnmatch
import glob
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time

from make_lib import ROOT, book_order

BUILD = os.path.join(ROOT, '_build')
EVAL_DIR = os.path.join(BUILD, 'eval')  # the default tab's; see eval_dir()
TABS = ['mxnet', 'pytorch', 'jax']  # as config.ini's `tabs`; the first is default
SEED_VARIABLE = 'RNN_BOOK_SEED'
# Emulated other machines, for `make robustness`: the environment of the
# kernels (None removes a variable). `busy` is this machine with one core
# kept busy, which build/robustness.py does around the build.
AVX2 = 'AVX2'
PROFILES = {
    'default': {},
    # The math libraries limited to AVX2, as on a machine without AVX-512.
    # On our AVX-512 AMD machine three of these change the digits: MXNet
    # 1.9.1's oneDNN reads DNNL_MAX_CPU_ISA (its fused RNN and LSTM
    # layers), PyTorch 2.13's oneDNN reads ONEDNN_MAX_CPU_ISA (nn.LSTM)
    # and ATEN_CPU_CAPABILITY sets PyTorch's own kernels (log_softmax). MKL
    # takes its AVX2 path on an AMD CPU anyway, and MXNet's matrix
    # products did not change with OPENBLAS_CORETYPE; both are set for
    # the Intel machines where they may matter.
    # XLA, JAX's compiler, reads --xla_cpu_max_isa from XLA_FLAGS (an
    # unknown value gets a warning, AVX2 none).
    'isa': {'OPENBLAS_CORETYPE': 'Haswell', 'DNNL_MAX_CPU_ISA': AVX2,
            'ONEDNN_MAX_CPU_ISA': AVX2, 'MKL_ENABLE_INSTRUCTIONS': AVX2,
            'ATEN_CPU_CAPABILITY': 'avx2',
            'XLA_FLAGS': '--xla_cpu_max_isa=' + AVX2},
    # The libraries' own choice, one thread per core, as in a reader's
    # Jupyter (the build's kernels run one thread each: KERNEL_THREADS).
    'allthreads': {'OMP_NUM_THREADS': None, 'MKL_NUM_THREADS': None},
    'busy': {},
}
# Every kernel of the build runs its math libraries (OpenMP, MKL) on one
# thread, unless OMP_NUM_THREADS is set already. On our 2-core machine a
# training step of PyTorch's RNN took about as long with one thread as
# with two when nothing else ran (14 ms against 13), but with one core
# kept busy by another process two threads took 33 to 41 ms (and up to
# 390), one thread 11 ms: a thread that waits for a busy core stalls the
# other. MXNet's speeds did not depend on it (docs/measurements.md). XLA,
# which runs the JAX tab, ignores these variables and keeps its own
# thread pool: a jitted step of the scratch RNN (32 x 35, 256 units) took
# a median 5.3 ms quiet and 5.8 ms with one core busy on its default
# threads, 6.2 and 5.6 ms on one (XLA_FLAGS), so it keeps its default.
KERNEL_THREADS = {'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}
# Each tab's kernel, registered in .venv by `make venv`, and the pins of its
# environment (part of a section's content hash).
KERNELS = {tab: f'rnn-book-{tab}' for tab in ['mxnet', 'pytorch', 'jax']}
PINS = {'mxnet': 'requirements.txt', 'pytorch': 'build/pins-pytorch.txt',
        'jax': 'build/pins-jax.txt'}
# Run in a tab's kernel after its cells: what the environment holds (the
# version of the distribution that provides each module, mxnet-cu112's
# for mxnet too), without importing anything.
ENVIRONMENT_PROBE = '''\
import importlib.metadata as _m, json as _json, sys as _sys
def _version(module):
    names = _m.packages_distributions().get(module)
    return _m.version(names[0]) if names else None
print(_json.dumps({'python': _sys.version.split()[0], **{
    name: _version(name) for name in
    ['numpy', 'mxnet', 'torch', 'jax', 'flax', 'optax']}}))
'''
# Copied next to the notebooks, so `sys.path.insert(0, '..')` finds them.
RESOURCES = ['gluonbook/__init__.py', 'gluonbook/chapter_rnn.py',
             'gluonbook/torch.py', 'gluonbook/jax.py', 'data/timemachine.txt']
LIBS = ['gluonbook/chapter_rnn.py', 'gluonbook/torch.py', 'gluonbook/jax.py']
CELL_TIMEOUT = 20 * 60  # seconds, the same limit d2lbook uses
ANSI_COLOR = re.compile(r'\x1b\[[0-9;]*m')
SLOW_CELL = 10  # seconds; a cell that takes longer is reported
# What gb.glue(name, value, fmt) displays, and how the text refers to it.
GLUE_MIME = 'application/vnd.rnn-book.glue+json'
GLUE_REF = re.compile(r':glue:`([^`]*)`')


def eval_dir(tab):
    """Where a tab's notebooks go: _build/eval, _build/eval_pytorch."""
    return EVAL_DIR if tab == TABS[0] else f'{EVAL_DIR}_{tab}'


def results_of(md_file):
    """The saved histories (gb.load_history) and model parameters
    (gb.load_params) that a section reads, in either tab: the files it
    names, or every one of their kind if it reads a name it computes (the
    comparison's table of runs)."""
    with open(os.path.join(ROOT, md_file)) as f:
        text = f.read()
    folder = os.path.join(os.path.dirname(target_of(md_file)), 'results')
    paths = []
    for call, extensions in [('gb.load_history(', ['.json']),
                             ('gb.load_params(', ['.params', '.pt', '.npz'])]:
        names = re.findall(re.escape(call) + r"'([\w-]+)'", text)
        if text.count(call) > len(names):  # a name held in a variable
            names = ['*']
        for name in names:
            for extension in extensions:
                paths += glob.glob(os.path.join(folder, name + extension))
    # Not what the section writes itself (the comparison's surprisal-<tab>
    # .npz, beside the JAX tab's parameters): it would never be current.
    own = set(re.findall(r"f?'([\w{}-]+)\.npz'", text))
    own = {re.sub(r'\{[^}]*\}', '*', name) for name in own}
    paths = [p for p in paths if not any(
        fnmatch.fnmatch(os.path.basename(p), name + '.npz') for name in own)]
    return sorted(set(paths))


def eval_dir_for_seed(seed, profile='default'):
    """Where a build with another seed or machine profile goes:
    _build/seed<N>/eval, _build/<profile>-seed<N>/eval."""
    folder = f'seed{seed}' if profile == 'default' else f'{profile}-seed{seed}'
    return os.path.join(BUILD, folder, 'eval')


def tab_notebook(md_file, tab):
    """A section's cells of one tab, as d2lbook splits them; None if the
    section has code but none for this tab."""
    from d2lbook import notebook

    with open(os.path.join(ROOT, md_file)) as f:
        nb = notebook.read_markdown(f.read())
    nb = notebook.split_markdown_cell(nb)
    return notebook.get_tab_notebook(nb, tab, TABS[0])


def content_hash(md_file, tab=TABS[0], nb=None):
    """Hash a tab's code together with everything its cells read."""
    if nb is None:
        nb = tab_notebook(md_file, tab)
    sha1 = hashlib.sha1()
    code = '\n'.join(c.source for c in nb.cells if c.cell_type == 'code')
    sha1.update(f'{md_file}:{tab}'.encode() + b'\0' + code.encode() + b'\0')
    # A tab's notebooks never read the other tabs' modules.
    own = {'mxnet': 'gluonbook/chapter_rnn.py', 'pytorch': 'gluonbook/torch.py',
           'jax': 'gluonbook/jax.py'}[tab]
    other = set(LIBS) - {own}
    with open(os.path.join(ROOT, PINS[tab])) as f:
        pins = sorted(line.strip() for line in f
                      if line.strip() and not line.startswith('#'))
    sha1.update('\n'.join(pins).encode() + b'\0')
    for name in RESOURCES:
        if name in other:
            continue
        with open(os.path.join(ROOT, name), 'rb') as f:
            sha1.update(name.encode() + b'\0' + f.read() + b'\0')
    # Histories and parameters saved by earlier sections, which ran
    # before this one.
    for path in results_of(md_file):
        with open(path, 'rb') as f:
            sha1.update(os.path.basename(path).encode() + b'\0' + f.read())
    return sha1.hexdigest()


def target_of(md_file, tab=TABS[0]):
    return os.path.join(eval_dir(tab), md_file[:-len('.md')] + '.ipynb')


def is_current(md_file, digest, tab=TABS[0]):
    target = target_of(md_file, tab)
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


class GlueError(RuntimeError):
    """A :glue: reference that the build cannot resolve."""


def collect_glue(nb, md_file, tab):
    """Move the values that gb.glue displayed from the cells' outputs into
    nb.metadata['glue'] ({name: text}); return them."""
    values = {}
    for cell in nb.cells:
        if cell.cell_type != 'code':
            continue
        kept = []
        for out in cell.get('outputs', []):
            record = out.get('data', {}).get(GLUE_MIME)
            if record is None:
                kept.append(out)
                continue
            if record['name'] in values:
                raise GlueError(f'{md_file} [{tab}]: gb.glue recorded '
                                f'{record["name"]!r} twice')
            values[record['name']] = record['text']
        cell.outputs = kept
    nb.metadata['glue'] = values
    return values


def apply_glue(nb, md_file, tab):
    """Replace every :glue:`name` in nb's text by the value that the tab's
    cells recorded (nb.metadata['glue']); raise GlueError on a name that
    none recorded."""
    values = nb.metadata.get('glue', {})

    def value(match):
        if match.group(1) not in values:
            raise GlueError(
                f'{md_file} [{tab}]: no cell recorded :glue:`'
                f'{match.group(1)}` (gb.glue recorded: '
                f'{", ".join(sorted(values)) or "nothing"})')
        return values[match.group(1)]

    for cell in nb.cells:
        if cell.cell_type == 'markdown':
            cell.source = GLUE_REF.sub(value, cell.source)


def check_shared_text(md_file, tabs):
    """Raise GlueError if text that the tabs share (outside :begin_tab:
    blocks) reads differently in their notebooks: a value glued into it
    differs between the tabs, and the page could show only one."""
    import nbformat

    shared = {}
    for tab in tabs:
        if not os.path.exists(target_of(md_file, tab)):
            continue
        with open(target_of(md_file, tab)) as f:
            nb = nbformat.read(f, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != 'markdown' or 'tab' in cell.metadata:
                continue
            pos = cell.metadata.get('origin_pos')
            other = shared.setdefault(pos, (tab, cell.source))
            if other[1] != cell.source:
                raise GlueError(
                    f'{md_file}: text that the tabs share reads differently '
                    f'in {other[0]} and {tab}: a value glued into it differs '
                    f'(put the sentence in a :begin_tab: block of each tab), '
                    f'or the section changed while the build ran (build '
                    f'again):\n  {other[0]}: {other[1]!r}\n  {tab}: '
                    f'{cell.source!r}')


def refresh_text(md_file, tab=TABS[0], new=None):
    """Put a section's current prose into its tab's notebook, keeping the
    outputs.

    Called with the tab's cells (new) of a section whose code is
    unchanged; returns True if the notebook was rewritten.
    """
    import nbformat

    if new is None:
        new = tab_notebook(md_file, tab)
    target = target_of(md_file, tab)
    with open(target) as f:
        old = nbformat.read(f, as_version=4)
    old_code = [c for c in old.cells if c.cell_type == 'code']
    new_code = [c for c in new.cells if c.cell_type == 'code']
    if [c.source for c in old_code] != [c.source for c in new_code]:
        raise RuntimeError(f'{md_file}: code cells differ from the notebook '
                           'although their hash matches')
    for old_cell, new_cell in zip(old_code, new_code):
        new_cell.outputs = old_cell.outputs
        new_cell.execution_count = old_cell.execution_count
    new.metadata = old.metadata
    apply_glue(new, md_file, tab)
    if [(c.cell_type, c.source, c.metadata) for c in new.cells] == [
            (c.cell_type, c.source, c.metadata) for c in old.cells]:
        return False
    write_atomically(new, target)
    return True


def copy_resources():
    for tab in TABS:
        for name in RESOURCES:
            target = os.path.join(eval_dir(tab), name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(os.path.join(ROOT, name), target)
    # One results/ folder for every tab: the others' link to eval's.
    for folder in {os.path.dirname(f) for f in book_order()}:
        shared = os.path.join(EVAL_DIR, folder, 'results')
        os.makedirs(shared, exist_ok=True)
        for tab in TABS[1:]:
            link = os.path.join(eval_dir(tab), folder, 'results')
            os.makedirs(os.path.dirname(link), exist_ok=True)
            if not os.path.islink(link):
                if os.path.isdir(link):
                    shutil.rmtree(link)
                os.symlink(os.path.relpath(shared, os.path.dirname(link)),
                           link)


def remove_stale(md_file, tab=TABS[0]):
    """Remove every built file of a section whose tab failed: its notebook
    and, in the book's own build (not a seed's), the pages made from it."""
    stem = md_file[:-len('.md')]
    patterns = [f'html/{stem}.html', f'html/{stem}.ipynb',
                f'rst/{stem}.rst', f'rst_all/{stem}.rst',
                f'eval_all/{stem}.ipynb', f'ipynb/{stem}.ipynb']
    if EVAL_DIR != os.path.join(BUILD, 'eval'):
        patterns = []  # a seed's build: the book's pages are not its own
    for path in [target_of(md_file, tab)] + [
            p for pattern in patterns
            for p in glob.glob(os.path.join(BUILD, pattern))]:
        if os.path.exists(path):
            os.remove(path)


def kernel_of(tab):
    """The name of a tab's kernel; exit naming the fix if it is not
    registered."""
    from jupyter_client.kernelspec import KernelSpecManager

    name = KERNELS[tab]
    if name not in KernelSpecManager().find_kernel_specs():
        sys.exit(f'evaluate: the {tab} tab\'s kernel {name!r} is not '
                 f'registered (its environment is made from {PINS[tab]}): '
                 'run `make venv`')
    return name


def describe(cell):
    n = cell.metadata.get('attributes', {}).get('n', '?')
    first = cell.source.strip().splitlines()[0] if cell.source.strip() else ''
    return f'cell n={n} ({first!r})'


class Progress:
    """Print a running section's training lines and slow cells."""

    def __init__(self, nb):
        self.code = [i for i, c in enumerate(nb.cells)
                     if c.cell_type == 'code']
        self.start = self.cell_start = time.time()
        self.index = 0

    def where(self):
        k = self.code.index(self.index) + 1 if self.index in self.code else 0
        elapsed = int(time.time() - self.start)
        return (f'  cell {k} of {len(self.code)}, '
                f'{elapsed // 60}:{elapsed % 60:02d}')

    def cell_started(self, index):
        self.index, self.cell_start = index, time.time()

    def cell_done(self):
        took = time.time() - self.cell_start
        if took >= SLOW_CELL:
            print(f'{self.where()}  done in {took:.0f} s', flush=True)

    def text(self, text):
        for line in text.splitlines():
            if line.startswith('epoch '):
                print(f'{self.where()}  {line}', flush=True)


def run_cells(nb, md_file, tab, progress=None):
    """Execute the cells of nb in place; raise RuntimeError on an error."""
    # Imported here, when a section runs: they take seconds to import, and
    # a build with nothing to run should not wait for them.
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    class Client(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):
            if progress and msg['msg_type'] == 'stream':
                progress.text(msg['content']['text'])
            return super().output(outs, msg, display_id, cell_index)

    workdir = os.path.dirname(target_of(md_file, tab))
    # Local sockets (IPC) rather than TCP on localhost: nothing to listen
    # on, and no kernel warning about unencrypted TCP in every section.
    # The socket files' path must be absolute: the kernel runs in workdir.
    kernel = kernel_of(tab)
    folder = tempfile.mkdtemp(prefix='rnn-book-kernel-')
    km = KernelManager(kernel_name=kernel, transport='ipc',
                       ip=os.path.join(folder, 'kernel'))
    # No execution timestamps in the cells' metadata: the notebook must
    # equal the one refresh_text() makes from the Markdown.
    client = Client(nb, km=km, timeout=CELL_TIMEOUT, record_timing=False,
                    kernel_name=kernel,
                    resources={'metadata': {'path': workdir}})
    try:
        with client.setup_kernel(env=dict(os.environ)):
            for index, cell in enumerate(nb.cells):
                if progress:
                    progress.cell_started(index)
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError as e:
                    raise RuntimeError(
                        f'{md_file}: {describe(cell)} failed:\n'
                        + ANSI_COLOR.sub('', str(e))) from None
                if progress and cell.cell_type == 'code':
                    progress.cell_done()
            nb.metadata['environment'] = probe_environment(client)
    finally:
        # A kernel manager passed in is ours to stop, not nbclient's.
        if km.has_kernel:
            km.shutdown_kernel(now=True)
        shutil.rmtree(folder, ignore_errors=True)


def probe_environment(client):
    """What the kernel of a notebook that just ran has: {'python': '3.11.7',
    'numpy': '1.23.5', 'mxnet': '1.9.1', 'torch': None, ...}."""
    import nbformat

    probe = nbformat.v4.new_code_cell(ENVIRONMENT_PROBE)
    client.nb.cells.append(probe)
    try:
        client.execute_cell(probe, len(client.nb.cells) - 1)
    finally:
        client.nb.cells.pop()
    printed = [out['text'] for out in probe.outputs
               if out.get('name') == 'stdout']
    return json.loads(''.join(printed))


def execute(md_file, tab=TABS[0], show_progress=False, nb=None):
    """Run one section's tab; return its notebook or raise RuntimeError."""
    if nb is None:
        nb = tab_notebook(md_file, tab)
    os.makedirs(os.path.dirname(target_of(md_file, tab)), exist_ok=True)
    nb.metadata['language_info'] = {'name': 'python'}
    if any(cell.cell_type == 'code' for cell in nb.cells):
        run_cells(nb, md_file, tab, Progress(nb) if show_progress else None)
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


def evaluate(md_file, tab, force=False):
    """Run one section's tab unless its notebook is current; return the
    seconds it ran (0 if it was current)."""
    name = f'{md_file} [{tab}]'
    nb = tab_notebook(md_file, tab)
    if nb is None:
        # Like d2lbook: a section with code but none for this tab has no
        # notebook in it (the tests require every section in both).
        print(f'evaluate: {name}: no cells for this tab')
        if os.path.exists(target_of(md_file, tab)):
            os.remove(target_of(md_file, tab))
            if os.path.exists(target_of(md_file, TABS[0])):
                os.utime(target_of(md_file, TABS[0]))  # merge again
        return 0
    digest = content_hash(md_file, tab, nb)
    if not force and is_current(md_file, digest, tab):
        try:
            refreshed = refresh_text(md_file, tab, nb)
        except GlueError as e:
            remove_stale(md_file, tab)
            sys.exit(f'evaluate: FAILED [{tab}] {e}')
        if refreshed:
            print(f'evaluate: {name}: new text, same code and outputs')
        else:
            print(f'evaluate: {name} is up to date')
        return 0
    print(f'evaluate: running {name} ...', flush=True)
    start = time.time()
    try:
        nb = execute(md_file, tab, show_progress=True, nb=nb)
        collect_glue(nb, md_file, tab)
        apply_glue(nb, md_file, tab)
    except RuntimeError as e:
        remove_stale(md_file, tab)
        sys.exit(f'evaluate: FAILED [{tab}] {e}')
    nb.metadata['build'] = {'source_sha1': digest}
    write_atomically(nb, target_of(md_file, tab))
    seconds = time.time() - start
    print(f'evaluate: {name} done in {seconds:.0f} s', flush=True)
    return seconds


def mark_for_merge(md_file):
    """Make d2lbook merge a section's tabs again when another tab's notebook
    changed: `d2lbook build html --tab all` re-merges a page only when the
    default tab's notebook is newer than the merged one."""
    default = target_of(md_file, TABS[0])
    if not os.path.exists(default):
        return
    newest = max(os.path.getmtime(target_of(md_file, tab)) for tab in TABS
                 if os.path.exists(target_of(md_file, tab)))
    if newest > os.path.getmtime(default):
        os.utime(default, (newest, newest))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('sections', nargs='*',
                        help='only these .md files (default: all, in order)')
    parser.add_argument('--force', action='store_true',
                        help='re-run even the sections that are current')
    parser.add_argument('--tab', choices=TABS + ['all'], default='all',
                        help='run only this tab (default: all)')
    parser.add_argument('--seed', type=int,
                        help=f'run with {SEED_VARIABLE}=SEED into '
                        '_build/seed<SEED>/eval')
    parser.add_argument('--profile', choices=PROFILES, default='default',
                        help='with --seed: emulate another machine (its '
                        'kernels\' environment) into '
                        '_build/<PROFILE>-seed<SEED>/eval')
    args = parser.parse_args()
    if args.profile != 'default' and args.seed is None:
        parser.error('--profile needs --seed: a profile builds into a '
                     'folder of its own, never into _build/eval')
    if args.seed is not None:
        if args.seed < 0:
            parser.error(f'--seed must be >= 0, not {args.seed}')
        global EVAL_DIR
        EVAL_DIR = eval_dir_for_seed(args.seed, args.profile)
        os.environ[SEED_VARIABLE] = str(args.seed)  # the kernels inherit it
    else:
        os.environ.pop(SEED_VARIABLE, None)
    if 'OMP_NUM_THREADS' not in os.environ:
        os.environ.update(KERNEL_THREADS)
    for name, value in PROFILES[args.profile].items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    sections = ['index.md'] + book_order()
    if args.sections:
        sections = [os.path.relpath(os.path.abspath(s), ROOT)
                    for s in args.sections]
    tabs = TABS if args.tab == 'all' else [args.tab]
    copy_resources()
    total, ran = time.time(), dict.fromkeys(tabs, 0)
    for md_file in sections:
        for tab in tabs:
            ran[tab] += evaluate(md_file, tab, args.force)
        try:
            check_shared_text(md_file, TABS)
        except GlueError as e:
            for tab in TABS:
                remove_stale(md_file, tab)
            sys.exit(f'evaluate: FAILED {e}')
        mark_for_merge(md_file)
    print(f'evaluate: finished in {time.time() - total:.0f} s (sections run: '
          + ', '.join(f'{tab} {ran[tab]:.0f} s' for tab in tabs) + ')')


if __name__ == '__main__':
    main()
