"""The built HTML, as a reader's browser sees it: headless Chromium opens
every page of the book from a server on localhost and from file://, at a
desktop's width and a phone's, in light and dark mode, switches its tabs,
and records what goes wrong. `make test` builds the HTML first.
"""
import functools
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'build'))
from evaluate import TABS  # noqa: E402
from finish_html import RAW_MARKUP  # noqa: E402
from make_lib import book_order  # noqa: E402

# RNN_BOOK_HTML_DIR: test other finished pages (a copy being worked on).
HTML_DIR = os.environ.get('RNN_BOOK_HTML_DIR') or os.path.join(
    ROOT, '_build', 'html')
READERS_DIR = os.path.join(os.path.dirname(HTML_DIR), 'notebooks')
SCREENSHOT = os.path.join(ROOT, '_build', 'screenshots', 'rnn-gluon.png')
# The same page in the other tabs: rnn-gluon-pytorch.png, rnn-gluon-jax.png.
SCREENSHOTS = {tab: os.path.join(ROOT, '_build', 'screenshots',
                                 f'rnn-gluon-{tab}.png') for tab in TABS[1:]}
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


def visit(browser, url, **options):
    """Open url; return the page and what went wrong while loading it.
    options: of a new page (viewport, color_scheme)."""
    page = browser.new_page(**options)
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
    """Click the page's first tab named tab, as a reader would, and give
    the page's script time to switch every panel (a busy machine runs it
    late; a switch that never happens is left for the checks to report)."""
    page.locator(f'div.mdl-tabs__tab-bar a.mdl-tabs__tab[href^="#{tab}-"]'
                 ).first.click()
    try:
        page.wait_for_function(
            "tab => [...document.querySelectorAll('div.mdl-tabs__panel')]"
            ".filter(p => p.id.startsWith(tab + '-'))"
            ".every(p => p.getClientRects().length > 0)", arg=tab,
            timeout=20000)
    except PlaywrightTimeout:
        pass


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
    # The default tab first; then the reader picks PyTorch, then JAX: every
    # panel of the page follows, and the choice holds when the page is
    # reloaded.
    problems += check_tab_shown(page, TABS[0])
    if name == 'chapter_rnn/rnn-gluon.html':
        # The theme scrolls an inner pane: a tall window shows more of it.
        page.set_viewport_size({'width': 1280, 'height': 2400})
        os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
        page.screenshot(path=SCREENSHOT)
    for tab in TABS[1:]:
        if tab not in shown_panels(page):
            continue
        switch_to(page, tab)
        problems += check_tab_shown(page, tab)
        selected = page.eval_on_selector_all(
            'a.notebook-download.selected-tab',
            'els => els.map(e => e.dataset.tab)')
        assert selected == [tab]
        page.reload(wait_until='networkidle')
        problems += check_tab_shown(page, tab)
        if name == 'chapter_rnn/rnn-gluon.html':
            page.screenshot(path=SCREENSHOTS[tab])
    page.close()
    assert problems == []


@pytest.mark.parametrize('name', PAGES)
def test_every_page_with_code_has_every_tab(name):
    # The same page in every framework: a notebook in each tab, and PyTorch
    # and JAX code wherever MXNet code is not shared (a `#@tab all` cell
    # shows outside the tab panels, in every tab).
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


WIDTHS = {'desktop': 1280, 'phone': 390}
SCHEMES = ['http', 'file']


def url_of(server, scheme, name):
    if scheme == 'http':
        return server + name
    return 'file://' + urllib.request.pathname2url(
        os.path.join(HTML_DIR, name))


def wait_for_math(page):
    if page.locator('.math').count():
        # MathJax typesets asynchronously; its output is <mjx-container>.
        page.wait_for_selector('mjx-container', timeout=20000)
        page.wait_for_function('() => !document.querySelector('
                               '".math:not(:has(mjx-container))")',
                               timeout=20000)
        # static/book.js fits what MathJax typeset in the next frame.
        page.evaluate('() => new Promise(done => requestAnimationFrame('
                      '() => requestAnimationFrame(done)))')


