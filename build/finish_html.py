"""Finish the HTML that `d2lbook build html --tab all` wrote into
_build/html_staging (config.ini's html_dir), and publish it as _build/html.

* The pages are finished in a copy, _build/html.partial, which replaces
  _build/html only when it is complete: a reader's browser or server never
  sees a page that is half done, or one that still loads d2lbook's own
  d2l.js (which calls google-analytics.com and raw.githubusercontent.com).
* No page may show Markdown that d2lbook left unconverted (`:math:`,
  `:numref:`, `:label:`, `:glue:`, ... as text, e.g. math inside
  emphasis): the build stops, naming the page and the text.

* d2lbook 1.0.3 writes a Google Analytics loader into _static/d2l.js
  whatever the configuration says (and a `tagClick` that reports every
  click on a tab to it), and a copy-button script that waits for a
  ClipboardJS it never loads and shows an icon from a third-party host.
  All are cut out: the pages make no request off this site, and
  static/book.js adds working copy buttons and switches the tabs.
* d2lbook rewrites d2l.js and d2l.css (with static/book.*) on every build,
  in _build/rst_all when it builds all tabs, but Sphinx copies them only
  when a page changed; they are copied here.
* The readers' notebooks, one set per tab (mxnet, pytorch, jax). d2lbook
  builds the HTML from the notebooks in _build/eval, _build/eval_pytorch
  and _build/eval_jax, so those keep Sphinx's markers (:numref:`sec_rnn`,
  :label:, ```toc blocks). The readers' copies, written to
  _build/notebooks/<tab>, say what the HTML says instead: "Section 1.3"
  (a link to that notebook of the same tab), "Fig. 1.3.1" under each
  figure, the section numbers in the headings, and each table of contents
  as a list of links. Every number is read from the built pages, never
  counted here.
* Each tab's folder holds its notebooks with what they read, laid out so
  that they run as they are (`sys.path.insert(0, '..')`): gluonbook with
  that tab's module only (chapter_rnn.py for MXNet, torch.py for
  PyTorch, jax.py for JAX; the PyTorch and JAX folders never need mxnet),
  the data, the figures, every saved training history of all tabs (the
  comparison section sets the frameworks side by side) and that tab's
  trained parameters (.params, .pt, .npz), which the section on decoding
  reads. A README.md beside the
  folders says which is which.
* The readers' notebooks are copied next to their pages (chapter_rnn/
  rnn.ipynb for MXNet, the default tab, chapter_rnn/rnn-pytorch.ipynb for
  PyTorch), and rnn-book-notebooks.zip holds _build/notebooks: rnn-book/
  mxnet/, rnn-book/pytorch/ and rnn-book/jax/. d2l.js learns which page has a notebook in
  which tab, for static/book.js's download links. `make lab` opens
  _build/notebooks in JupyterLab. Each tab's folder has its own
  requirements-<tab>.txt (from the repository root).
* d2l.js also learns, for static/book.js, the caption or title of every
  target of a cross-reference (hover previews) and each page's text
  (search excerpts without fetching pages, which file:// forbids).
* The decoding page gets static/playground.js, and beside it the weights
  of each tab's trained LSTM that the section exported
  (results/lstm-gluon.js, results/lstm-pytorch.js, results/lstm-jax.js);
  the comparison page gets static/surprisal.js, and beside it each tab's
  surprisal data (results/surprisal-<tab>.js). All are
  plain scripts, which the page loads with a script tag for the tab the
  reader chose.

    python build/finish_html.py
"""
import collections
import configparser
import glob
import html
import json
import os
import posixpath
import re
import shutil
import sys
import zipfile

import nbformat
from bs4 import BeautifulSoup
from docutils.nodes import make_id

from evaluate import BUILD, EVAL_DIR, ROOT, TABS, eval_dir

HTML_DIR = os.path.join(BUILD, 'html')  # what readers open
WORK_DIR = HTML_DIR + '.partial'  # the pages being finished
READERS_DIR = os.path.join(BUILD, 'notebooks')  # a folder per tab
ARCHIVE = 'rnn-book-notebooks.zip'
# Each tab's notebooks import only their own module of gluonbook, and
# read only their own tab's trained parameters.
MODULES = {'mxnet': 'gluonbook/chapter_rnn.py',
           'pytorch': 'gluonbook/torch.py',
           'jax': 'gluonbook/jax.py'}
