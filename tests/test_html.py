"""The built HTML, as a reader's browser sees it: headless Chromium opens
every page of the book from a server on localhost, switches it to the
PyTorch tab, and records what goes wrong. `make test` builds the HTML
first.
"""
import functools
import http.server
import os
import re
import shutil
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import sync_playwright

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'build'))
from evaluate import TABS  # noqa: E402
from make_lib import book_order  # noqa: E402

HTML_DIR = os.path.join(ROOT, '_build', 'html')
READERS_DIR = os.path.join(ROOT, '_build', 'notebooks')
SCREENSHOT = os.path.join(ROOT, '_build', 'screenshots', 'rnn-gluon.png')
SCREENSHOT_PYTORCH = os.path.join(ROOT, '_build', 'screenshots',
                                  'rnn-gluon-pytorch.png')
CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
# The flags keep Chromium from calling home on a machine with no network.
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic',
                 '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync']
PAGES = ['index.html'] + sorted(
    'chapter_rnn/' + name for name in os.listdir(
        os.path.join(HTML_DIR, 'chapter_rnn')) if name.endswith('.html'))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope='module')
def server():
    handler = functools.partial(QuietHandler, directory=HTML_DIR)
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}/'
    httpd.shutdown()


@pytest.fixture(scope='module')
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f'{CHROMIUM} not found: apt-get install chromium')
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def visit(browser, url):
    """Open url; return the page and what went wrong while loading it."""
    page = browser.new_page()
    problems = []
    page.on('console', lambda m: m.type == 'error' and problems.append(
        f'console error: {m.text}'))
    page.on('pageerror', lambda e: problems.append(f'page error: {e}'))
    page.on('requestfailed', lambda r: problems.append(
        f'failed request: {r.url}'))
    page.on('response', lambda r: r.status >= 400 and problems.append(
        f'HTTP {r.status}: {r.url}'))
    host = urllib.parse.urlsplit(url).netloc
    page.on('request', lambda r: urllib.parse.urlsplit(r.url).scheme in (
        'http', 'https') and urllib.parse.urlsplit(r.url).netloc != host
        and problems.append(f'off-site request: {r.url}'))
    page.goto(url, wait_until='networkidle')
    return page, problems


def notebook_tabs(name):
    """The tabs in which the readers' notebooks have this page."""
    notebook = name[:-len('.html')] + '.ipynb'
    return [tab for tab in TABS
            if os.path.exists(os.path.join(READERS_DIR, tab, notebook))]


# Each tab panel d2lbook made (id "pytorch-3-1"): its tab, whether it is
# shown, and how many of its code cells, outputs and figures are shown,
# of how many. A tab with no panel for a cell shows none of that group.
PANELS = """els => els.map(p => {
  const shown = e => e.getClientRects().length > 0 &&
      getComputedStyle(e).visibility !== 'hidden';
  const count = sel => { const all = [...p.querySelectorAll(sel)];
                         return [all.filter(shown).length, all.length]; };
  return {tab: p.id.replace(/-\\d+-\\d+$/, ''), shown: shown(p),
          code: count('div.highlight-python:not(.output) pre'),
          outputs: count('div.output, figure, img')};
})"""


def shown_panels(page):
    """{tab: [panel, ...]} of the page's tab panels, as PANELS sees them."""
    panels = {}
    for panel in page.eval_on_selector_all('div.mdl-tabs__panel', PANELS):
        panels.setdefault(panel['tab'], []).append(panel)
    return panels


def check_tab_shown(page, tab):
    """Problems with the page showing tab: every panel of tab and all that
    it holds visible, every other tab's panel hidden."""
    problems = []
    for name, panels in shown_panels(page).items():
        for i, panel in enumerate(panels):
            if name == tab:
                if not panel['shown']:
                    problems.append(f'{tab}: panel {i} is hidden')
                for kind in ('code', 'outputs'):
                    visible, total = panel[kind]
                    if visible != total:
                        problems.append(f'{tab}: panel {i} shows {visible} '
                                        f'of its {total} {kind}')
            elif panel['shown']:
                problems.append(f'{tab} chosen, but a {name} panel shows')
    return problems


def switch_to(page, tab):
    """Click the page's first tab named tab, as a reader would."""
    page.locator(f'div.mdl-tabs__tab-bar a.mdl-tabs__tab[href^="#{tab}-"]'
                 ).first.click()


