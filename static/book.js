// Added to every page of the book (config.ini: [html] include_js).
// 1. A copy button on each code cell, using the browser's clipboard API.
// 2. Links to the page's notebook and to the archive of all notebooks.
// d2lbook appends this file to d2l.js, whose last statement has no closing
// semicolon: without the one below, this function would be its argument.
;(function () {
  'use strict';

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

  function addNotebookLinks() {
    var page = window.location.pathname.split('/').pop() || 'index.html';
    if (!/\.html$/.test(page) || /^(search|genindex)\.html$/.test(page)) {
      return;
    }
    var heading = document.querySelector('h1');
    if (!heading) {
      return;
    }
    var links = document.createElement('p');
    links.className = 'notebook-links';
    links.innerHTML =
      '<a class="notebook-download" download href="' +
      page.replace(/\.html$/, '.ipynb') + '">Download this notebook</a>' +
      ' · <a class="notebooks-archive" download href="' + urlRoot() +
      'rnn-book-notebooks.zip">all notebooks with gluonbook and data (.zip)</a>';
    heading.parentNode.insertBefore(links, heading.nextSibling);
  }

  document.addEventListener('DOMContentLoaded', function () {
    addCopyButtons();
    addNotebookLinks();
  });
})();