PARAMETERS = {'mxnet': '*.params', 'pytorch': '*.pt', 'jax': '*.npz'}
# Given to the readers of a tab beside its notebooks: what to install.
def requirements(tab):
    return f'requirements-{tab}.txt'


# At the top of _build/notebooks and of the archive; a line per tab.
READERS_README = """\
# Recurrent Neural Networks: An Executable Chapter (the notebooks)

The chapter once per framework. Each folder runs on its own: install its
requirements file, then open the notebooks from inside the folder (they
import `gluonbook` and read the data from there; a notebook copied
elsewhere without the folder's `gluonbook/` and `data/` cannot run):

{tabs}

Every folder holds the training histories of all frameworks, which the
comparison section sets side by side.
"""
TAB_README = {
    'mxnet': 'MXNet (Gluon) 1.9.1, which needs Python 3.11 or older and '
             '`numpy<1.24`',
    'pytorch': 'PyTorch, on any Python that PyTorch supports, with no '
               'MXNet',
    'jax': 'JAX with Flax NNX and optax, on Python 3.12 or newer, with '
           'neither MXNet nor PyTorch',
}
# From the `google_tracker` template to the end of its last function,
# `tagClick`, which static/book.js defines anew.
ANALYTICS = re.compile(
    r"\(function\(i,s,o,g,r,a,m\)\{i\['GoogleAnalyticsObject'\].*?"
    r"var tagClick = function\(tab\) \{.*?\n\}\n", re.DOTALL)
# d2lbook's tab panels are <div class="mdl-tabs__panel" id="pytorch-3-1">.
PANEL_ID = re.compile(r'^(.+)-\d+-\d+$')
COPY_BUTTON_START = 'runWhenDOMLoaded(addCopyButtonToCodeCells);'
# Inline math and the punctuation right after it ("lies in $(0, 1)$:"),
# which a narrow page would otherwise put alone on the next line.
MATH_THEN_PUNCTUATION = re.compile(
    r'(<span class="math notranslate nohighlight">[^<]*</span>)'
    r'([.,:;!?)\]]+)')
# Said of a plot printed by a cell, which has no caption.
PLOT_ALT = 'A plot drawn by the code above'
# Markup that d2lbook or Sphinx left as text on a page.
RAW_MARKUP = re.compile(r':(?:math|numref|label|glue|eqref|ref|cite|'
                        r'citet|citep|bibliography|begin_tab|end_tab):`?')
# The roles d2lbook 1.0.3 converts; it drops any other (a :glue: that
# build/evaluate.py did not substitute) from the page without a word.
D2LBOOK_ROLES = {'label', 'ref', 'numref', 'cite', 'citet', 'citep', 'eqref',
                 'class', 'func', 'mod', 'eqlabel', 'width', 'height',
                 'bibliography', 'begin_tab', 'end_tab'}
# The works cited (:citet:, :citep:), as config.ini's [pdf] bibfile.
BIBFILE = 'references.bib'
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


def check_tabs():
    """The book's tabs, as config.ini names them, are evaluate.py's."""
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, 'config.ini'))
    tabs = [t.strip() for t in config['build'].get('tabs', '').split(',')
            if t.strip()]
    if tabs != TABS:
        fail(f'config.ini has tabs = {", ".join(tabs)}, build/evaluate.py '
             f'runs {", ".join(TABS)}')
    for tab in TABS:
        if tab not in TAB_README:
            fail(f'say in TAB_README what the {tab} tab needs')
        if not os.path.exists(os.path.join(ROOT, requirements(tab))):
            fail(f'{requirements(tab)} is missing: what the {tab} '
                 f'notebooks need, for their folder in the archive')


def staging_dir():
    """Where d2lbook wrote the HTML: config.ini's html_dir, which must not
    be _build/html (pages are finished before they go there)."""
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, 'config.ini'))
    folder = config['build'].get('html_dir')
    if not folder or os.path.abspath(os.path.join(ROOT, folder)) in (
            HTML_DIR, WORK_DIR):
        fail('config.ini must set [build] html_dir to a folder other than '
             '_build/html, where d2lbook writes the unfinished pages')
    folder = os.path.join(ROOT, folder)
    if not os.path.exists(os.path.join(folder, 'index.html')):
        fail(f'no pages in {os.path.relpath(folder, ROOT)}: run '
             f'`d2lbook build html --tab all` first')
    return folder


