"""Rebuild the book under other seeds and check every claim on each build.

    python build/robustness.py [SEED ...]     # default: 1 2

For each seed, `evaluate.py --seed SEED` executes the book, both tabs,
into _build/seed<SEED>/eval and _build/seed<SEED>/eval_pytorch (only what
changed since that seed's last build), then the book's tests run against
those folders: tests/test_book.py (every cell ran and the output
expectations, for each tab, and the claims the MXNet text makes) and
tests/test_book_pytorch.py (the claims the PyTorch text makes). The table
printed at the end, and written to _build/robustness.md, has one row per
check and one column per seed: the values the check measured and whether
it held. A PyTorch check of test_book.py has `pytorch-` before its case
(test_output[pytorch-chapter_rnn/rnn-gluon-4]); the checks of
test_book_pytorch.py follow those of test_book.py, named
test_book_pytorch::<check>. The exit status is 1 if any check failed on
any seed.
"""
import argparse
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

from evaluate import BUILD, ROOT, eval_dir_for_seed

# The first file's checks are named as they are; the others' rows carry
# their file's name.
TESTS = [os.path.join(ROOT, 'tests', name)
         for name in ('test_book.py', 'test_book_pytorch.py')]


def build(seed):
    """Evaluate the book with this seed; return the wall time in seconds."""
    start = time.time()
    done = subprocess.run([sys.executable, os.path.join(ROOT, 'build',
                                                         'evaluate.py'),
                           '--seed', str(seed)])
    if done.returncode != 0:
        sys.exit(f'robustness: the build with seed {seed} failed (above)')
    return time.time() - start


def run_checks(seed):
    """Run the book's tests on one seed's build; return {check: result}."""
    report = os.path.join(BUILD, f'seed{seed}', 'checks.xml')
    if os.path.exists(report):
        os.remove(report)  # a crashed run must not leave the last table
    # The PyTorch tab's notebooks are read from beside this folder.
    env = dict(os.environ, RNN_BOOK_EVAL_DIR=eval_dir_for_seed(seed))
    # Checks that train a model of their own do not read the build.
    subprocess.run([sys.executable, '-m', 'pytest', *TESTS, '-q',
                    '-p', 'no:cacheprovider', '-m', 'not own_training',
                    f'--junitxml={report}'], env=env, cwd=ROOT)
    if not os.path.exists(report):
        sys.exit(f'robustness: pytest wrote no report on seed {seed}')
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
        results[name] = ('FAIL' if failed else 'ok', values)
    if not results:
        sys.exit(f'robustness: no checks ran on seed {seed} ({report})')
    return results


def table(seeds, results, times):
    """A Markdown table: one row per check, one column per seed; the
    checks of test_book.py first, then those of the other files."""
    names = sorted(set().union(*(r.keys() for r in results.values())),
                   key=lambda name: ('::' in name, name))
    lines = ['| check | ' + ' | '.join(f'seed {s}' for s in seeds) + ' |',
             '|---|' + '---|' * len(seeds)]
    for name in names:
        cells = []
        for seed in seeds:
            status, values = results[seed].get(name, ('missing', []))
            cells.append(' '.join([status] + values))
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    passed = {s: sum(r[0] == 'ok' for r in results[s].values())
              for s in seeds}
    lines.append('| checks passed | ' + ' | '.join(
        f'{passed[s]} of {len(results[s])}' for s in seeds) + ' |')
    lines.append('| evaluation wall time | ' + ' | '.join(
        f'{times[s] / 60:.1f} min' for s in seeds) + ' |')
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('seeds', nargs='*', type=int, default=[1, 2])
    args = parser.parse_args()
    if any(seed < 0 for seed in args.seeds):
        parser.error(f'seeds must be >= 0, not {args.seeds}')
    results, times = {}, {}
    for seed in args.seeds:
        print(f'robustness: seed {seed}: evaluating into '
              f'{os.path.relpath(eval_dir_for_seed(seed), ROOT)}', flush=True)
        times[seed] = build(seed)
        results[seed] = run_checks(seed)
    text = table(args.seeds, results, times)
    with open(os.path.join(BUILD, 'robustness.md'), 'w') as f:
        f.write(f'Robustness run of {time.strftime("%Y-%m-%d %H:%M")}\n\n'
                + text + '\n')
    print(text)
    failed = [(name, seed) for seed in args.seeds
              for name, (status, _) in results[seed].items()
              if status != 'ok']
    if failed:
        sys.exit('robustness: failed: ' + ', '.join(
            f'{name} (seed {seed})' for name, seed in failed))
    print('robustness: every check held on seeds '
          + ', '.join(map(str, args.seeds)))


if __name__ == '__main__':
    main()
