"""Finish the HTML that `d2lbook build html` wrote into _build/html.

* d2lbook 1.0.3 writes a Google Analytics loader into _static/d2l.js
  whatever the configuration says, and a copy-button script that waits for
  a ClipboardJS it never loads and shows an icon from a third-party host.
  Both are cut out: the pages make no request off this site, and
  static/book.js adds working copy buttons.
* d2lbook rewrites d2l.js and d2l.css (with static/book.*) on every build,
  but Sphinx copies them only when a page changed; they are copied here.
* The readers' notebooks. d2lbook builds the HTML from the notebooks in
  _build/eval, so those keep Sphinx's markers (:numref:`sec_rnn`,
  :label:, ```toc blocks). The readers' copies, written to
  _build/notebooks, say what the HTML says instead: "Section 1.3" (a link
  to that notebook), "Fig. 1.3.1" under each figure, the section numbers
  in the headings, and each table of contents as a list of links. Every
  number is read from the built pages, never counted here.
* The readers' notebooks are copied next to their pages, and
  rnn-book-notebooks.zip holds _build/notebooks: the notebooks with
  gluonbook, the data, the figures, the saved training histories and the
  trained parameters that the decoding section reads, laid out so that
  the notebooks run as they are (`sys.path.insert(0, '..')`).
  `make lab` opens _build/notebooks in JupyterLab.

    python build/finish_html.py
"""
import configparser
import glob
import os
import posixpath
import re
import shutil
import sys
import zipfile

import nbformat
from bs4 import BeautifulSoup
from docutils.nodes import make_id

from evaluate import BUILD, EVAL_DIR, ROOT

HTML_DIR = os.path.join(BUILD, 'html')
READERS_DIR = os.path.join(BUILD, 'notebooks')
ARCHIVE = 'rnn-book-notebooks.zip'
# From the `google_tracker` template to the end of its last function.
ANALYTICS = re.compile(
    r"\(function\(i,s,o,g,r,a,m\)\{i\['GoogleAnalyticsObject'\].*?"
    r"var captureOutboundLink = .*?\n\}\n", re.DOTALL)
COPY_BUTTON_START = 'runWhenDOMLoaded(addCopyButtonToCodeCells);'
# Markdown as d2lbook reads it.
ROLE = re.compile(r':([a-z]+):`([^`]*)`')
LABEL_LINE = re.compile(r'^:label:`([^`]+)`\s*$')
HEADING = re.compile(r'^(#{1,6})\s+(.*)$')
IMAGE = re.compile(r'^!\[(.*)\]\([^)]+\)\s*$')
FENCE = re.compile(r'^(`{3,})\s*(\S*)')
KERNELSPEC = {'name': 'python3', 'display_name': 'Python 3 (ipykernel)',
              'language': 'python'}


def fail(message):
    sys.exit(f'finish_html: {message}')


def strip_d2l_js(path):
    with open(path) as f:
        js = f.read()
    if 'GoogleAnalyticsObject' in js:
        js, count = ANALYTICS.subn('', js)
        if count != 1 or 'google-analytics' in js:
            fail(f'could not remove the analytics loader from {path}; '
                 f'has d2lbook changed?')
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


def resources():
    """The files the notebooks read, as config.ini lists them."""
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, 'config.ini'))
    for pattern in config['build']['resources'].split():
        names = sorted(glob.glob(os.path.join(ROOT, pattern)))
        if not names:
            fail(f'config.ini names {pattern}, which matches no file')
        yield from (os.path.relpath(name, ROOT) for name in names)


def page_of(notebook):
    """chapter_rnn/rnn.ipynb -> chapter_rnn/rnn.html (posix paths)."""
    return notebook.replace(os.sep, '/')[:-len('.ipynb')] + '.html'