def raw_markup(page):
    """The text around each piece of unconverted markup that a page shows
    (code cells and their outputs aside)."""
    soup = BeautifulSoup(page, 'html.parser')
    for tag in soup(['script', 'style', 'pre']):
        tag.decompose()
    text = ' '.join(soup.get_text(' ').split())
    return [text[max(0, m.start() - 30):m.end() + 30]
            for m in RAW_MARKUP.finditer(text)]


def check_raw_markup(folder):
    """Stop the build if a page shows markup as text."""
    found = []
    for path in sorted(glob.glob(os.path.join(folder, '**', '*.html'),
                                 recursive=True)):
        with open(path, encoding='utf-8') as f:
            for text in raw_markup(f.read()):
                found.append(f'{os.path.relpath(path, folder)}: ...{text}...')
    if found:
        fail('pages show unconverted markup (math inside emphasis? a role '
             'that nothing resolved?):\n  ' + '\n  '.join(found))


def polish(page):
    """A page's HTML with inline math kept on one line with the
    punctuation after it, and each image described by its caption (or as
    a plot) instead of by its file's path, which Sphinx puts in alt."""
    page = MATH_THEN_PUNCTUATION.sub(r'<span class="nowrap">\1\2</span>',
                                     page)
    for img in BeautifulSoup(page, 'html.parser').find_all('img'):
        src = img.get('src', '')
        if img.get('alt') != src:
            continue
        figure = img.find_parent('figure')
        caption = figure and figure.find(class_='caption-text')
        alt = ' '.join(caption.get_text(' ').split()) if caption else PLOT_ALT
        page = page.replace(f'alt="{src}" src="{src}"',
                            f'alt="{html.escape(alt)}" src="{src}"')
    return page


def polish_pages(folder):
    for path in glob.glob(os.path.join(folder, '**', '*.html'),
                          recursive=True):
        with open(path, encoding='utf-8') as f:
            page = f.read()
        polished = polish(page)
        if polished != page:
            with open(path, 'w', encoding='utf-8') as f:
                f.write(polished)


def check_roles(books):
    """Stop the build if a notebook that d2lbook turned into a page has a
    role that d2lbook drops: the page would silently lack that text."""
    found = []
    for tab, notebooks in books.items():
        for name, nb in notebooks.items():
            for cell in nb.cells:
                if cell.cell_type != 'markdown':
                    continue
                for match in ROLE.finditer(cell.source):
                    if match.group(1) not in D2LBOOK_ROLES:
                        found.append(f'{page_of(name)} [{tab}]: '
                                     f'{match.group()}')
    if found:
        fail('roles that d2lbook drops from the page (a :glue: that '
             'build/evaluate.py did not fill in?):\n  ' +
             '\n  '.join(found))


def publish(folder, target):
    """Put the finished pages in folder where readers open them, target.
    Two renames: between them (microseconds) target is missing, but never
    half-finished."""
    old = target + '.old'
    shutil.rmtree(old, ignore_errors=True)
    if os.path.exists(target):
        os.replace(target, old)
    os.replace(folder, target)
    shutil.rmtree(old, ignore_errors=True)


def rst_dir():
    """Where d2lbook wrote d2l.js and d2l.css for the HTML of all tabs
    (`d2lbook build html --tab all`): _build/rst_all."""
    folder = os.path.join(BUILD, 'rst_all')
    built = os.path.join(folder, '_static', 'd2l.js')
    single = os.path.join(BUILD, 'rst', '_static', 'd2l.js')
    if not os.path.exists(built) or (
            os.path.exists(single) and
            os.path.getmtime(single) > os.path.getmtime(built)):
        fail('the HTML was not built with all tabs: run '
             '`d2lbook build html --tab all` (as `make html` does)')
    return folder


def check_merged(names):
    """Fail if a page was built from older notebooks than the tabs' own."""
    merged_dir = os.path.join(BUILD, 'eval_all')
    for tab, tab_names in names.items():
        for name in tab_names:
            merged = os.path.join(merged_dir, name)
            if not os.path.exists(merged) or os.path.getmtime(
                    merged) < os.path.getmtime(
                        os.path.join(eval_dir(tab), name)):
                fail(f'{page_of(name)} was built before {name} [{tab}] '
                     f'changed: run build/evaluate.py (which marks the '
                     f'section for d2lbook to merge again), then '
                     f'`d2lbook build html --tab all`')