@pytest.mark.parametrize('name', PAGES)
def test_page(browser, server, name):
    page, problems = visit(browser, server + name)
    images = page.eval_on_selector_all(
        'img', 'els => els.map(e => [e.src, e.complete && e.naturalWidth])')
    problems += [f'image not loaded: {src}' for src, ok in images if not ok]
    if page.locator('.math').count():
        # MathJax typesets asynchronously; its output is <mjx-container>.
        page.wait_for_selector('mjx-container', timeout=20000)
    # An unresolved :numref: shows as its label in a code span.
    assert page.locator('code.std-numref').count() == 0
    if page.locator('div.highlight-python').count():
        assert page.locator('button.copy-button').count() > 0
    # A download link for the page's notebook in each tab that has it.
    offered = page.eval_on_selector_all(
        'a.notebook-download', 'els => els.map(e => e.dataset.tab)')
    assert offered == notebook_tabs(name)
    # The theme's band for config.ini's header_links shows only with links.
    band = page.locator('div.mdl-layout__header-row.header-links')
    assert band.locator('a').count() > 0 or not band.is_visible()
    links = page.eval_on_selector_all('a[href]',
                                      'els => els.map(e => e.href)')
    for link in sorted(set(links)):
        url = link.split('#')[0]
        if not url.startswith(server):
            continue
        try:
            urllib.request.urlopen(
                urllib.request.Request(url, method='HEAD')).close()
        except urllib.error.HTTPError as e:
            problems.append(f'broken link {link}: HTTP {e.code}')
    # The default tab first; then the reader picks PyTorch, every panel of
    # the page follows, and the choice holds when the page is reloaded.
    problems += check_tab_shown(page, TABS[0])
    if name == 'chapter_rnn/rnn-gluon.html':
        # The theme scrolls an inner pane: a tall window shows more of it.
        page.set_viewport_size({'width': 1280, 'height': 2400})
        os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
        page.screenshot(path=SCREENSHOT)
    if 'pytorch' in shown_panels(page):
        switch_to(page, 'pytorch')
        problems += check_tab_shown(page, 'pytorch')
        selected = page.eval_on_selector_all(
            'a.notebook-download.selected-tab',
            'els => els.map(e => e.dataset.tab)')
        assert selected == ['pytorch']
        page.reload(wait_until='networkidle')
        problems += check_tab_shown(page, 'pytorch')
        if name == 'chapter_rnn/rnn-gluon.html':
            page.screenshot(path=SCREENSHOT_PYTORCH)
    page.close()
    assert problems == []


@pytest.mark.parametrize('name', PAGES)
def test_every_page_with_code_has_both_tabs(name):
    # The same page in both frameworks: a notebook in each tab, and PyTorch
    # code wherever MXNet code is not shared (a `#@tab all` cell shows
    # outside the tab panels, in both tabs).
    with open(os.path.join(HTML_DIR, name), encoding='utf-8') as f:
        html = f.read()
    if 'class="highlight-python' not in html:
        return
    assert notebook_tabs(name) == TABS
    panels = set(re.findall(
        r'<div class="mdl-tabs__panel[^"]*" id="([a-z]+)-\d+-\d+">', html))
    assert panels in (set(), set(TABS)), panels


def test_search_finds_a_section(browser, server):
    page, problems = visit(browser, server + 'search.html?q=perplexity')
    page.wait_for_selector('ul.search li a', timeout=20000)
    hits = page.eval_on_selector_all('ul.search li a',
                                     'els => els.map(e => e.href)')
    assert any('rnn-scratch.html' in hit for hit in hits), hits
    page.close()
    assert problems == []


def test_every_section_has_a_page_and_every_figure_is_shown():
    # test_page opens every page and requires each of its images to load;
    # here the pages' markup only has to show every figure of img/.
    pages = ['chapter_rnn/' + os.path.basename(f)[:-3] + '.html'
             for f in book_order()]
    assert sorted(pages) == sorted(p for p in PAGES if p != 'index.html')
    shown = set()
    for name in pages:
        with open(os.path.join(HTML_DIR, name)) as f:
            shown.update(os.path.basename(src) for src in re.findall(
                r'<img [^>]*src="([^"]+\.svg)"', f.read()))
    figures = sorted(os.listdir(os.path.join(ROOT, 'img')))
    assert figures and set(figures) <= shown, (figures, shown)
