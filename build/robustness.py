"""Rebuild the book under other seeds and on emulated other machines, and
check every claim on each build.

    python build/robustness.py                       # seeds 0 1 2, profiles
    python build/robustness.py --seeds 1 2 --profiles isa

Each build is one seed under one machine profile (evaluate.py's PROFILES):
`default`, the build as `make html` runs it, for every seed, and each
other profile for seed 0:

* `isa`: the math libraries capped at the AVX2 instruction set, as on a
  machine without AVX-512 (which prints other digits);
* `allthreads`: the math libraries' own choice of threads, one per core,
  as in a reader's Jupyter (the book's build runs one thread per kernel,
  which is what `threads1` would test: evaluate.py's KERNEL_THREADS);
* `busy`: one core kept busy, for the whole build, by a loop that this
  script starts and stops (a machine that runs something else too).

Seed 0 under the default profile is the book's own build, _build/eval
(made current first, as `make eval` would); every other build goes to a
folder of its own, _build/seed<SEED>/eval or _build/<profile>-seed0/eval
(and eval_pytorch, eval_jax beside it; only what changed since that folder's last
build is run again, except under `busy`, which always runs everything).
Then the book's tests run against each folder: tests/test_book.py (every
cell ran and the output expectations, for each tab; the claims that both
tabs' texts make, for each tab; and those only the MXNet text makes),
tests/test_book_pytorch.py and tests/test_book_jax*.py (the claims only
the PyTorch or the JAX text makes),
tests/test_gates.py (the claims about gates, for each tab) and
tests/test_surprisal.py (the comparison's claims about surprisal, for
each tab). The table
printed at the end, and written to _build/robustness.md, has one row per
check and one column per build: the values the check measured and whether
it held. A PyTorch check of test_book.py has `pytorch-` before its case
(test_output[pytorch-chapter_rnn/rnn-gluon-4]) or is the case [pytorch]
of a claim checked for each tab (test_sequence_errors_compound[pytorch],
beside [mxnet]); the checks of the other files follow those of
test_book.py, named by their file, e.g. test_book_pytorch::<check>. The
exit status is 1 if any check failed on any build.
"""
import argparse
import glob
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

from evaluate import BUILD, EVAL_DIR, PROFILES, ROOT, eval_dir_for_seed

# The first file's checks are named as they are; the others' rows carry
# their file's name.
# test_book_<tab>*.py: the claims only one tab's text makes.
TESTS = [os.path.join(ROOT, 'tests', name)
         for name in ['test_book.py'] + sorted(
             os.path.basename(p) for p in glob.glob(
                 os.path.join(ROOT, 'tests', 'test_book_*.py'))) +
         ['test_gates.py', 'test_surprisal.py']]


# The busy profile's load: one process that spins until it is stopped,
# or for three hours at the most.
BUSY_LOOP = """
import time
end = time.time() + 3 * 3600
while time.time() < end:
    sum(range(10000))
"""


def eval_dir(seed, profile):
    """The folder of one build's default-tab notebooks."""
    if (seed, profile) == (0, 'default'):
        return EVAL_DIR  # the book's own build
    return eval_dir_for_seed(seed, profile)


def build(seed, profile):
    """Evaluate the book with this seed and profile; return the wall time
    in seconds."""
    command = [sys.executable, os.path.join(ROOT, 'build', 'evaluate.py')]
    if (seed, profile) != (0, 'default'):
        command += ['--seed', str(seed), '--profile', profile]
    if profile == 'busy':
        command.append('--force')  # every section ran under the load
    busy = None
    if profile == 'busy':
        busy = subprocess.Popen([sys.executable, '-c', BUSY_LOOP])
    start = time.time()
    try:
        done = subprocess.run(command)
    finally:
        if busy is not None:
            busy.terminate()
            busy.wait()
    if done.returncode != 0:
        sys.exit(f'robustness: the build with seed {seed}, profile '
                 f'{profile} failed (above)')
    return time.time() - start