def strip_d2l_js(path):
    with open(path) as f:
        js = f.read()
    if 'GoogleAnalyticsObject' in js:
        js, count = ANALYTICS.subn('', js)
        if count != 1 or 'google-analytics' in js or re.search(r'\bga\(', js):
            fail(f'could not remove the analytics loader from {path}; '
                 f'has d2lbook changed?')
    js = js.replace(COPY_BUTTON_START, '')
    with open(path, 'w') as f:
        f.write(js)


def notebooks(tab):
    """Yield a tab's executed notebooks, relative to its eval folder."""
    folder = eval_dir(tab)
    for path, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != 'results')
        for name in sorted(files):
            full = os.path.join(path, name)
            if name.endswith('.ipynb') and os.path.getsize(full) > 0:
                yield os.path.relpath(full, folder)


def resources(tab):
    """The files a tab's notebooks read, as config.ini lists them, without
    the other tabs' modules of gluonbook."""
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, 'config.ini'))
    others = {MODULES[t] for t in TABS if t != tab}
    for pattern in config['build']['resources'].split():
        names = sorted(glob.glob(os.path.join(ROOT, pattern)))
        if not names:
            fail(f'config.ini names {pattern}, which matches no file')
        for name in names:
            name = os.path.relpath(name, ROOT).replace(os.sep, '/')
            if name not in others:
                yield name
    yield requirements(tab)


def results(tab):
    """The saved histories of every tab and this tab's trained parameters,
    relative to the eval folder (one results/ folder serves every tab)."""
    patterns = ['*.json', PARAMETERS[tab]]
    return [os.path.relpath(path, EVAL_DIR) for path in sorted(
        p for pattern in patterns
        for p in glob.glob(os.path.join(EVAL_DIR, '*', 'results', pattern)))]


def page_of(notebook):
    """chapter_rnn/rnn.ipynb -> chapter_rnn/rnn.html (posix paths)."""
    return notebook.replace(os.sep, '/')[:-len('.ipynb')] + '.html'


def beside_page(notebook, tab):
    """Where a tab's readers' notebook goes next to its page:
    chapter_rnn/rnn.ipynb (the default tab), chapter_rnn/rnn-pytorch.ipynb."""
    if tab == TABS[0]:
        return notebook
    return notebook[:-len('.ipynb')] + f'-{tab}.ipynb'


def tab_of(tag):
    """The tab whose panel holds tag, or None if all tabs show it."""
    for parent in tag.parents:
        if parent.name == 'div' and 'mdl-tabs__panel' in parent.get(
                'class', []):
            match = PANEL_ID.match(parent.get('id', ''))
            if not match:
                fail(f'a tab panel with an id {parent.get("id")!r}; '
                     f'has d2lbook changed?')
            return match.group(1)
    return None