class Page:
    """What one built page shows: the numbers of its headings and
    figures, the text of its cross-references, its tables of contents."""

    def __init__(self, name):
        self.name = name
        with open(os.path.join(HTML_DIR, name), encoding='utf-8') as f:
            main = BeautifulSoup(f, 'html.parser').find('div', role='main')
        self.headings = []  # (level, number as shown, e.g. '1.3. ')
        for h in main.find_all(re.compile('^h[1-6]$')):
            number = h.find('span', class_='section-number')
            self.headings.append(
                (int(h.name[1]), number.get_text() if number else ''))
        self.figures = {}  # anchor -> 'Fig. 1.3.1'
        for figure in main.find_all('figure'):
            number = figure.find(class_='caption-number')
            if number is None:  # a plot printed by a cell
                continue
            for tag in [figure] + figure.find_all(id=True):
                self.figures[tag['id']] = number.get_text().strip()
        self.references = []  # ((page, anchor), 'Section 1.3')
        for a in main.select('a.reference.internal[href]'):
            shown = a.find('span', class_='std-numref')
            if shown:
                self.references.append((self.target(a['href']),
                                        shown.get_text()))
        self.tocs = [self.toc_lines(wrapper.find('ul'))
                     for wrapper in main.select('div.toctree-wrapper')]

    def target(self, href):
        path, _, anchor = href.partition('#')
        if not path:
            return self.name, anchor
        return posixpath.normpath(posixpath.join(
            posixpath.dirname(self.name), path)), anchor

    def toc_lines(self, ul, depth=0):
        """The pages a table of contents lists, as Markdown links to their
        notebooks (entries for parts of a page are left out)."""
        lines = []
        for li in ul.find_all('li', recursive=False):
            a = li.find('a', recursive=False)
            href = a['href']
            if '#' in href:
                continue
            lines.append('  ' * depth + '* [%s](%s)' % (
                a.get_text(), href[:-len('.html')] + '.ipynb'))
            sub = li.find('ul', recursive=False)
            if sub:
                lines += self.toc_lines(sub, depth + 1)
        return lines


class References:
    """Every :label: of the book, and what the HTML shows for each
    reference to one."""

    def __init__(self, books):
        self.pages = {page_of(name): Page(page_of(name)) for name in books}
        self.labels = {}  # label -> page that defines it
        for name, nb in books.items():
            for cell in nb.cells:
                if cell.cell_type != 'markdown':
                    continue
                for line in cell.source.splitlines():
                    match = LABEL_LINE.match(line)
                    if match:
                        label = match.group(1)
                        if label in self.labels:
                            fail(f':label:`{label}` is defined twice')
                        self.labels[label] = page_of(name)
        self.shown = {}  # (page, anchor) -> 'Section 1.3'
        for page in self.pages.values():
            for target, text in page.references:
                if self.shown.setdefault(target, text) != text:
                    fail(f'references to {target} read both '
                         f'"{self.shown[target]}" and "{text}"')

    def text(self, label, page):
        """Markdown for :numref:`label` on page: the HTML's words, linked
        to the notebook when the target is on another page."""
        if label not in self.labels:
            fail(f'{page}: :numref:`{label}` names no :label:')
        target = self.labels[label]
        shown = self.shown.get((target, make_id(label)))
        if shown is None:
            fail(f'{page}: no reference to {label} found in the HTML')
        if target == page:
            return shown
        link = posixpath.relpath(target[:-len('.html')] + '.ipynb',
                                 posixpath.dirname(page))
        return f'[{shown}]({link})'


def readers_markdown(source, page, refs, headings, tocs):
    """One Markdown cell as a reader sees it; headings and tocs are
    iterators over the page's headings and tables of contents."""
    out = []
    fence = None  # the ``` that opened the current code block
    toc = None  # lines of a toc block being skipped
    for line in source.splitlines():
        match = FENCE.match(line)
        if toc is not None:
            if match and match.group(1) == fence:
                toc = next(tocs, None)
                if toc is None:
                    fail(f'{page}: the HTML shows fewer tables of contents '
                         f'than the notebook has')
                out += toc
                fence = toc = None
            continue
        if fence:
            if match and match.group(1) == fence:
                fence = None
            out.append(line)
            continue
        if match:
            fence = match.group(1)
            if match.group(2) == 'toc':
                toc = []
            else:
                out.append(line)
            continue
        label = LABEL_LINE.match(line)
        if label:
            previous = out[-1] if out else ''
            image = IMAGE.match(previous)
            if image:
                anchor = make_id(label.group(1))
                number = refs.pages[page].figures.get(anchor)
                if number is None:
                    fail(f'{page}: no figure {anchor} in the HTML')
                out += ['', f'*{number}* {image.group(1)}']
            continue
        heading = HEADING.match(line)
        if heading:
            level, number = next(headings, (None, None))
            if level != len(heading.group(1)):
                fail(f'{page}: the heading "{line}" is not the next one '
                     f'the HTML shows; have the two been built from '
                     f'different sources?')
            line = f'{heading.group(1)} {number}{heading.group(2)}'
        line = ROLE.sub(lambda m: resolve(m, page, refs), line)
        out.append(line)
    return '\n'.join(out)


