// Added to every page of the book (config.ini: [html] include_js).
// 1. A copy button on each code cell, using the browser's clipboard API.
// 2. The framework tabs (MXNet, PyTorch): one click switches every code
//    cell and text block of the page, and the choice is kept for the
//    next page.
// 3. Links to the page's notebook in each tab and to the archive of all
//    notebooks.
// d2lbook appends this file to d2l.js, whose last statement has no closing
// semicolon: without the one below, this function would be its argument.
;(function () {
  'use strict';

  // As config.ini's `tabs`; the first is the default.
  var TABS = ['mxnet', 'pytorch'];
  var TAB_NAMES = {mxnet: 'MXNet', pytorch: 'PyTorch'};
  var STORAGE_KEY = 'rnn-book-tab';
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

  function storedTab() {
    try {
      var tab = window.localStorage.getItem(STORAGE_KEY);
      return TABS.indexOf(tab) >= 0 ? tab : null;
    } catch (e) {  // storage disabled
      return null;
    }
  }

  function storeTab(tab) {
    try {
      window.localStorage.setItem(STORAGE_KEY, tab);
    } catch (e) {
      // The choice then holds for this page only.
    }
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
  }

  // d2lbook's switcher selects the n-th panel of every group, the wrong
  // one in a group that lacks a tab; each tab calls tagClick(name) first.
  window.select_tab = function () {};
  window.tagClick = function (tab) {
    selectTab(tab);
    storeTab(tab);
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
        (TAB_NAMES[tab] || tab) + '</a>';
    }).join(' · ') +
      ' · <a class="notebooks-archive" download href="' + urlRoot() +
      'rnn-book-notebooks.zip">all notebooks, MXNet and PyTorch, with ' +
      'gluonbook and data (.zip)</a>';
    heading.parentNode.insertBefore(links, heading.nextSibling);
  }

  document.addEventListener('DOMContentLoaded', function () {
    addCopyButtons();
    addNotebookLinks();
    selectTab(storedTab() || TABS[0]);
  });
})();