class Page:
    """What one built page shows: the numbers of its headings and
    figures, the text of its cross-references, its tables of contents."""

    def __init__(self, name):
        self.name = name
        with open(os.path.join(WORK_DIR, name), encoding='utf-8') as f:
            main = BeautifulSoup(f, 'html.parser').find('div', role='main')
        self.headings = []  # (tab or None, level, number, e.g. '1.3. ')
        for h in main.find_all(re.compile('^h[1-6]$')):
            number = h.find('span', class_='section-number')
            self.headings.append((tab_of(h), int(h.name[1]),
                                  number.get_text() if number else ''))
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
        # The entries of a bibliography, and the text of the page.
        self.citations = [' '.join(c.find('p').get_text().split())
                          for c in main.select('div.citation')]
        self.text = ' '.join(main.get_text(' ').split())
        self.tocs = [(tab_of(wrapper), self.toc_lines(wrapper.find('ul')))
                     for wrapper in main.select('div.toctree-wrapper')]

    def headings_of(self, tab):
        """(level, number) of each heading that the tab's notebook has."""
        return [(level, number) for where, level, number in self.headings
                if where in (None, tab)]

    def tocs_of(self, tab):
        return [lines for where, lines in self.tocs if where in (None, tab)]

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
    reference to one. A label names a place on a page, whichever tab's
    notebook defines it; each tab's notebook links to its own tab's."""

    def __init__(self, books):
        """books: {tab: {notebook name: notebook}}."""
        self.pages = {}
        for name in sorted({n for tab in books.values() for n in tab}):
            if not os.path.exists(os.path.join(WORK_DIR, page_of(name))):
                fail(f'{name} has no page {page_of(name)}: was the HTML '
                     f'built from all tabs?')
            self.pages[page_of(name)] = Page(page_of(name))
        self.labels = {}  # label -> page that defines it
        for tab, notebooks in books.items():
            defined = set()
            for name, nb in notebooks.items():
                for cell in nb.cells:
                    if cell.cell_type != 'markdown':
                        continue
                    for line in cell.source.splitlines():
                        match = LABEL_LINE.match(line)
                        if not match:
                            continue
                        label = match.group(1)
                        if label in defined or self.labels.setdefault(
                                label, page_of(name)) != page_of(name):
                            fail(f':label:`{label}` is defined twice')
                        defined.add(label)
        # The page that lists the works cited.
        self.bibliography = None
        for tab, notebooks in books.items():
            for name, nb in notebooks.items():
                if any(':bibliography:`' in c.source for c in nb.cells
                       if c.cell_type == 'markdown'):
                    self.bibliography = page_of(name)
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


def citation(key, role):
    """How the HTML (author-year, as d2lbook sets sphinxcontrib-bibtex)
    cites a work of references.bib: "Cho et al. (2014)" for :citet:,
    "(Kingma and Ba, 2015)" for :citep:."""
    from pybtex.database import parse_file
    from pybtex.richtext import Text

    entries = parse_file(os.path.join(ROOT, BIBFILE)).entries
    if key not in entries:
        fail(f':{role}:`{key}`: no such entry in {BIBFILE}')
    entry = entries[key]
    names = [Text.from_latex(' '.join(p.prelast_names + p.last_names))
             .render_as('text') for p in entry.persons['author']]
    authors = (f'{names[0]} et al.' if len(names) > 2
               else ' and '.join(names))
    year = entry.fields['year']
    return f'{authors} ({year})' if role == 'citet' else (
        f'({authors}, {year})')


def resolve(match, page, refs):
    role, text = match.groups()
    if role in ('citet', 'citep'):
        shown = citation(text, role)
        if ''.join(shown.split()) not in ''.join(
                refs.pages[page].text.split()):
            fail(f'{page}: :{role}:`{text}` is "{shown}" in the readers\' '
                 f'notebooks, which the HTML does not show')
        if refs.bibliography is None:
            fail(f'{page} cites {text}, but no page has :bibliography:')
        link = posixpath.relpath(refs.bibliography[:-len('.html')] +
                                 '.ipynb', posixpath.dirname(page))
        return f'[{shown}]({link})'
    if role == 'bibliography':
        return '\n'.join(f'* {entry}'
                         for entry in refs.pages[page].citations)
    if role != 'numref':
        fail(f'{page}: the readers\' notebooks cannot show :{role}: yet; '
             f'teach build/finish_html.py what the HTML shows for it')
    label = re.fullmatch(r'(?:.*<)?([^<>]+)>?', text).group(1)
    return refs.text(label, page)


def readers_notebook(name, nb, refs, tab):
    page = page_of(name)
    headings = iter(refs.pages[page].headings_of(tab))
    tocs = iter(refs.pages[page].tocs_of(tab))
    for cell in nb.cells:
        if cell.cell_type == 'markdown':
            cell.source = readers_markdown(cell.source, page, refs,
                                           headings, tocs)
    left = list(headings)
    if left or next(tocs, None) is not None:
        fail(f'{page} shows headings or tables of contents that '
             f'{name} [{tab}] lacks: {left}')
    nb.metadata['kernelspec'] = KERNELSPEC
    return nb


def copy(source, target):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(source, target)


def read_books(names):
    """{tab: {name: notebook}} of the executed notebooks."""
    books = {}
    for tab, tab_names in names.items():
        books[tab] = {}
        for name in tab_names:
            nb = nbformat.read(os.path.join(eval_dir(tab), name),
                               as_version=4)
            # d2lbook writes a notebook unexecuted when its source is
            # newer than the notebook.
            executed = nb.metadata.get('build', {}).get('source_sha1')
            if not executed and any(c.cell_type == 'code' for c in nb.cells):
                fail(f'{name} [{tab}] was not executed by build/evaluate.py: '
                     f'run it before `d2lbook build html --tab all`')
            books[tab][name] = nb
    return books


def write_readers_notebooks(books, refs, folder, tab):
    """Write one tab's readers' notebooks and what they read into folder."""
    for name, nb in books.items():
        os.makedirs(os.path.join(folder, os.path.dirname(name)),
                    exist_ok=True)
        nbformat.write(readers_notebook(name, nb, refs, tab),
                       os.path.join(folder, name))
    # Training histories, read by the sections that compare models, and
    # trained parameters, read by the section on decoding.
    for name in results(tab):
        copy(os.path.join(EVAL_DIR, name), os.path.join(folder, name))
    for name in resources(tab):
        copy(os.path.join(ROOT, name), os.path.join(folder, name))


def target_titles(refs):
    """{'chapter_rnn/rnn.html#sec-rnn': '1.3. Recurrent ...'}: what each
    cross-reference of the book points at, its heading or its figure's
    caption, as the target page shows it."""
    titles = {}
    for page, anchor in sorted(refs.shown):
        with open(os.path.join(WORK_DIR, page), encoding='utf-8') as f:
            soup = BeautifulSoup(f, 'html.parser')
        tag = soup.find(id=anchor)
        if tag is None:
            fail(f'a reference points at {page}#{anchor}, which is not '
                 f'there')
        # Sphinx puts a label's id on the section or figure, or on an
        # empty <span> just before or inside it.
        if tag.name == 'span' and not tag.get_text(strip=True):
            sibling = tag.find_next_sibling()
            tag = sibling if sibling is not None and re.fullmatch(
                'h[1-6]', sibling.name) else tag.parent
        figure = tag if tag.name == 'figure' else tag.find_parent('figure')
        if figure is not None:
            shown = figure.find('figcaption')
        elif re.fullmatch('h[1-6]', tag.name):
            shown = tag
        else:
            shown = tag.find(re.compile('^h[1-6]$'))
        if shown is None:
            fail(f'{page}#{anchor} is neither a heading nor a figure')
        for link in shown.select('a.headerlink'):
            link.decompose()
        titles[f'{page}#{anchor}'] = ' '.join(shown.get_text(' ').split())
    return titles


def page_texts(folder):
    """{'chapter_rnn/rnn': the page's text}, for search excerpts."""
    texts = {}
    for path in sorted(glob.glob(os.path.join(folder, '**', '*.html'),
                                 recursive=True)):
        name = os.path.relpath(path, folder).replace(os.sep, '/')
        with open(path, encoding='utf-8') as f:
            main = BeautifulSoup(f, 'html.parser').find('div', role='main')
        if main is None or name in ('search.html', 'genindex.html'):
            continue
        for tag in main(['script', 'style']) + main.select('a.headerlink'):
            tag.decompose()
        texts[name[:-len('.html')]] = ' '.join(main.get_text(' ').split())
    return texts


# The interactive parts: each is a script from static/, added to one page
# only, and the data it loads, which the page's section wrote into its
# results/ for each tab (with the function named last) and which is copied
# beside the page. The script puts itself at the end of the section that
# carries the label (the anchor).
Interactive = collections.namedtuple(
    'Interactive', 'page anchor script files writer')
INTERACTIVE = [
    Interactive('chapter_rnn/decoding.html', 'sec-decoding-playground',
                'playground.js',
                ['lstm-gluon.js', 'lstm-pytorch.js', 'lstm-jax.js'],
                'export_lstm_js'),
    Interactive('chapter_rnn/comparison.html', 'sec-comparison-surprisal',
                'surprisal.js', [f'surprisal-{tab}.js' for tab in TABS],
                'write_page_data')]


def add_interactive(folder, results_dir, part):
    """Give the page of an interactive part in folder its script and,
    beside it, its data from results_dir; stop the build if either is
    missing."""
    page = os.path.join(folder, part.page)
    with open(page, encoding='utf-8') as f:
        text = f.read()
    if f'id="{part.anchor}"' not in text:
        fail(f'{part.page} has no :label:`{part.anchor.replace("-", "_")}` '
             f'for {part.script}')
    if text.count('</body>') != 1:
        fail(f'{part.page}: expected one </body>')
    for name in part.files:
        source = os.path.join(results_dir, name)
        if not os.path.exists(source):
            fail(f'{os.path.relpath(source, ROOT)} is missing: the section '
                 f'of {part.page} writes it ({part.writer})')
        copy(source, os.path.join(os.path.dirname(page), name))
    shutil.copyfile(os.path.join(ROOT, 'static', part.script),
                    os.path.join(folder, '_static', part.script))
    src = posixpath.relpath(f'_static/{part.script}',
                            posixpath.dirname(part.page))
    text = text.replace('</body>', f'<script src="{src}"></script>\n</body>')
    with open(page, 'w', encoding='utf-8') as f:
        f.write(text)


def main():
    check_tabs()
    staging = staging_dir()
    names = {tab: sorted(notebooks(tab)) for tab in TABS}
    if not names[TABS[0]]:
        fail(f'no notebooks in {os.path.relpath(EVAL_DIR, ROOT)}')
    check_merged(names)
    # The pages are finished in a copy; Sphinx keeps its own folder for
    # its next, incremental, build.
    shutil.rmtree(WORK_DIR, ignore_errors=True)
    shutil.copytree(staging, WORK_DIR, ignore=shutil.ignore_patterns(
        '.doctrees', '.buildinfo', '*.ipynb', ARCHIVE))
    static = os.path.join(rst_dir(), '_static')
    for name in ['d2l.js', 'd2l.css']:
        shutil.copyfile(os.path.join(static, name),
                        os.path.join(WORK_DIR, '_static', name))
    d2l_js = os.path.join(WORK_DIR, '_static', 'd2l.js')
    strip_d2l_js(d2l_js)
    check_raw_markup(WORK_DIR)
    polish_pages(WORK_DIR)
    books = read_books(names)
    check_roles(books)
    refs = References(books)
    partial = READERS_DIR + '.partial'
    shutil.rmtree(partial, ignore_errors=True)
    for tab in TABS:
        write_readers_notebooks(books[tab], refs, os.path.join(partial, tab),
                                tab)
    with open(os.path.join(partial, 'README.md'), 'w') as f:
        f.write(READERS_README.format(tabs='\n'.join(
            f'* `{tab}/`: {TAB_README[tab]}: `pip install -r '
            f'{tab}/{requirements(tab)}`' for tab in TABS)))
    shutil.rmtree(READERS_DIR, ignore_errors=True)
    os.replace(partial, READERS_DIR)
    # Which page has a notebook in which tab, for static/book.js.
    offered = {}
    for tab in TABS:
        for name in names[tab]:
            shutil.copyfile(os.path.join(READERS_DIR, tab, name),
                            os.path.join(WORK_DIR, beside_page(name, tab)))
            offered.setdefault(page_of(name), []).append(tab)
    # At the top of d2l.js, read as static/book.js (at its end) runs.
    with open(d2l_js) as f:
        js = f.read()
    with open(d2l_js, 'w') as f:
        f.write('// Written by build/finish_html.py: the tabs, the first the '
                'default;\nvar RNN_BOOK_TABS = ' + json.dumps(TABS) + ';\n'
                '// the tabs in which a page has a notebook;\n'
                'var RNN_BOOK_NOTEBOOKS = '
                + json.dumps(offered, sort_keys=True) + ';\n'
                '// what each cross-reference points at (hover previews).\n'
                'var RNN_BOOK_TARGETS = '
                + json.dumps(target_titles(refs), sort_keys=True) + ';\n'
                + js)
    # Loaded by the search page only (static/book.js).
    with open(os.path.join(WORK_DIR, '_static', 'page_texts.js'), 'w',
              encoding='utf-8') as f:
        f.write('// Written by build/finish_html.py: each page\'s text, '
                'for search excerpts.\nvar RNN_BOOK_TEXTS = ' + json.dumps(
                    page_texts(WORK_DIR), sort_keys=True) + ';\n')
    for part in INTERACTIVE:
        add_interactive(WORK_DIR, os.path.join(
            EVAL_DIR, os.path.dirname(part.page), 'results'), part)
    archive = os.path.join(WORK_DIR, ARCHIVE)
    with zipfile.ZipFile(archive, 'w', zipfile.ZIP_DEFLATED) as z:
        for folder, dirs, files in os.walk(READERS_DIR):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(folder, name)
                z.write(path, os.path.join(
                    'rnn-book', os.path.relpath(path, READERS_DIR)))
    publish(WORK_DIR, HTML_DIR)
    print('finish_html: readers\' notebooks (' + ', '.join(
        f'{len(names[tab])} {tab}' for tab in TABS) + ') in '
        f'{os.path.relpath(READERS_DIR, ROOT)}/<tab>, next to their pages '
        f'and in {os.path.relpath(os.path.join(HTML_DIR, ARCHIVE), ROOT)}; '
        f'pages in {os.path.relpath(HTML_DIR, ROOT)}')


if __name__ == '__main__':
    main()