def resolve(match, page, refs):
    role, text = match.groups()
    if role != 'numref':
        fail(f'{page}: the readers\' notebooks cannot show :{role}: yet; '
             f'teach build/finish_html.py what the HTML shows for it')
    label = re.fullmatch(r'(?:.*<)?([^<>]+)>?', text).group(1)
    return refs.text(label, page)


def readers_notebook(name, nb, refs):
    page = page_of(name)
    headings = iter(refs.pages[page].headings)
    tocs = iter(refs.pages[page].tocs)
    for cell in nb.cells:
        if cell.cell_type == 'markdown':
            cell.source = readers_markdown(cell.source, page, refs,
                                           headings, tocs)
    left = list(headings)
    if left or next(tocs, None) is not None:
        fail(f'{page} shows headings or tables of contents that '
             f'{name} lacks: {left}')
    nb.metadata['kernelspec'] = KERNELSPEC
    return nb


def write_readers_notebooks(names):
    """Write _build/notebooks: the readers' notebooks and what they read."""
    books = {name: nbformat.read(os.path.join(EVAL_DIR, name), as_version=4)
             for name in names}
    refs = References(books)
    partial = READERS_DIR + '.partial'
    shutil.rmtree(partial, ignore_errors=True)
    for name, nb in books.items():
        os.makedirs(os.path.join(partial, os.path.dirname(name)),
                    exist_ok=True)
        nbformat.write(readers_notebook(name, nb, refs),
                       os.path.join(partial, name))
    # Training histories, read by the sections that compare models, and
    # trained parameters, read by the section on decoding.
    histories = [os.path.relpath(path, EVAL_DIR) for path in sorted(
        glob.glob(os.path.join(EVAL_DIR, '*', 'results', '*.json')) +
        glob.glob(os.path.join(EVAL_DIR, '*', 'results', '*.params')))]
    for name in histories:
        os.makedirs(os.path.join(partial, os.path.dirname(name)),
                    exist_ok=True)
        shutil.copyfile(os.path.join(EVAL_DIR, name),
                        os.path.join(partial, name))
    for name in resources():
        os.makedirs(os.path.join(partial, os.path.dirname(name)),
                    exist_ok=True)
        shutil.copyfile(os.path.join(ROOT, name), os.path.join(partial, name))
    shutil.rmtree(READERS_DIR, ignore_errors=True)
    os.replace(partial, READERS_DIR)


def main():
    for name in ['d2l.js', 'd2l.css']:
        shutil.copyfile(os.path.join(BUILD, 'rst', '_static', name),
                        os.path.join(HTML_DIR, '_static', name))
    strip_d2l_js(os.path.join(HTML_DIR, '_static', 'd2l.js'))
    names = sorted(notebooks())
    write_readers_notebooks(names)
    for name in names:
        shutil.copyfile(os.path.join(READERS_DIR, name),
                        os.path.join(HTML_DIR, name))
    archive = os.path.join(HTML_DIR, ARCHIVE)
    with zipfile.ZipFile(archive + '.partial', 'w',
                         zipfile.ZIP_DEFLATED) as z:
        for folder, dirs, files in os.walk(READERS_DIR):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(folder, name)
                z.write(path, os.path.join(
                    'rnn-book', os.path.relpath(path, READERS_DIR)))
    os.replace(archive + '.partial', archive)
    print(f'finish_html: {len(names)} readers\' notebooks in '
          f'{os.path.relpath(READERS_DIR, ROOT)}, next to their pages and '
          f'in {os.path.relpath(archive, ROOT)}')


if __name__ == '__main__':
    main()
