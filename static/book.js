// Added to every page of the book (config.ini: [html] include_js).
// 1. A copy button on each code cell, using the browser's clipboard API.
// 2. The framework tabs (MXNet, PyTorch): one click switches every code
//    cell and text block of the page, and the choice is kept for the
//    next page.
// 3. Links to the page's notebook in each tab and to the archive of all
//    notebooks.
// 4. Dark mode: the reader's system setting, or the choice made with the
//    button in the header, which holds on every page.
// 5. Search excerpts from the pages' texts (build/finish_html.py), read
//    by a script tag: fetching the pages fails from file://.
// 6. Hover previews of cross-references ("Section 1.3", "Fig. 1.3.1"):
//    the target's title or caption (build/finish_html.py).
// 7. For the interactive parts (static/playground.js, surprisal.js):
//    RNN_BOOK_PARTS, what both use: loadData reads a data script beside
//    the page, once; atSection builds a part at the end of a section;
//    element and shownChar make its elements.
// d2lbook appends this file to d2l.js, whose last statement has no closing
// semicolon: without the one below, this function would be its argument.
;(function () {
  'use strict';

  // As config.ini's `tabs` (written into d2l.js by build/finish_html.py);
  // the first is the default.
  var TABS = window.RNN_BOOK_TABS || ['mxnet'];
  var TAB_NAMES = {mxnet: 'MXNet', pytorch: 'PyTorch', jax: 'JAX'};
  var STORAGE_KEY = 'rnn-book-tab';
  var THEME_KEY = 'rnn-book-theme';
  // d2lbook's panels have ids like "pytorch-3-1", and their tabs link
  // to them ("#pytorch-3-1").
  var TAB_ID = /^#?(.+)-\d+-\d+$/;

  function urlRoot() {
    var options = document.getElementById('documentation_options');
    return options ? options.getAttribute('data-url_root') : '';
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // file:// pages: fall back to a hidden text area.
    var area = document.createElement('textarea');
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    document.body.removeChild(area);
    return Promise.resolve();
  }

  function addCopyButtons() {
    var cells = document.querySelectorAll(
      'div.highlight-python:not(.output) pre');
    cells.forEach(function (pre) {
      var button = document.createElement('button');
      button.className = 'copy-button';
      button.type = 'button';
      button.title = 'Copy the code';
      button.textContent = 'copy';
      button.addEventListener('click', function () {
        copyText(pre.innerText).then(function () {
          button.textContent = 'copied';
          setTimeout(function () { button.textContent = 'copy'; }, 1500);
        });
      });
      pre.parentNode.insertBefore(button, pre);
    });
  }

  function tabOf(id) {
    var match = TAB_ID.exec(id || '');
    return match ? match[1] : null;
  }

  function tabName(tab) {
    return TAB_NAMES[tab] || tab;
  }

  function stored(key, allowed) {
    try {
      var value = window.localStorage.getItem(key);
      return allowed.indexOf(value) >= 0 ? value : null;
    } catch (e) {  // storage disabled
      return null;
    }
  }

  function store(key, value) {
    try {
      window.localStorage.setItem(key, value);
    } catch (e) {
      // The choice then holds for this page only.
    }
  }

  // Dark mode: html.dark (static/book.css). Set as soon as this script
  // runs, in the page's <head>, so that a dark page never flashes white.
  var systemDark = window.matchMedia ?
    window.matchMedia('(prefers-color-scheme: dark)') : null;

  function theme() {
    return stored(THEME_KEY, ['dark', 'light']) ||
      (systemDark && systemDark.matches ? 'dark' : 'light');
  }

  function applyTheme() {
    var dark = theme() === 'dark';
    document.documentElement.classList.toggle('dark', dark);
    var button = document.querySelector('button.theme-toggle');
    if (button) {
      button.textContent = dark ? 'light' : 'dark';
      button.title = dark ? 'Switch to light mode' : 'Switch to dark mode';
      button.setAttribute('aria-pressed', dark ? 'true' : 'false');
    }
  }

  applyTheme();
  if (systemDark && systemDark.addEventListener) {
    systemDark.addEventListener('change', applyTheme);
  }

  function addThemeToggle() {
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'theme-toggle';
    button.addEventListener('click', function () {
      store(THEME_KEY, theme() === 'dark' ? 'light' : 'dark');
      applyTheme();
    });
    var header = document.querySelector('.mdl-layout__header-row');
    (header || document.body).appendChild(button);
    applyTheme();
  }

  function storedTab() {
    return stored(STORAGE_KEY, TABS);
  }

  function storeTab(tab) {
    store(STORAGE_KEY, tab);
  }

  // Show tab in every group of the page, by name: a group without it
  // (a cell that only the other framework needs) shows none of its panels.
  function selectTab(tab) {
    document.querySelectorAll('.mdl-tabs').forEach(function (group) {
      group.querySelectorAll('.mdl-tabs__tab').forEach(function (a) {
        a.classList.toggle('is-active', tabOf(a.getAttribute('href')) === tab);
      });
      group.querySelectorAll('.mdl-tabs__panel').forEach(function (panel) {
        panel.classList.toggle('is-active', tabOf(panel.id) === tab);
      });
    });
    document.querySelectorAll('a.notebook-download').forEach(function (a) {
      a.classList.toggle('selected-tab', a.getAttribute('data-tab') === tab);
    });
    fitWideMath();  // the math of panels that were hidden
    // For scripts that follow the tab (static/playground.js).
    document.documentElement.setAttribute('data-tab', tab);
    document.dispatchEvent(new CustomEvent('rnn-book-tab', {detail: tab}));
  }

  // The element that scrolls the page: the theme scrolls an inner pane.
  function scrollerOf(element) {
    for (var e = element.parentElement; e; e = e.parentElement) {
      var overflow = getComputedStyle(e).overflowY;
      if ((overflow === 'auto' || overflow === 'scroll') &&
          e.scrollHeight > e.clientHeight) {
        return e;
      }
    }
    return document.scrollingElement || document.documentElement;
  }

  // The tab the reader clicked, which must stay where it is on the screen
  // while the panels above it change height.
  var clickedTab = null;
  document.addEventListener('click', function (event) {
    clickedTab = event.target.closest ?
      event.target.closest('.mdl-tabs__tab') : null;
  }, true);

  // d2lbook's switcher selects the n-th panel of every group, the wrong
  // one in a group that lacks a tab; each tab calls tagClick(name) first.
  window.select_tab = function () {};
  window.tagClick = function (tab) {
    var anchor = clickedTab;
    var before = anchor ? anchor.getBoundingClientRect().top : 0;
    selectTab(tab);
    storeTab(tab);
    if (anchor) {
      var shift = anchor.getBoundingClientRect().top - before;
      if (shift) {
        scrollerOf(anchor).scrollTop += shift;
      }
    }
    clickedTab = null;
  };

  // The page's path from the root of the book: chapter_rnn/rnn.html.
  function pagePath() {
    var parts = window.location.pathname.split('/');
    if (!parts[parts.length - 1]) {
      parts[parts.length - 1] = 'index.html';
    }
    var depth = (urlRoot().match(/\.\.\//g) || []).length;
    return parts.slice(-depth - 1).join('/');
  }

  function addNotebookLinks() {
    var page = window.location.pathname.split('/').pop() || 'index.html';
    if (!/\.html$/.test(page) || /^(search|genindex)\.html$/.test(page)) {
      return;
    }
    var heading = document.querySelector('h1');
    if (!heading) {
      return;
    }
    // build/finish_html.py lists the tabs in which each page has a
    // notebook: rnn.ipynb (the default tab), rnn-pytorch.ipynb.
    var offered = (window.RNN_BOOK_NOTEBOOKS || {})[pagePath()] || [TABS[0]];
    var links = document.createElement('p');
    links.className = 'notebook-links';
    links.innerHTML = 'Download this notebook: ' + offered.map(function (tab) {
      var suffix = tab === TABS[0] ? '' : '-' + tab;
      return '<a class="notebook-download" download data-tab="' + tab +
        '" href="' + page.replace(/\.html$/, suffix + '.ipynb') + '">' +
        tabName(tab) + '</a>';
    }).join(' · ') +
      ' · <a class="notebooks-archive" download href="' + urlRoot() +
      'rnn-book-notebooks.zip">all notebooks (' + TABS.map(tabName).join(
        ', ') + '), each tab with the gluonbook and data they need ' +
      '(.zip)</a>';
    heading.parentNode.insertBefore(links, heading.nextSibling);
  }

  // The search page: an excerpt of each page found, around the first
  // word of the query that it contains.
  function excerpt(text, terms) {
    var lower = text.toLowerCase();
    var at = -1;
    terms.forEach(function (term) {
      var i = lower.indexOf(term);
      if (i >= 0 && (at < 0 || i < at)) {
        at = i;
      }
    });
    var start = Math.max(0, at - 100);
    var part = (start > 0 ? '…' : '') + text.substr(start, 240) +
      (start + 240 < text.length ? '…' : '');
    var p = document.createElement('p');
    p.className = 'context';
    var pattern = new RegExp('(' + terms.map(function (t) {
      return t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }).join('|') + ')', 'i');
    part.split(pattern).forEach(function (piece, i) {
      if (i % 2) {
        var mark = document.createElement('span');
        mark.className = 'highlighted';
        mark.textContent = piece;
        p.appendChild(mark);
      } else {
        p.appendChild(document.createTextNode(piece));
      }
    });
    return p;
  }

  function addSearchExcerpts() {
    var results = document.getElementById('search-results');
    var query = new URLSearchParams(window.location.search).get('q');
    if (!results || !query) {
      return;
    }
    var terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    function fill() {
      var texts = window.RNN_BOOK_TEXTS || {};
      results.querySelectorAll('ul.search > li').forEach(function (li) {
        var a = li.querySelector('a');
        if (!a || li.querySelector('p.context')) {
          return;
        }
        var name = a.getAttribute('href').split('#')[0]
          .replace(/\.html$/, '');
        if (texts[name]) {
          li.appendChild(excerpt(texts[name], terms));
        }
      });
    }
    var script = document.createElement('script');
    script.src = urlRoot() + '_static/page_texts.js';
    script.onload = function () {
      fill();
      new MutationObserver(fill).observe(results,
                                         {childList: true, subtree: true});
    };
    document.head.appendChild(script);
  }

  // Cross-references: the target's title or caption in a box that shows
  // while the pointer is on the link or the link has the focus.
  function addPreviews() {
    var targets = window.RNN_BOOK_TARGETS || {};
    var root = new URL(urlRoot() || './', window.location.href).href;
    var box = document.createElement('div');
    box.className = 'ref-preview';
    box.setAttribute('role', 'tooltip');
    box.hidden = true;
    document.body.appendChild(box);
    var shown = null;  // the link whose target the box shows
    function place() {
      if (!shown) {
        return;
      }
      var rect = shown.getBoundingClientRect();
      var width = Math.min(360, window.innerWidth - 16);
      box.style.maxWidth = width + 'px';
      box.style.left = Math.max(8, Math.min(rect.left,
        window.innerWidth - width - 8)) + 'px';
      box.style.top = (rect.bottom + 6) + 'px';
    }
    function show(a, text) {
      box.textContent = text;
      box.hidden = false;
      shown = a;
      place();
    }
    function hide() {
      box.hidden = true;
      shown = null;
    }
    document.querySelectorAll('a.reference.internal').forEach(function (a) {
      if (!a.querySelector('span.std-numref') ||
          a.href.indexOf(root) !== 0) {
        return;
      }
      var key = decodeURIComponent(a.href.slice(root.length));
      if (key.charAt(0) === '#') {  // the root's own page
        key = 'index.html' + key;
      }
      var text = targets[key];
      if (!text) {
        return;
      }
      a.addEventListener('mouseenter', function () { show(a, text); });
      a.addEventListener('focus', function () { show(a, text); });
      a.addEventListener('mouseleave', hide);
      a.addEventListener('blur', hide);
    });
    // The box stays under its link while the page scrolls.
    document.addEventListener('scroll', place, true);
  }

  // Inline math cannot wrap (MathJax 3): one wider than its paragraph
  // (possible on a phone) scrolls inside its own box instead of making
  // the whole page scroll sideways.
  function fitWideMath() {
    document.querySelectorAll('mjx-container:not([display="true"])')
      .forEach(function (math) {
        math.classList.remove('too-wide');
        var box = math.closest('p, li, dd, td, th, div')
          .getBoundingClientRect();
        var own = math.getBoundingClientRect();
        math.classList.toggle('too-wide',
                              own.width > box.width || own.right > box.right);
      });
  }

  // MathJax loads and typesets asynchronously: fit the math whenever it
  // has put some on the page (and when the window changes width).
  function watchMath() {
    var pending = false;
    function schedule() {
      if (!pending) {
        pending = true;
        window.requestAnimationFrame(function () {
          pending = false;
          fitWideMath();
        });
      }
    }
    new MutationObserver(function (records) {
      if (records.some(function (r) {
        return [].some.call(r.addedNodes, function (n) {
          return n.nodeName === 'MJX-CONTAINER';
        });
      })) {
        schedule();
      }
    }).observe(document.body, {childList: true, subtree: true});
    window.addEventListener('resize', schedule);
    window.addEventListener('load', schedule);
    if (document.fonts) {  // MathJax's fonts change the math's width
      document.fonts.addEventListener('loadingdone', schedule);
    }
    schedule();  // math that MathJax typeset before this ran
  }

  // The data of an interactive part sit beside its page in name.js, a
  // plain script that puts them into window[store][name] (a page opened
  // from file:// may not fetch a file). Load it once; call back with the
  // data, or failed with why there are none.
  var dataScripts = {};  // name -> {data} once loaded, or {waiting}
  function loadData(store, name, callback, failed) {
    var entry = dataScripts[name];
    if (entry && entry.data) { callback(entry.data); return; }
    if (entry) { entry.waiting.push([callback, failed]); return; }
    entry = dataScripts[name] = {waiting: [[callback, failed]]};
    function finish(data, why) {
      var waiting = entry.waiting;
      if (data) {
        entry.data = data;
      } else {
        delete dataScripts[name];  // another call may try again
      }
      waiting.forEach(function (w) { return data ? w[0](data) : w[1](why); });
    }
    var script = document.createElement('script');
    script.src = name + '.js';  // beside the page
    script.onload = function () {
      var data = (window[store] || {})[name];
      finish(data, data ? null : name + '.js defines no data');
    };
    script.onerror = function () {
      finish(null, name + '.js was not found beside this page');
    };
    document.head.appendChild(script);
  }

  // Build an interactive part at the end of the section whose label is
  // anchor (its id), once the page has been read.
  function atSection(anchor, build) {
    function start() {
      var target = document.getElementById(anchor);
      var section = target && target.closest('section, div.section');
      if (section) { build(section); }
    }
    if (document.readyState === 'loading') {
      document.addEventListener('DOMContentLoaded', start);
    } else {
      start();
    }
  }

  window.RNN_BOOK_PARTS = {
    loadData: loadData,
    atSection: atSection,
    element: function (tag, className, text) {
      var e = document.createElement(tag);
      if (className) { e.className = className; }
      if (text !== undefined) { e.textContent = text; }
      return e;
    },
    shownChar: function (c) {
      return c === ' ' ? '\u2423' : c;  // an open box for the space
    }
  };

  document.addEventListener('DOMContentLoaded', function () {
    addThemeToggle();
    watchMath();
    addCopyButtons();
    addNotebookLinks();
    addSearchExcerpts();
    addPreviews();
    selectTab(storedTab() || TABS[0]);
  });
})();
