"""Finish the HTML that `d2lbook build html` wrote into _build/html.

* d2lbook 1.0.3 writes a Google Analytics loader into _static/d2l.js
  whatever the configuration says, and a copy-button script that waits for
  a ClipboardJS it never loads and shows an icon from a third-party host.
  Both are cut out: the pages make no request off this site, and
  static/book.js adds working copy buttons.
* d2lbook rewrites d2l.js and d2l.css (with static/book.*) on every build,
  but Sphinx copies them only when a page changed; they are copied here.
* The executed notebooks are copied next to their pages, and
  rnn-book-notebooks.zip bundles them with gluonbook, the data and the
  saved training histories, laid out so that the notebooks run as they
  are (`sys.path.insert(0, '..')`).

    python build/finish_html.py
"""
import glob
import os
import re
import shutil
import sys
import zipfile

from evaluate import BUILD, EVAL_DIR, RESOURCES, ROOT

HTML_DIR = os.path.join(BUILD, 'html')
ARCHIVE = 'rnn-book-notebooks.zip'
# From the `google_tracker` template to the end of its last function.
ANALYTICS = re.compile(
    r"\(function\(i,s,o,g,r,a,m\)\{i\['GoogleAnalyticsObject'\].*?"
    r"var captureOutboundLink = .*?\n\}\n", re.DOTALL)
COPY_BUTTON_START = 'runWhenDOMLoaded(addCopyButtonToCodeCells);'


def strip_d2l_js(path):
    with open(path) as f:
        js = f.read()
    if 'GoogleAnalyticsObject' in js:
        js, count = ANALYTICS.subn('', js)
        if count != 1 or 'google-analytics' in js:
            sys.exit(f'finish_html: could not remove the analytics loader '
                     f'from {path}; has d2lbook changed?')
    js = js.replace(COPY_BUTTON_START, '')
    with open(path, 'w') as f:
        f.write(js)


def notebooks():
    """Yield the executed notebooks, relative to _build/eval."""
    for folder, _, files in os.walk(EVAL_DIR):
        for name in sorted(files):
            path = os.path.join(folder, name)
            if name.endswith('.ipynb') and os.path.getsize(path) > 0:
                yield os.path.relpath(path, EVAL_DIR)


def main():
    for name in ['d2l.js', 'd2l.css']:
        shutil.copyfile(os.path.join(BUILD, 'rst', '_static', name),
                        os.path.join(HTML_DIR, '_static', name))
    strip_d2l_js(os.path.join(HTML_DIR, '_static', 'd2l.js'))
    names = sorted(notebooks())
    for name in names:
        shutil.copyfile(os.path.join(EVAL_DIR, name),
                        os.path.join(HTML_DIR, name))
    archive = os.path.join(HTML_DIR, ARCHIVE)
    with zipfile.ZipFile(archive + '.partial', 'w',
                         zipfile.ZIP_DEFLATED) as z:
        for name in names:
            z.write(os.path.join(EVAL_DIR, name),
                    os.path.join('rnn-book', name))
        for name in RESOURCES:
            z.write(os.path.join(ROOT, name), os.path.join('rnn-book', name))
        # Training histories, read by the sections that compare models.
        for path in sorted(glob.glob(os.path.join(EVAL_DIR, '*', 'results',
                                                  '*.json'))):
            z.write(path, os.path.join(
                'rnn-book', os.path.relpath(path, EVAL_DIR)))
    os.replace(archive + '.partial', archive)
    print(f'finish_html: {len(names)} notebooks linked and archived in '
          f'{os.path.relpath(archive, ROOT)}')


if __name__ == '__main__':
    main()