def run_checks(seed, profile):
    """Run the book's tests on one build; return {check: result}."""
    folder = os.path.dirname(eval_dir(seed, profile))
    report = os.path.join(folder, f'checks-{profile}-seed{seed}.xml')
    if os.path.exists(report):
        os.remove(report)  # a crashed run must not leave the last table
    # The PyTorch tab's notebooks are read from beside this folder.
    env = dict(os.environ, RNN_BOOK_EVAL_DIR=eval_dir(seed, profile))
    # Checks that train a model of their own do not read the build.
    subprocess.run([sys.executable, '-m', 'pytest', *TESTS, '-q',
                    '-p', 'no:cacheprovider', '-m', 'not own_training',
                    f'--junitxml={report}'], env=env, cwd=ROOT)
    if not os.path.exists(report):
        sys.exit(f'robustness: pytest wrote no report on seed {seed}, '
                 f'profile {profile}')
    results = {}
    first = os.path.basename(TESTS[0])[:-len('.py')]
    for case in ET.parse(report).iter('testcase'):
        failed = (case.find('failure') is not None or
                  case.find('error') is not None)
        values = [f'{p.get("name")}={p.get("value")}'
                  for p in case.iter('property')]
        module = (case.get('classname') or '').split('.')[-1]
        name = case.get('name')
        if module and module != first:
            name = f'{module}::{name}'
        if name in results:
            sys.exit(f'robustness: two checks named {name}')
        skipped = case.find('skipped') is not None  # checked elsewhere
        results[name] = ('FAIL' if failed else 'skipped' if skipped
                         else 'ok', values)
    if not results:
        sys.exit(f'robustness: no checks ran on seed {seed}, profile '
                 f'{profile} ({report})')
    return results


def column(build):
    seed, profile = build
    return f'seed {seed}' if profile == 'default' else f'{profile}, seed {seed}'


def table(builds, results, times):
    """A Markdown table: one row per check, one column per build; the
    checks of test_book.py first, then those of the other files."""
    names = sorted(set().union(*(r.keys() for r in results.values())),
                   key=lambda name: ('::' in name, name))
    lines = ['| check | ' + ' | '.join(map(column, builds)) + ' |',
             '|---|' + '---|' * len(builds)]
    for name in names:
        cells = []
        for b in builds:
            status, values = results[b].get(name, ('missing', []))
            cells.append(' '.join([status] + values))
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    passed = {b: sum(r[0] == 'ok' for r in results[b].values())
              for b in builds}
    skipped = {b: sum(r[0] == 'skipped' for r in results[b].values())
               for b in builds}
    lines.append('| checks passed | ' + ' | '.join(
        f'{passed[b]} of {len(results[b])}' +
        (f' ({skipped[b]} skipped)' if skipped[b] else '')
        for b in builds) + ' |')
    lines.append('| evaluation wall time | ' + ' | '.join(
        f'{times[b] / 60:.1f} min' for b in builds) + ' |')
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', nargs='*', type=int, default=[0, 1, 2],
                        help='seeds built under the default profile '
                        '(default: 0 1 2)')
    others = [p for p in PROFILES if p != 'default']
    parser.add_argument('--profiles', nargs='*', default=others,
                        choices=others, help='profiles built with seed 0 '
                        f'(default: {" ".join(others)})')
    args = parser.parse_args()
    if any(seed < 0 for seed in args.seeds):
        parser.error(f'seeds must be >= 0, not {args.seeds}')
    builds = ([(seed, 'default') for seed in args.seeds] +
              [(0, profile) for profile in args.profiles])
    if not builds:
        parser.error('nothing to build: give --seeds or --profiles')
    results, times = {}, {}
    for b in builds:
        print(f'robustness: {column(b)}: evaluating into '
              f'{os.path.relpath(eval_dir(*b), ROOT)}', flush=True)
        times[b] = build(*b)
        results[b] = run_checks(*b)
    text = table(builds, results, times)
    with open(os.path.join(BUILD, 'robustness.md'), 'w') as f:
        f.write(f'Robustness run of {time.strftime("%Y-%m-%d %H:%M")}\n\n'
                + text + '\n')
    print(text)
    failed = [(name, b) for b in builds
              for name, (status, _) in results[b].items()
              if status == 'FAIL']
    if failed:
        sys.exit('robustness: failed: ' + ', '.join(
            f'{name} ({column(b)})' for name, b in failed))
    print('robustness: every check held on ' + ', '.join(map(column, builds)))


if __name__ == '__main__':
    main()
