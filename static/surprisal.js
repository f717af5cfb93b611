// The surprisal reader of chapter_rnn/comparison.html: a passage of the
// validation text, each character coloured by the bits a model spent on
// it. build/finish_html.py adds this script to that page only, and copies
// beside it the data that the section wrote for each tab
// (surprisal-mxnet.js, surprisal-pytorch.js, surprisal-jax.js): plain scripts that add the
// tab's data to window.RNN_BOOK_SURPRISAL, loaded with a script tag,
// since pages opened from file:// may not fetch files.
//
// The data of a tab, as the section wrote them (write_page_data):
//   {framework, text: the passage,
//    models: [{name, bits: [one per character of the passage],
//              top: [[[char, probability] x 5] per character],
//              gate: [mean gate per character] or null,
//              passage_bits: the mean of bits (a string), val_bits and
//              perplexity: the validation perplexity that the model's
//              section printed, and its log2 (strings)}]}
// Numbers are shown as the data give them (bits and gates to two
// decimals, probabilities to three); only the colours are computed here.
;(function () {
  'use strict';

  // From static/book.js, which every page loads first.
  var PARTS = window.RNN_BOOK_PARTS;
  var element = PARTS.element, shownChar = PARTS.shownChar;

  var ANCHOR = 'sec-comparison-surprisal';  // the section's :label:
  var TAB_NAMES = {mxnet: 'MXNet', pytorch: 'PyTorch', jax: 'JAX'};
  var GATE_NAMES = {GRU: 'update gate Z', LSTM: 'forget gate F'};
  var MAX_BITS = 8;  // the colour scale ends here; more is as dark

  function withData(tab, callback, failed) {
    // static/book.js loads surprisal-<tab>.js, once.
    PARTS.loadData('RNN_BOOK_SURPRISAL', 'surprisal-' + tab,
                              callback, failed);
  }

  function currentTab() {
    var tab = document.documentElement.getAttribute('data-tab');
    return TAB_NAMES[tab] ? tab : 'mxnet';
  }

  // The colour of a character: its opacity over the page's background
  // grows with the bits, up to MAX_BITS (book.css sets the hue).
  function shade(bits) {
    return (0.6 * Math.min(bits, MAX_BITS) / MAX_BITS).toFixed(3);
  }

  function build(container) {
    var root = element('div', 'surprisal-reader');
    root.setAttribute('aria-label', 'Surprisal reader');
    var status = element('p', 'sr-status', 'Loading the data\u2026');
    var choice = element('div', 'sr-models');
    choice.setAttribute('role', 'group');
    choice.setAttribute('aria-label', 'Model');
    var legend = element('p', 'sr-legend');
    legend.appendChild(element('span', 'sr-legend-name', '0 bits'));
    legend.appendChild(element('span', 'sr-scale'));
    legend.appendChild(element('span', 'sr-legend-name',
                               MAX_BITS + ' bits or more'));
    var mean = element('p', 'sr-mean');
    var passage = element('p', 'sr-passage');
    passage.tabIndex = 0;
    passage.setAttribute('aria-label', 'The passage; the arrow keys move ' +
                         'from character to character');
    var info = element('div', 'sr-info');
    info.setAttribute('aria-live', 'polite');
    [status, choice, legend, mean, passage, info].forEach(function (e) {
      root.appendChild(e);
    });
    container.appendChild(root);

    var spec = null, model = null, chosen = 'LSTM', selected = 0;
    var spans = [], buttons = {};

    function show(i) {
      selected = i;
      spans.forEach(function (s, j) {
        s.classList.toggle('sr-selected', j === i);
      });
      var c = spec.text[i];
      info.textContent = '';
      info.setAttribute('data-index', String(i));
      var head = element('p', 'sr-head');
      head.appendChild(document.createTextNode(
        'Character ' + (i + 1) + ' of ' + spec.text.length + ', '));
      head.appendChild(element('span', 'sr-char',
                               c === ' ' ? 'a space' : '"' + c + '"'));
      head.appendChild(document.createTextNode(': the ' + model.name +
                                               ' spent '));
      head.appendChild(element('span', 'sr-bits',
                               model.bits[i].toFixed(2)));
      head.appendChild(document.createTextNode(' bits on it.'));
      info.appendChild(head);
      info.appendChild(element('p', 'sr-top-title',
                               'Its five likeliest predictions there:'));
      var list = element('ol', 'sr-top');
      model.top[i].forEach(function (pair) {
        var item = element('li');
        item.appendChild(element('span', 'sr-top-char', shownChar(pair[0])));
        item.appendChild(element('span', 'sr-top-prob', pair[1].toFixed(3)));
        item.classList.toggle('sr-true', pair[0] === c);
        list.appendChild(item);
      });
      info.appendChild(list);
      var found = model.top[i].some(function (pair) { return pair[0] === c; });
      if (!found) {
        info.appendChild(element('p', 'sr-miss', (c === ' ' ? 'The space' :
          '"' + c + '"') + ' is not among them.'));
      }
      if (model.gate) {
        var gate = element('p', 'sr-gate');
        gate.appendChild(document.createTextNode(
          'Mean ' + GATE_NAMES[model.name] + ' over the 256 hidden units, ' +
          'at the step that made this prediction: '));
        gate.appendChild(element('span', 'sr-gate-value',
                                 model.gate[i].toFixed(2)));
        info.appendChild(gate);
      }
    }

    function useModel(name) {
      chosen = name;
      model = spec.models.filter(function (m) { return m.name === name; })[0];
      Object.keys(buttons).forEach(function (n) {
        buttons[n].setAttribute('aria-pressed', String(n === name));
      });
      root.setAttribute('data-model', name);
      spans.forEach(function (s, i) {
        s.style.setProperty('--sr-shade', shade(model.bits[i]));
        s.title = model.bits[i].toFixed(2) + ' bits';
      });
      mean.textContent = 'The ' + name + ': ' + model.passage_bits +
        ' bits per character on this passage, ' + model.val_bits +
        ' over the validation text (perplexity ' + model.perplexity +
        ', as its section printed).';
      show(selected);
    }

    function useData(tab, d) {
      spec = d;
      status.textContent = 'The models of the ' + TAB_NAMES[tab] +
        ' tab. Point at a character, or tap it, to see what the model ' +
        'expected there.';
      root.setAttribute('data-tab', tab);
      choice.textContent = '';
      buttons = {};
      spec.models.forEach(function (m) {
        var b = element('button', 'sr-model', m.name);
        b.type = 'button';
        b.addEventListener('click', function () { useModel(m.name); });
        choice.appendChild(b);
        buttons[m.name] = b;
      });
      passage.textContent = '';
      spans = [];
      Array.prototype.forEach.call(spec.text, function (c, i) {
        var s = element('span', 'sr-c', c);
        s.setAttribute('data-i', String(i));
        passage.appendChild(s);
        spans.push(s);
      });
      if (!buttons[chosen]) { chosen = spec.models[0].name; }
      useModel(chosen);
    }

    function pick(event) {
      var s = event.target.closest && event.target.closest('span.sr-c');
      if (s && spec) { show(Number(s.getAttribute('data-i'))); }
    }
    passage.addEventListener('mouseover', pick);
    passage.addEventListener('click', pick);
    passage.addEventListener('keydown', function (event) {
      if (!spec) { return; }
      var step = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1,
                  ArrowUp: -1}[event.key];
      if (!step) { return; }
      event.preventDefault();
      show(Math.max(0, Math.min(spec.text.length - 1, selected + step)));
    });

    function useTab() {
      var tab = currentTab();
      status.textContent = 'Loading the ' + TAB_NAMES[tab] + ' tab\'s ' +
        'data\u2026';
      withData(tab, function (d) {
        if (tab === currentTab()) { useData(tab, d); }
      }, function (why) {
        status.textContent = 'The surprisal reader cannot run: ' + why + '.';
      });
    }
    document.addEventListener('rnn-book-tab', useTab);
    useTab();
  }

  PARTS.atSection(ANCHOR, build);
})();