# What the page shows as text, code cells and outputs aside.
SHOWN_TEXT = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('pre, script, style').forEach(e => e.remove());
  return document.title + ' ' + body.textContent;
}"""
# Everything that is wider than it may be: the page, the theme's scrolling
# pane, and each display equation, output, table and figure that sticks
# out of the pane (unless it scrolls inside its own box).
OVERFLOWS = """() => {
  const out = [];
  const vw = document.documentElement.clientWidth;
  const root = document.scrollingElement;
  if (root.scrollWidth > vw + 1) out.push(`page ${root.scrollWidth} px`);
  const pane = document.querySelector('main.mdl-layout__content');
  if (pane && pane.scrollWidth > pane.clientWidth + 1)
    out.push(`pane ${pane.scrollWidth} px in ${pane.clientWidth}`);
  const scrolls = e => ['auto', 'scroll'].includes(
      getComputedStyle(e).overflowX);
  const shown = e => e.getClientRects().length > 0;
  document.querySelectorAll('mjx-container[display="true"]').forEach(e => {
    const r = e.getBoundingClientRect();
    if (!shown(e)) return;
    if (r.right > vw + 1) out.push(`equation ends at ${r.right} px`);
    if (e.scrollWidth > e.clientWidth + 1 && !scrolls(e))
      out.push(`equation cut: ${e.scrollWidth} px in ${e.clientWidth}`);
  });
  document.querySelectorAll('.output pre, pre.output').forEach(e => {
    if (shown(e) && e.scrollWidth > e.clientWidth + 1)
      out.push(`output line ${e.scrollWidth} px in ${e.clientWidth}: ` +
               e.textContent.slice(0, 60));
  });
  document.querySelectorAll('header button, header a, header input')
      .forEach(e => {
    const r = e.getBoundingClientRect();
    if (shown(e) && r.width && getComputedStyle(e).visibility !== 'hidden'
        && r.right > vw + 1)
      out.push(`header ${e.tagName}.${e.className} ends at ${r.right} px`);
  });
  document.querySelectorAll('.page-content img, .page-content table')
      .forEach(e => {
    const r = e.getBoundingClientRect();
    if (shown(e) && r.right > vw + 1 && !scrolls(e))
      out.push(`${e.tagName} ends at ${r.right} px`);
  });
  return out;
}"""
# Each piece of punctuation right after inline math that sits on another
# line than the math.
PUNCTUATION_ALONE = """() => [...document.querySelectorAll('span.math')]
  .filter(m => m.getClientRects().length && m.nextSibling &&
               m.nextSibling.nodeType === 3 &&
               /^[.,:;!?)]/.test(m.nextSibling.textContent))
  .map(m => {
    const range = document.createRange();
    range.setStart(m.nextSibling, 0);
    range.setEnd(m.nextSibling, 1);
    const mark = range.getBoundingClientRect();
    const math = m.getBoundingClientRect();
    const middle = (mark.top + mark.bottom) / 2;
    return middle < math.top || middle > math.bottom ?
      `"${m.nextSibling.textContent[0]}" alone after ${m.textContent}` : null;
  }).filter(x => x)"""
# Each copy button that covers the first line of its code cell.
COVERED = """() => [...document.querySelectorAll('button.copy-button')]
  .filter(b => b.getClientRects().length).map(b => {
    const pre = b.parentNode.querySelector('pre');
    const range = document.createRange();
    range.selectNodeContents(pre);
    const rects = [...range.getClientRects()].filter(r => r.width > 0);
    const line = rects.filter(r => rects.length &&
                                   Math.abs(r.top - rects[0].top) < 2);
    const box = b.getBoundingClientRect();
    return line.some(r => box.bottom > r.top && box.top < r.bottom &&
                          box.left < r.right && box.right > r.left) ?
      pre.textContent.slice(0, 40) : null;
  }).filter(x => x)"""


@pytest.mark.parametrize('scheme', SCHEMES)
@pytest.mark.parametrize('width', WIDTHS)
@pytest.mark.parametrize('name', PAGES)
def test_page_reads_well(browser, server, name, width, scheme):
    # As a reader sees the page, at a desktop's and a phone's width, from
    # a server and from file://: no error, no request off the site, no
    # markup left as text, nothing wider than the screen (long equations
    # scroll in their own box, outputs wrap), no code hidden by its copy
    # button, outputs as plain text.
    page, problems = visit(browser, url_of(server, scheme, name),
                           viewport={'width': WIDTHS[width], 'height': 800})
    wait_for_math(page)
    raw = [m.group() for m in RAW_MARKUP.finditer(page.evaluate(SHOWN_TEXT))]
    assert raw == []
    assert 'documentation' not in page.title()
    assert page.locator('a[href*="_sources/"]').count() == 0
    problems += page.evaluate(OVERFLOWS)
    problems += [f'copy button covers: {text}'
                 for text in page.evaluate(COVERED)]
    # Inline math keeps the punctuation after it on its line ("in (0, 1):"
    # never leaves the colon alone on the next).
    problems += page.evaluate(PUNCTUATION_ALONE)
    # Images say what they show, not where their file is.
    alts = page.eval_on_selector_all(
        '.page-content img', 'els => els.map(e => [e.alt, e.src])')
    problems += [f'image described by its path: {src}' for alt, src in alts
                 if not alt or alt in src or alt.endswith(('.svg', '.png'))]
    # Outputs are text, not highlighted as Python.
    assert page.locator('.output pre span[class], '
                        'pre.output span[class]').count() == 0
    for tab in TABS[1:]:
        if tab in shown_panels(page):
            switch_to(page, tab)
            problems += page.evaluate(OVERFLOWS)
            problems += [f'{tab}: copy button covers: {text}'
                         for text in page.evaluate(COVERED)]
    page.close()
    assert problems == []


@pytest.mark.parametrize('scheme', SCHEMES)
def test_search_shows_excerpts(browser, server, scheme):
    page, problems = visit(browser, url_of(server, scheme, 'search.html')
                           + '?q=perplexity')
    page.wait_for_selector('ul.search li p.context', timeout=20000)
    hits = page.eval_on_selector_all('ul.search li a',
                                     'els => els.map(e => e.href)')
    assert any('rnn-scratch.html' in hit for hit in hits), hits
    excerpts = page.eval_on_selector_all(
        'ul.search li p.context', 'els => els.map(e => e.textContent)')
    assert len(excerpts) == len(hits)
    assert all('perplexity' in text.lower() for text in excerpts), excerpts
    # The theme's previous/next bar shows only with links in it (else an
    # empty dark band ends the page).
    bar = page.locator('div.pagenation')
    assert bar.locator('a').count() > 0 or not bar.is_visible()
    page.close()
    assert problems == []


def luminance(rgb):
    """Relative luminance (WCAG 2) of an (r, g, b) of 0-255."""
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


# Colour and background (the first opaque one up the tree) of text: the
# page's body, paragraphs, list items, headings, links, inline code,
# code, outputs, table cells, the navigation and the outline.
COLOURS = """() => {
  const rgba = s => s.match(/[\d.]+/g).map(Number);
  const ground = e => {
    for (; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c.length < 4 || c[3] > 0.5) return c;
    }
    return [255, 255, 255];
  };
  const sel = '.page-content p, .page-content li, .page-content h1, ' +
    '.page-content h2, .page-content a, .page-content code, ' +
    '.page-content pre, .page-content pre span, .page-content td, ' +
    '.page-content th, .mdl-layout__drawer a, .side-doc-outline a, ' +
    'button.theme-toggle, .decoding-playground span, ' +
    '.decoding-playground button, .decoding-playground output, ' +
    '.surprisal-reader button, .surprisal-reader span:not(.sr-c)';
  return [...document.querySelectorAll(sel)]
    .filter(e => e.getClientRects().length && e.textContent.trim())
    .map(e => ({what: e.tagName + '.' + e.className + ': ' +
                      e.textContent.trim().slice(0, 30),
                colour: rgba(getComputedStyle(e).color),
                ground: ground(e)}));
}"""


def dark(page):
    return page.evaluate(
        "document.documentElement.classList.contains('dark')")


@pytest.mark.parametrize('name', ['index.html', 'chapter_rnn/rnn.html',
                                  'chapter_rnn/bptt.html',
                                  'chapter_rnn/decoding.html'])
def test_dark_mode(browser, server, name):
    # A reader whose system is set to dark gets dark pages: a dark ground,
    # text that contrasts with it, plots still readable (bptt plots the
    # gradient norms).
    page, problems = visit(browser, server + name, color_scheme='dark')
    assert dark(page)
    ground = page.evaluate("""() => getComputedStyle(document.querySelector(
        'main.mdl-layout__content')).backgroundColor""")
    assert luminance([int(float(c)) for c in re.findall(
        r'[\d.]+', ground)]) < 0.1, ground
    body = page.evaluate('getComputedStyle(document.body).backgroundColor')
    assert luminance([int(float(c)) for c in re.findall(
        r'[\d.]+', body)]) < 0.1, body
    poor = [(t['what'], round(contrast(t['colour'], t['ground']), 2))
            for t in page.evaluate(COLOURS)
            if contrast(t['colour'], t['ground']) < 4.5]
    assert poor == []
    plots = page.locator('.page-content img[src*="output_"]')
    assert plots.count() > 0 or name != 'chapter_rnn/bptt.html'
    if plots.count():
        plot = plots.first
        plot.scroll_into_view_if_needed()
        pixels = Image.open(io.BytesIO(plot.screenshot())).convert('L')
        values = sorted(pixels.getdata())
        # Dark ink on a light ground: most pixels light, some dark.
        assert values[len(values) // 2] > 200, 'the plot has a dark ground'
        assert values[len(values) // 100] < 100, 'the plot has no dark ink'
    page.close()
    assert problems == []


def test_dark_mode_switch_holds_across_pages(browser, server):
    # The switch overrides the system setting, on the next page too.
    context = browser.new_context(color_scheme='light')
    page = context.new_page()
    page.goto(server + 'index.html', wait_until='networkidle')
    assert not dark(page)
    page.click('button.theme-toggle')
    assert dark(page)
    page.goto(server + 'chapter_rnn/rnn.html', wait_until='networkidle')
    assert dark(page)
    page.click('button.theme-toggle')
    assert not dark(page)
    page.goto(server + 'index.html', wait_until='networkidle')
    assert not dark(page)
    context.close()


@pytest.mark.parametrize('scheme', SCHEMES)
def test_cross_references_preview_their_target(browser, server, scheme):
    # Hovering "Section 1.3" or "Fig. 1.3.1" shows what it points at,
    # read from the target page's heading or caption.
    name = 'chapter_rnn/rnn-scratch.html'
    page, problems = visit(browser, url_of(server, scheme, name))
    links = page.locator('a.reference.internal:has(span.std-numref)')
    assert links.count() > 0
    previews = []
    for i in range(links.count()):
        link = links.nth(i)
        if not link.is_visible():
            continue
        link.hover()
        box = page.locator('div.ref-preview')
        assert box.is_visible()
        previews.append((link.inner_text(), box.inner_text()))
        page.mouse.move(0, 0)
        assert not box.is_visible()
    assert previews
    for shown, preview in previews:
        # "Section 1.3" previews "1.3. Recurrent ...", "Fig. 1.3.1" its
        # caption "Fig. 1.3.1 ...".
        number = shown.split()[-1]
        assert preview.startswith((number + '.', shown)), (shown, preview)
        assert len(preview) > len(number) + 3, (shown, preview)
    page.close()
    assert problems == []


@pytest.mark.parametrize('name', ['chapter_rnn/lstm.html',
                                  'chapter_rnn/decoding.html'])
def test_switching_tabs_keeps_the_clicked_tab_in_place(browser, server,
                                                       name):
    # Panels above the clicked tab change height when the tab changes
    # (lstm's PyTorch cells are longer); the tab the reader clicked stays
    # under the pointer, in whichever direction.
    page, problems = visit(browser, server + name)
    bars = page.locator('div.mdl-tabs__tab-bar')
    shifts = []
    for i in range(max(0, bars.count() - 3), bars.count()):
        for tab in TABS[1:] + TABS[:1]:
            link = bars.nth(i).locator(f'a.mdl-tabs__tab[href^="#{tab}-"]')
            if not link.count():
                continue
            link.scroll_into_view_if_needed()
            before = link.bounding_box()['y']
            link.click()
            shifts.append(round(link.bounding_box()['y'] - before))
    assert shifts and all(abs(shift) < 2 for shift in shifts), shifts
    page.close()
    assert problems == []


def test_front_page_says_how_to_run_each_tab(browser, server):
    # The front page, in every tab: the tabs, how to run that tab's
    # notebooks with its own requirements file, and that a notebook needs
    # the archive's gluonbook.
    page, problems = visit(browser, server + 'index.html')
    for tab in TABS:
        if tab != TABS[0]:
            switch_to(page, tab)
        text = page.locator('div.page-content').inner_text()
        assert f'requirements-{tab}.txt' in text
        assert 'rnn-book-notebooks.zip' in text and 'gluonbook' in text
    page.close()
    assert problems == []


def test_citations_link_to_the_reference_list():
    # Every work the chapter cites is an entry of one reference list, and
    # every citation links to its entry; every entry is cited.
    from bs4 import BeautifulSoup
    from pybtex.database import parse_file
    entries = {}  # (page, id) -> entry text
    links = []  # (page, target, text)
    for name in PAGES:
        with open(os.path.join(HTML_DIR, name), encoding='utf-8') as f:
            main = BeautifulSoup(f, 'html.parser').find('div', role='main')
        for entry in main.select('div.citation[id]'):
            entries[(name, entry['id'])] = entry.get_text(' ')
        for a in main.select('a.reference.internal[href]'):
            path, _, anchor = a['href'].partition('#')
            target = os.path.normpath(os.path.join(
                os.path.dirname(name), path)) if path else name
            links.append((name, (target, anchor), a.parent.get_text()))
    cited = [(page, target, text) for page, target, text in links
             if target in entries]
    works = parse_file(os.path.join(ROOT, 'references.bib')).entries
    assert len(entries) == len(works)
    assert {target for _, target, _ in cited} == set(entries)
    shown = {' '.join(text.split()) for _, _, text in cited}
    assert 'Cho et al. (2014)' in shown, shown
    assert '(Kingma and Ba, 2015)' in shown, shown
    # No citation is left unresolved: sphinxcontrib-bibtex shows "()".
    for name in PAGES:
        with open(os.path.join(HTML_DIR, name), encoding='utf-8') as f:
            assert not re.search(r'<span id="id\d+">\(\)</span>',
                                 f.read()), name


# --- The decoding playground (static/playground.js) ------------------------
# The page runs each tab's trained LSTM from the weights that decoding.md
# exported; its numbers are compared with the Python model's, read from
# the same parameters with the book's functions.

PLAYGROUND = 'chapter_rnn/decoding.html'
MODEL_OF_TAB = {'mxnet': 'lstm-gluon', 'pytorch': 'lstm-pytorch', 'jax': 'lstm-jax'}
PLAYGROUND_PREFIXES = ['the time traveller ', 'it was', 'q']
PLAYGROUND_SETTINGS = [{'temperature': 1, 'k': None, 'p': None},
                       {'temperature': 0.7, 'k': 5, 'p': 0.9}]
# Calls a function of window.RNN_BOOK_PLAYGROUND on the model of the tab
# the page shows: [name, args] -> its result.
PLAYGROUND_CALL = """([name, args]) => new Promise((resolve, reject) => {
  const P = window.RNN_BOOK_PLAYGROUND;
  P.withModel(P.currentTab(), m => {
    const out = P[name](m, ...args);
    resolve(out.text === undefined ? out : out.text);
  }, reject);
})"""


@functools.lru_cache(maxsize=None)
def jax_reference(request):
    """The JAX tab's LSTM, in the JAX environment (tests/jax_reference.py):
    the answer to one request, given as a JSON string."""
    import outputs
    results = os.path.join(outputs.EVAL_DIR, 'chapter_rnn', 'results')
    answer = subprocess.run(
        [os.path.join(ROOT, '.venv-jax', 'bin', 'python'),
         os.path.join(ROOT, 'tests', 'jax_reference.py')],
        input=json.dumps({'results': results,
                          'requests': [json.loads(request)]}),
        capture_output=True, text=True, check=True).stdout
    return json.loads(answer)[0]


@functools.lru_cache(maxsize=None)
def python_lstm(tab):
    """(gb, model, ctx or device, char_to_idx, idx_to_char, vocab_size):
    the tab's trained LSTM as decoding.md loads it (for JAX, whose model
    runs in its own environment, only the vocabulary)."""
    import outputs
    path = os.path.join(outputs.EVAL_DIR, 'chapter_rnn', 'results',
                        MODEL_OF_TAB[tab])
    if tab == 'jax':
        import gluonbook as gb  # the same vocabulary in every tab
        _, char_to_idx, idx_to_char, vocab_size = gb.load_data_time_machine()
        return None, None, None, char_to_idx, idx_to_char, vocab_size
    if tab == 'mxnet':
        import gluonbook as gb
        import mxnet as mx
        from mxnet.gluon import rnn
        _, char_to_idx, idx_to_char, vocab_size = gb.load_data_time_machine()
        model = gb.RNNModel(rnn.LSTM(256), vocab_size)
        ctx = mx.cpu()
        model.load_parameters(path + '.params', ctx=ctx)
    else:
        import torch
        from gluonbook import torch as gb
        from torch import nn
        _, char_to_idx, idx_to_char, vocab_size = gb.load_data_time_machine()
        model = gb.RNNModel(nn.LSTM(vocab_size, 256), vocab_size)
        ctx = torch.device('cpu')
        model.load_state_dict(torch.load(path + '.pt', map_location=ctx))
        model.eval()
    return gb, model, ctx, char_to_idx, idx_to_char, vocab_size


def python_probabilities(tab, prefix, settings):
    """The next-character distribution after prefix, as predict_sample
    computes it (float64, from the model's float32 scores)."""
    if tab == 'jax':
        import numpy as np
        return np.array(jax_reference(json.dumps(
            ['probabilities', prefix, settings])))
    gb, model, ctx, char_to_idx, _, vocab_size = python_lstm(tab)
    indices = [[char_to_idx[c] for c in prefix]]
    if tab == 'mxnet':
        from mxnet import nd
        Y, _ = model(nd.array(indices, ctx=ctx), model.begin_state(
            batch_size=1, ctx=ctx))
        scores = Y[-1].asnumpy()
    else:
        import torch
        with torch.no_grad():
            Y, _ = model(torch.tensor(indices), model.begin_state(1, ctx))
        scores = Y[-1].numpy()
    probs = gb.softmax_with_temperature(scores, settings['temperature'])
    if settings['k'] is not None:
        probs = gb.top_k_probs(probs, settings['k'])
    if settings['p'] is not None:
        probs = gb.top_p_probs(probs, settings['p'])
    return probs


def python_beam_search(tab, prefix, num_chars, beam_width):
    if tab == 'jax':
        return jax_reference(json.dumps(['beam', prefix, num_chars,
                                         beam_width]))
    gb, model, ctx, char_to_idx, idx_to_char, vocab_size = python_lstm(tab)
    return gb.predict_beam_search(prefix, num_chars, model, vocab_size, ctx,
                                  idx_to_char, char_to_idx,
                                  beam_width=beam_width)


def open_playground(browser, url, tab, **options):
    """The decoding page with tab chosen and its model loaded."""
    page, problems = visit(browser, url, **options)
    if tab != TABS[0]:
        switch_to(page, tab)
    page.wait_for_selector(
        f'div.decoding-playground[data-model="{MODEL_OF_TAB[tab]}"]',
        timeout=20000)
    return page, problems


def set_control(page, name, value):
    """Move the playground's slider called name to value, as a reader
    does (an input event)."""
    page.evaluate("""([name, value]) => {
      const label = [...document.querySelectorAll('label.dp-slider')]
          .find(l => l.querySelector('.dp-slider-name').textContent === name);
      const input = label.querySelector('input');
      input.value = value;
      input.dispatchEvent(new Event('input'));
    }""", [name, value])


def decode_in_page(page, prefix, decoder, num_chars, **sliders):
    """Type prefix, set the sliders, press the decoder's button; return
    the continuation that the page shows."""
    page.fill('div.decoding-playground label.dp-prefix input', prefix)
    set_control(page, 'characters', num_chars)
    for name, value in sliders.items():
        set_control(page, name.replace('_', ' '), value)
    page.click(f'button[data-decoder="{decoder}"]')
    assert page.inner_text('span.dp-out-prefix') == prefix
    return page.eval_on_selector('span.dp-out-text', 'e => e.textContent')


@pytest.mark.parametrize('tab', TABS)
def test_playground_computes_what_python_computes(browser, server, tab,
                                                  record_property):
    import numpy as np
    import outputs
    page, problems = open_playground(browser, server + PLAYGROUND, tab)
    # The next-character probabilities of three prefixes, with and
    # without temperature and cuts, within float32's precision.
    worst = 0.0
    for prefix in PLAYGROUND_PREFIXES:
        for settings in PLAYGROUND_SETTINGS:
            shown = np.array(page.evaluate(PLAYGROUND_CALL, [
                'probabilities', [prefix, settings]]))
            expected = python_probabilities(tab, prefix, settings)
            worst = max(worst, float(np.abs(shown - expected).max()))
    print(f'{tab}: largest probability difference {worst:.2e}')
    record_property(f'max_probability_error_{tab}', worst)
    assert worst < 1e-5
    # The bars show the ten likeliest characters after the page's prefix.
    prefix = page.input_value('div.decoding-playground label.dp-prefix input')
    bars = page.eval_on_selector_all(
        'div.dp-bar-row', 'rows => rows.map(r => [r.dataset.char, '
        'Number(r.dataset.prob), r.hidden])')
    expected = python_probabilities(tab, prefix, PLAYGROUND_SETTINGS[0])
    order = np.argsort(-expected, kind='stable')[:10]
    _, _, _, _, idx_to_char, _ = python_lstm(tab)
    assert [c for c, _, _ in bars] == [idx_to_char[i] for i in order]
    assert not any(hidden for _, _, hidden in bars)
    assert np.allclose([p for _, p, _ in bars], expected[order], atol=1e-5)
    # Greedy: the section's printed samples; beam search: its width-4
    # sample, and Python's predict_beam_search at the widest beam.
    greedy = outputs.output(
        'chapter_rnn/decoding', 'for prefix in [\'traveller\', \'time '
        'traveller\']:\n    print(gb.predict_rnn_', tab).splitlines()
    assert len(greedy) == 2
    for prefix, text in zip(['traveller', 'time traveller'], greedy):
        assert decode_in_page(page, prefix, 'greedy',
                              len(text) - len(prefix)) == text[len(prefix):]
    beam = outputs.output('chapter_rnn/decoding',
                          'beam_1 = predict_beam_search(', tab)
    text = beam.splitlines()[-1]
    assert decode_in_page(page, 'traveller', 'beam search', 60,
                          beam_width=4) == text[len('traveller'):]
    prefix = 'the time traveller '
    assert decode_in_page(page, prefix, 'beam search', 100,
                          beam_width=5) == python_beam_search(
                              tab, prefix, 100, 5)[len(prefix):]
    score = page.inner_text('p.dp-score')
    assert re.search(r'log-likelihood -\d+\.\d\d bits per character', score)
    page.close()
    assert problems == []


def test_playground_responds_quickly(browser, server, record_property):
    # A slider updates the bars within 200 ms (measured to the next frame
    # drawn), and 200 sampled characters take under 2 s.
    page, problems = open_playground(browser, server + PLAYGROUND, TABS[0])
    before = page.eval_on_selector_all(
        'div.dp-bar-row', 'rows => rows.map(r => r.dataset.prob)')
    slider_ms = page.evaluate("""() => new Promise(resolve => {
      const label = [...document.querySelectorAll('label.dp-slider')]
          .find(l => l.querySelector('.dp-slider-name').textContent ===
                     'temperature');
      const input = label.querySelector('input');
      const start = performance.now();
      input.value = 0.5;
      input.dispatchEvent(new Event('input'));
      requestAnimationFrame(() => resolve(performance.now() - start));
    })""")
    after = page.eval_on_selector_all(
        'div.dp-bar-row', 'rows => rows.map(r => r.dataset.prob)')
    assert after != before
    page.fill('div.decoding-playground label.dp-prefix input',
              'the time traveller ')
    set_control(page, 'characters', 200)
    sample_ms = page.evaluate("""() => {
      const start = performance.now();
      document.querySelector('button[data-decoder="sample"]').click();
      return performance.now() - start;
    }""")
    assert len(page.eval_on_selector('span.dp-out-text',
                                     'e => e.textContent')) == 200
    print(f'slider to bars {slider_ms:.1f} ms, 200 sampled characters '
          f'{sample_ms:.1f} ms')
    record_property('slider_to_bars_ms', slider_ms)
    record_property('sample_200_chars_ms', sample_ms)
    assert slider_ms < 200
    assert sample_ms < 2000
    page.close()
    assert problems == []


@pytest.mark.parametrize('scheme', SCHEMES)
def test_playground_works_offline(browser, server, scheme):
    # From file:// and from the server: each tab's weights load from
    # beside the page, every decoder runs, nothing is asked of another
    # host and nothing goes wrong.
    page, problems = open_playground(browser, url_of(server, scheme,
                                                     PLAYGROUND), TABS[0])
    loaded = []
    page.on('request', lambda r: loaded.append(r.url))
    for tab in TABS:
        if tab != TABS[0]:
            switch_to(page, tab)
            page.wait_for_selector(
                f'div.decoding-playground[data-model="{MODEL_OF_TAB[tab]}"]',
                timeout=20000)
        assert f'the {dict(mxnet="MXNet", pytorch="PyTorch", jax="JAX")[tab]} tab' in \
            page.inner_text('p.dp-status')
        for decoder in ['greedy', 'sample', 'beam search']:
            page.click(f'button[data-decoder="{decoder}"]')
            assert page.inner_text('span.dp-out-text')
            assert 'NaN' not in page.inner_text('div.decoding-playground')
    assert [url.rsplit('/', 1)[-1] for url in loaded] == \
        [MODEL_OF_TAB[tab] + '.js' for tab in TABS[1:]]
    # Reopened, the page remembers the last tab and loads its weights only.
    loaded.clear()
    page.reload(wait_until='networkidle')
    page.wait_for_selector(
        f'div.decoding-playground[data-model="{MODEL_OF_TAB[TABS[-1]]}"]',
        timeout=20000)
    assert [url.rsplit('/', 1)[-1] for url in loaded
            if url.endswith('.js') and 'lstm-' in url] == [
                MODEL_OF_TAB[TABS[-1]] + '.js']
    page.close()
    assert problems == []


def test_playground_names_a_character_it_does_not_know(browser, server):
    page, problems = open_playground(browser, server + PLAYGROUND, TABS[0])
    box = 'div.decoding-playground label.dp-prefix input'
    for prefix, named in [('The time', ['"T"']),
                          ('in 1895.', ['"1"', '"8"', '"9"', '"5"', '"."'])]:
        page.fill(box, prefix)
        message = page.inner_text('p.dp-message')
        assert all(n in message for n in named), message
        assert 'vocabulary has no' in message
        assert page.locator('button.dp-run:disabled').count() == 3
        assert page.locator('div.dp-bar-row:not([hidden])').count() == 0
        assert 'NaN' not in page.inner_text('div.decoding-playground')
    page.fill(box, '')
    assert 'at least one character' in page.inner_text('p.dp-message')
    page.fill(box, 'the time')
    assert page.eval_on_selector('p.dp-message', 'e => e.textContent') == ''
    assert page.locator('button.dp-run:disabled').count() == 0
    assert page.locator('div.dp-bar-row:not([hidden])').count() == 10
    page.close()
    assert problems == []


def part_fits_a_dark_phone(page, name, prefix):
    """Check that the interactive part div.<name> of a page opened at a
    phone's width in dark mode fits the screen and that its texts (of
    classes starting with prefix) contrast with their ground; return the
    page's overflows."""
    assert dark(page)
    overflows = page.evaluate(OVERFLOWS)
    page.locator(f'div.{name}').scroll_into_view_if_needed()
    right = page.evaluate(f"""() => Math.max(...[...document.querySelectorAll(
        '.{name} *')].filter(e => e.getClientRects().length)
        .map(e => e.getBoundingClientRect().right))""")
    assert right <= WIDTHS['phone']
    poor = [(t['what'], round(contrast(t['colour'], t['ground']), 2))
            for t in page.evaluate(COLOURS) if prefix in t['what'] and
            contrast(t['colour'], t['ground']) < 4.5]
    assert poor == []
    return overflows


@pytest.mark.parametrize('tab', TABS)
def test_playground_fits_a_phone_in_dark_mode(browser, server, tab):
    page, problems = open_playground(
        browser, server + PLAYGROUND, tab,
        viewport={'width': WIDTHS['phone'], 'height': 800},
        color_scheme='dark')
    problems += part_fits_a_dark_phone(page, 'decoding-playground', 'dp-')
    # Every bar has room to show its probability.
    widths = page.eval_on_selector_all(
        'span.dp-track', 'els => els.map(e => e.clientWidth)')
    assert min(widths) > 100, widths
    page.close()
    assert problems == []


# --- The surprisal reader (static/surprisal.js) ----------------------------
# The comparison page shows the passage and the numbers that
# comparison.md wrote for each tab (results/surprisal-<tab>.js);
# tests/test_surprisal.py checks those data against the build's outputs.

SURPRISAL = 'chapter_rnn/comparison.html'
SURPRISAL_POSITIONS = [0, 37, 150, 268]  # and the passage's last character


def surprisal_data(tab):
    """The data that the comparison section wrote for tab's page."""
    import outputs
    path = os.path.join(outputs.EVAL_DIR, 'chapter_rnn', 'results',
                        f'surprisal-{tab}.js')
    with open(path, encoding='utf-8') as f:
        text = f.read()
    return json.loads(text[text.index('] = ') + 4:].rstrip().rstrip(';'))


def open_reader(browser, url, tab, **options):
    """The comparison page with tab chosen and its data shown."""
    page, problems = visit(browser, url, **options)
    if tab != TABS[0]:
        switch_to(page, tab)
    page.wait_for_selector(f'div.surprisal-reader[data-tab="{tab}"]',
                           timeout=20000)
    return page, problems


def reader_shows(page):
    """What the reader's panel shows for the character it points at."""
    return page.evaluate("""() => {
      const info = document.querySelector('div.sr-info');
      const text = sel => (info.querySelector(sel) || {}).textContent;
      return {index: Number(info.getAttribute('data-index')),
              bits: text('span.sr-bits'), gate: text('span.sr-gate-value'),
              miss: text('p.sr-miss'),
              top: [...info.querySelectorAll('ol.sr-top li')].map(li => [
                li.querySelector('.sr-top-char').textContent,
                li.querySelector('.sr-top-prob').textContent]),
              mean: document.querySelector('p.sr-mean').textContent};
    }""")


@pytest.mark.parametrize('tab', TABS)
def test_surprisal_reader_shows_the_builds_data(browser, server, tab):
    # For every model, at five fixed characters, pointing at a character
    # shows the bits, the five likeliest predictions and (GRU, LSTM) the
    # gate that the build wrote; each character's colour grows with its
    # bits; the mean line quotes the data.
    data = surprisal_data(tab)
    page, problems = open_reader(browser, server + SURPRISAL, tab)
    assert page.eval_on_selector('p.sr-passage',
                                 'e => e.textContent') == data['text']
    assert [m['name'] for m in data['models']] == [
        '5-gram', 'RNN', 'GRU', 'LSTM']
    for model in data['models']:
        page.click(f'button.sr-model >> text="{model["name"]}"')
        assert page.get_attribute('div.surprisal-reader',
                                  'data-model') == model['name']
        for i in SURPRISAL_POSITIONS + [len(data['text']) - 1]:
            page.hover(f'span.sr-c[data-i="{i}"]')
            shown = reader_shows(page)
            assert shown['index'] == i
            assert shown['bits'] == '%.2f' % model['bits'][i]
            assert shown['top'] == [['\u2423' if c == ' ' else c, '%.3f' % p]
                                    for c, p in model['top'][i]]
            assert shown['gate'] == (None if model['gate'] is None
                                     else '%.2f' % model['gate'][i])
            char = data['text'][i]
            assert shown['miss'] == (None if char in [
                c for c, _ in model['top'][i]] else (
                    'The space' if char == ' ' else f'"{char}"')
                + ' is not among them.')
        assert (f"{model['passage_bits']} bits per character on this "
                f"passage, {model['val_bits']} over the validation "
                f"text (perplexity {model['perplexity']}"
                ) in shown['mean']
        shades = page.eval_on_selector_all('span.sr-c', """els => els.map(
            e => Number(e.style.getPropertyValue('--sr-shade')))""")
        assert shades == [round(0.6 * min(b, 8) / 8, 3)
                          for b in model['bits']]
    # A tap (a click) and the arrow keys point at characters too.
    page.click('span.sr-c[data-i="5"]')
    assert reader_shows(page)['index'] == 5
    page.focus('p.sr-passage')
    page.keyboard.press('ArrowRight')
    assert reader_shows(page)['index'] == 6
    assert 'NaN' not in page.inner_text('div.surprisal-reader')
    page.close()
    assert problems == []


@pytest.mark.parametrize('scheme', SCHEMES)
def test_surprisal_reader_works_offline(browser, server, scheme):
    # From file:// and from the server, each tab's data load from beside
    # the page, once, and switching tabs switches the reader's data.
    page, problems = open_reader(browser, url_of(server, scheme, SURPRISAL),
                                 TABS[0])
    loaded = []
    page.on('request', lambda r: loaded.append(r.url))
    shown = {}
    for tab in TABS + TABS[:1]:
        if page.get_attribute('html', 'data-tab') != tab:
            switch_to(page, tab)
        page.wait_for_selector(f'div.surprisal-reader[data-tab="{tab}"]',
                               timeout=20000)
        page.hover('span.sr-c[data-i="150"]')
        shown.setdefault(tab, reader_shows(page))
        assert reader_shows(page) == shown[tab]
        assert shown[tab]['bits'] == '%.2f' % surprisal_data(tab)[
            'models'][-1]['bits'][150]
    assert [url.rsplit('/', 1)[-1] for url in loaded] == [
        f'surprisal-{tab}.js' for tab in TABS[1:]]
    page.close()
    assert problems == []


@pytest.mark.parametrize('tab', TABS)
def test_surprisal_reader_fits_a_phone_in_dark_mode(browser, server, tab):
    page, problems = open_reader(
        browser, server + SURPRISAL, tab,
        viewport={'width': WIDTHS['phone'], 'height': 800},
        color_scheme='dark')
    problems += part_fits_a_dark_phone(page, 'surprisal-reader', 'sr-')
    # The characters' own backgrounds are translucent: the text is
    # checked against each one laid over the reader's background.
    for model in ['5-gram', 'LSTM']:
        page.click(f'button.sr-model >> text="{model}"')
        spans = page.evaluate("""() => {
          const rgba = s => s.match(/[\\d.]+/g).map(Number);
          const box = document.querySelector('div.surprisal-reader');
          return {ground: rgba(getComputedStyle(box).backgroundColor),
                  spans: [...document.querySelectorAll('span.sr-c')].map(
                    e => [rgba(getComputedStyle(e).color),
                          rgba(getComputedStyle(e).backgroundColor)])};
        }""")
        ground = spans['ground'][:3]
        worst = min(contrast(colour, [a * c + (1 - a) * g for c, g in zip(
            back[:3], ground)] if len(back) == 4 else back)
            for colour, back in spans['spans'] for a in [
                back[3] if len(back) == 4 else 1])
        assert worst >= 4.5, (model, worst)
    page.close()
    assert problems == []


def test_surprisal_reader_responds_quickly(browser, server, record_property):
    # Choosing another model recolours the passage and fills the panel
    # before the next frame is drawn, well within 200 ms.
    page, problems = open_reader(browser, server + SURPRISAL, TABS[0])
    times = []
    for name in ['5-gram', 'RNN', 'GRU', 'LSTM'] * 2:
        times.append(page.evaluate("""name => new Promise(resolve => {
          const button = [...document.querySelectorAll('button.sr-model')]
              .find(b => b.textContent === name);
          const start = performance.now();
          button.click();
          requestAnimationFrame(() => resolve(performance.now() - start));
        })""", name))
        assert page.get_attribute('div.surprisal-reader',
                                  'data-model') == name
    switch_ms = sorted(times)[len(times) // 2]
    print(f'model switch to the next frame: median {switch_ms:.1f} ms, '
          f'slowest {max(times):.1f} ms')
    record_property('model_switch_ms', switch_ms)
    assert max(times) < 200
    page.close()
    assert problems == []


def test_surprisal_reader_says_when_its_data_are_missing(browser, tmp_path):
    # A page copied without the data beside it says which file it lacks,
    # instead of an empty or broken reader.
    shutil.copytree(HTML_DIR, tmp_path / 'html')
    for tab in TABS:
        os.remove(tmp_path / 'html' / 'chapter_rnn' / f'surprisal-{tab}.js')
    page, problems = visit(browser, 'file://' + urllib.request.pathname2url(
        str(tmp_path / 'html' / SURPRISAL)))
    status = page.locator('p.sr-status')
    status.filter(has_text='cannot run').wait_for(timeout=20000)
    assert status.inner_text() == (
        f'The surprisal reader cannot run: surprisal-{TABS[0]}.js was not '
        'found beside this page.')
    assert page.locator('span.sr-c').count() == 0
    page.close()
    # The browser reports the missing script itself; nothing else fails.
    assert all(f'surprisal-{TABS[0]}.js' in p or 'ERR_FILE_NOT_FOUND' in p
               for p in problems), problems
