// The decoding playground of chapter_rnn/decoding.html: the trained LSTM
// of the tab the reader chose, run in the page. build/finish_html.py adds
// this script to that page only, and copies beside it the weights that
// the section's export_lstm_js wrote (lstm-gluon.js, lstm-pytorch.js,
// lstm-jax.js).
// Each weights file is a plain script that adds one model to
// window.RNN_BOOK_MODELS; it is loaded with a script tag, since pages
// opened from file:// may not fetch files.
//
// The model, as gb.RNNModel runs it at inference (dropout is off):
//   gates = W_ih[:, x] + b_ih + W_hh h + b_hh     (4 * num_hiddens)
//   i, f, g, o = the four quarters of gates, in this order
//   c = sigmoid(f) * c + sigmoid(i) * tanh(g);  h = sigmoid(o) * tanh(c)
//   scores = W_out h + b_out                       (vocab_size)
// Both Gluon's rnn.LSTM and PyTorch's nn.LSTM stack their gates as input,
// forget, candidate, output; the JAX tab's export stacks Flax's separate
// per-gate weights in the same order. The weights are float32; the arithmetic here
// is float64. The decoders follow the section's Python functions: ties go
// to the lower index, top-k before top-p, beam scores summed in float64.
;(function () {
  'use strict';

  // From static/book.js, which every page loads first.
  var PARTS = window.RNN_BOOK_PARTS;
  var element = PARTS.element, shownChar = PARTS.shownChar;

  // Which weights each tab runs: results/<name>.js of the section.
  var MODEL_OF_TAB = {mxnet: 'lstm-gluon', pytorch: 'lstm-pytorch',
                      jax: 'lstm-jax'};
  var TAB_NAMES = {mxnet: 'MXNet', pytorch: 'PyTorch', jax: 'JAX'};
  var LAYER_OF_TAB = {mxnet: 'Gluon\'s rnn.LSTM', pytorch: 'nn.LSTM',
                      jax: 'Flax\'s nnx.LSTMCell'};
  var ANCHOR = 'sec-decoding-playground';  // the section's :label:
  var NUM_BARS = 10;
  var MAX_BEAM = 5;

  // --- The model ---------------------------------------------------------

  function floats(b64, shape) {
    // Base64 of little-endian float32 -> Float64Array, row-major.
    var bytes = atob(b64);
    var n = bytes.length / 4;
    var expected = shape.reduce(function (a, b) { return a * b; }, 1);
    if (n !== expected) {
      throw new Error('weights of ' + n + ' numbers for shape ' + shape);
    }
    var view = new DataView(new ArrayBuffer(bytes.length));
    for (var i = 0; i < bytes.length; i++) {
      view.setUint8(i, bytes.charCodeAt(i));
    }
    var out = new Float64Array(n);
    for (var j = 0; j < n; j++) {
      out[j] = view.getFloat32(4 * j, true);
    }
    return out;
  }

  function Model(spec) {
    var w = spec.weights;
    this.vocab = spec.vocab;
    this.V = spec.vocab.length;
    this.H = w.W_hh.shape[1];
    var G = 4 * this.H;
    this.W_ih = floats(w.W_ih.data, [G, this.V]);
    this.W_hh = floats(w.W_hh.data, [G, this.H]);
    var b_ih = floats(w.b_ih.data, [G]), b_hh = floats(w.b_hh.data, [G]);
    this.b = new Float64Array(G);
    for (var r = 0; r < G; r++) {
      this.b[r] = b_ih[r] + b_hh[r];
    }
    this.W_out = floats(w.W_out.data, [this.V, this.H]);
    this.b_out = floats(w.b_out.data, [this.V]);
    this.index = {};
    for (var i = 0; i < this.V; i++) {
      this.index[this.vocab[i]] = i;
    }
  }

  Model.prototype.begin = function () {
    return {h: new Float64Array(this.H), c: new Float64Array(this.H)};
  };

  function sigmoid(x) { return 1 / (1 + Math.exp(-x)); }

  // One step: the state after reading character index x, and the scores
  // (logits) over the next character.
  Model.prototype.step = function (state, x) {
    var H = this.H, V = this.V, G = 4 * H;
    var gates = new Float64Array(G);
    var h = state.h;
    for (var r = 0; r < G; r++) {
      var s = this.b[r] + this.W_ih[r * V + x];  // one-hot input: a column
      var row = r * H;
      for (var j = 0; j < H; j++) {
        s += this.W_hh[row + j] * h[j];
      }
      gates[r] = s;
    }
    var hNew = new Float64Array(H), cNew = new Float64Array(H);
    for (var k = 0; k < H; k++) {
      var i = sigmoid(gates[k]), f = sigmoid(gates[H + k]);
      var g = Math.tanh(gates[2 * H + k]), o = sigmoid(gates[3 * H + k]);
      cNew[k] = f * state.c[k] + i * g;
      hNew[k] = o * Math.tanh(cNew[k]);
    }
    var scores = new Float64Array(V);
    for (var v = 0; v < V; v++) {
      var t = this.b_out[v], base = v * H;
      for (var m = 0; m < H; m++) {
        t += this.W_out[base + m] * hNew[m];
      }
      scores[v] = t;
    }
    return {state: {h: hNew, c: cNew}, scores: scores};
  };

  // The characters of text that the vocabulary lacks, each once.
  Model.prototype.unknown = function (text) {
    var seen = [];
    for (var i = 0; i < text.length; i++) {
      if (!(text[i] in this.index) && seen.indexOf(text[i]) < 0) {
        seen.push(text[i]);
      }
    }
    return seen;
  };

  // State and next-character scores after reading prefix (known
  // characters only, at least one).
  Model.prototype.read = function (prefix) {
    var state = this.begin(), out = null;
    for (var i = 0; i < prefix.length; i++) {
      out = this.step(state, this.index[prefix[i]]);
      state = out.state;
    }
    return out;
  };

  // --- Distributions, as the section's Python functions --------------

  function softmaxWithTemperature(scores, temperature) {
    var n = scores.length, max = -Infinity, z = new Float64Array(n);
    for (var i = 0; i < n; i++) {
      z[i] = scores[i] / temperature;
      if (z[i] > max) { max = z[i]; }
    }
    var sum = 0;
    for (var j = 0; j < n; j++) {
      z[j] = Math.exp(z[j] - max);
      sum += z[j];
    }
    for (var k = 0; k < n; k++) { z[k] /= sum; }
    return z;
  }

  function logSoftmax(scores) {
    var n = scores.length, max = -Infinity, out = new Float64Array(n);
    for (var i = 0; i < n; i++) { if (scores[i] > max) { max = scores[i]; } }
    var sum = 0;
    for (var j = 0; j < n; j++) {
      out[j] = scores[j] - max;
      sum += Math.exp(out[j]);
    }
    var log = Math.log(sum);
    for (var k = 0; k < n; k++) { out[k] -= log; }
    return out;
  }

  // Indices by decreasing value, ties by increasing index (a stable sort
  // of -values, as np.argsort(-values, kind='stable')).
  function order(values) {
    var idx = [];
    for (var i = 0; i < values.length; i++) { idx.push(i); }
    return idx.sort(function (a, b) {
      return values[b] - values[a] || a - b;
    });
  }

  function keepOnly(probs, kept) {
    var out = new Float64Array(probs.length), sum = 0;
    kept.forEach(function (i) { out[i] = probs[i]; sum += probs[i]; });
    for (var j = 0; j < out.length; j++) { out[j] /= sum; }
    return out;
  }

  function topK(probs, k) {
    return keepOnly(probs, order(probs).slice(0, k));
  }

  function topP(probs, p) {
    var idx = order(probs), sum = 0, n = idx.length;
    for (var i = 0; i < idx.length; i++) {
      sum += probs[idx[i]];
      if (sum >= p) { n = i + 1; break; }
    }
    return keepOnly(probs, idx.slice(0, n));
  }

  // settings: {temperature, k (null: no cut), p (null: no cut)}.
  function distribution(scores, settings) {
    var probs = softmaxWithTemperature(scores, settings.temperature);
    if (settings.k !== null) { probs = topK(probs, settings.k); }
    if (settings.p !== null) { probs = topP(probs, settings.p); }
    return probs;
  }

  function argmax(values) {
    var best = 0;
    for (var i = 1; i < values.length; i++) {
      if (values[i] > values[best]) { best = i; }
    }
    return best;
  }

  // --- Decoders: each returns {text, logProbs}, logProbs the model's
  // natural-log probability (temperature 1, no cut) of each character
  // it wrote.

  function greedy(model, prefix, numChars) {
    var out = model.read(prefix), chars = [], logProbs = [];
    for (var t = 0; t < numChars; t++) {
      var x = argmax(out.scores);
      chars.push(model.vocab[x]);
      logProbs.push(logSoftmax(out.scores)[x]);
      out = model.step(out.state, x);
    }
    return {text: chars.join(''), logProbs: logProbs};
  }

  function sample(model, prefix, numChars, settings, random) {
    var out = model.read(prefix), chars = [], logProbs = [];
    for (var t = 0; t < numChars; t++) {
      var probs = distribution(out.scores, settings);
      var u = random(), x = 0, sum = probs[0];
      while (u >= sum && x < probs.length - 1) {
        x += 1;
        sum += probs[x];
      }
      while (probs[x] === 0) { x -= 1; }  // rounding past the last kept
      chars.push(model.vocab[x]);
      logProbs.push(logSoftmax(out.scores)[x]);
      out = model.step(out.state, x);
    }
    return {text: chars.join(''), logProbs: logProbs};
  }

  function beamSearch(model, prefix, numChars, beamWidth) {
    var V = model.V, first = model.read(prefix);
    // Each beam: its characters' indices, their log-probabilities, and the
    // model's state and scores after its last character.
    var beams = [{chars: [], logProbs: [], score: 0, state: first.state,
                  scores: first.scores}];
    for (var t = 0; t < numChars; t++) {
      var candidates = [], logs = [];
      beams.forEach(function (beam, r) {
        var lp = logSoftmax(beam.scores);
        logs.push(lp);
        for (var c = 0; c < V; c++) {
          candidates[r * V + c] = beam.score + lp[c];
        }
      });
      var best = order(candidates).slice(0, beamWidth);
      beams = best.map(function (n) {
        var r = Math.floor(n / V), c = n % V, beam = beams[r];
        var last = t === numChars - 1;
        var next = last ? null : model.step(beam.state, c);
        return {chars: beam.chars.concat([c]),
                logProbs: beam.logProbs.concat([logs[r][c]]),
                score: candidates[n], state: next && next.state,
                scores: next && next.scores};
      });
    }
    var top = beams[0];
    return {text: top.chars.map(function (c) { return model.vocab[c]; })
              .join(''), logProbs: top.logProbs};
  }

  function bitsPerChar(logProbs) {
    var sum = 0;
    logProbs.forEach(function (l) { sum += l; });
    return sum / logProbs.length / Math.LN2;
  }

  // --- Loading the weights of a tab ----------------------------------

  var models = {};  // tab -> Model

  function withModel(tab, callback, failed) {
    if (models[tab]) { callback(models[tab]); return; }
    // static/book.js loads MODEL_OF_TAB[tab].js, once.
    PARTS.loadData('RNN_BOOK_MODELS', MODEL_OF_TAB[tab],
                              function (spec) {
      models[tab] = models[tab] || new Model(spec);
      callback(models[tab]);
    }, failed);
  }

  // --- The page ------------------------------------------------------

  function slider(label, min, max, step, value, show) {
    var wrap = element('label', 'dp-slider');
    var name = element('span', 'dp-slider-name', label);
    var input = element('input');
    input.type = 'range';
    input.min = min;
    input.max = max;
    input.step = step;
    input.value = value;
    var shown = element('output', 'dp-slider-value');
    function update() { shown.textContent = show(Number(input.value)); }
    input.addEventListener('input', update);
    update();
    wrap.appendChild(name);
    wrap.appendChild(input);
    wrap.appendChild(shown);
    return {wrap: wrap, input: input, update: update, value: function () {
      return Number(input.value);
    }};
  }

  function currentTab() {
    var tab = document.documentElement.getAttribute('data-tab');
    return MODEL_OF_TAB[tab] ? tab : 'mxnet';
  }

  function build(container) {
    var root = element('div', 'decoding-playground');
    root.setAttribute('aria-label', 'Decoding playground');
    var status = element('p', 'dp-status', 'Loading the weights\u2026');
    var prefixLabel = element('label', 'dp-prefix');
    prefixLabel.appendChild(element('span', 'dp-prefix-name', 'Prefix'));
    var prefix = element('input');
    prefix.type = 'text';
    prefix.value = 'the time traveller ';
    prefix.spellcheck = false;
    prefix.setAttribute('autocapitalize', 'none');
    prefix.setAttribute('autocomplete', 'off');
    prefixLabel.appendChild(prefix);
    var message = element('p', 'dp-message');
    message.setAttribute('role', 'alert');
    var barsTitle = element('p', 'dp-bars-title');
    var bars = element('div', 'dp-bars');
    var rows = [];
    for (var i = 0; i < NUM_BARS; i++) {
      var row = element('div', 'dp-bar-row');
      var ch = element('span', 'dp-char');
      var track = element('span', 'dp-track');
      var bar = element('span', 'dp-bar');
      track.appendChild(bar);
      var value = element('span', 'dp-prob');
      row.appendChild(ch);
      row.appendChild(track);
      row.appendChild(value);
      bars.appendChild(row);
      rows.push({row: row, ch: ch, bar: bar, value: value});
    }
    var controls = element('div', 'dp-controls');
    var temperature = slider('temperature', 0.1, 2, 0.05, 1,
                             function (v) { return v.toFixed(2); });
    var kSlider = slider('top-k', 1, 27, 1, 27, function (v) {
      var model = models[currentTab()];
      return model && v >= model.V ? 'all' : String(v);
    });
    var pSlider = slider('top-p', 0.05, 1, 0.01, 1, function (v) {
      return v.toFixed(2);
    });
    var width = slider('beam width', 1, MAX_BEAM, 1, 3, String);
    var length = slider('characters', 10, 300, 10, 100, String);
    [temperature, kSlider, pSlider, width, length].forEach(function (s) {
      controls.appendChild(s.wrap);
    });
    var buttons = element('div', 'dp-buttons');
    var run = {};
    ['greedy', 'sample', 'beam search'].forEach(function (name) {
      var b = element('button', 'dp-run', name);
      b.type = 'button';
      b.setAttribute('data-decoder', name);
      buttons.appendChild(b);
      run[name] = b;
    });
    var output = element('p', 'dp-output');
    var outPrefix = element('span', 'dp-out-prefix');
    var outText = element('span', 'dp-out-text');
    output.appendChild(outPrefix);
    output.appendChild(outText);
    var score = element('p', 'dp-score');
    [status, prefixLabel, message, barsTitle, bars, controls, buttons,
     output, score].forEach(function (e) { root.appendChild(e); });
    container.appendChild(root);

    var cached = null;  // {tab, prefix, scores}

    function settings(model) {
      var k = kSlider.value();
      var p = pSlider.value();
      return {temperature: temperature.value(),
              k: k >= model.V ? null : k, p: p >= 1 ? null : p};
    }

    // The message for a prefix the model cannot read, or ''.
    function problem(model, text) {
      if (!text) {
        return 'Type at least one character: the model needs a prefix ' +
          'to start from.';
      }
      var unknown = model.unknown(text);
      if (!unknown.length) { return ''; }
      var names = unknown.map(function (c) {
        return c === ' ' ? '" " (space)' : '"' + c + '"';
      });
      return 'The model\'s vocabulary has no ' + names.join(', ') +
        ': it knows only the ' + model.V + ' characters "' +
        model.vocab.join('') + '" (the lower-case letters and the ' +
        'space). Change the prefix to decode.';
    }

    function showBars(model) {
      if (!cached) {
        rows.forEach(function (r) { r.row.hidden = true; });
        return;
      }
      var probs = distribution(cached.scores, settings(model));
      var top = order(probs).slice(0, NUM_BARS);
      rows.forEach(function (r, i) {
        var c = top[i];
        r.row.hidden = false;
        r.ch.textContent = shownChar(model.vocab[c]);
        r.ch.title = model.vocab[c] === ' ' ? 'space' : model.vocab[c];
        r.bar.style.width = (100 * probs[c]).toFixed(2) + '%';
        r.value.textContent = probs[c].toFixed(3);
        r.row.setAttribute('data-char', model.vocab[c]);
        r.row.setAttribute('data-prob', String(probs[c]));
      });
    }

    function refresh() {
      var tab = currentTab();
      var model = models[tab];
      if (!model) { return; }
      var text = prefix.value;
      var why = problem(model, text);
      message.textContent = why;
      root.classList.toggle('dp-invalid', !!why);
      Object.keys(run).forEach(function (n) { run[n].disabled = !!why; });
      if (why) {
        cached = null;
      } else if (!cached || cached.tab !== tab || cached.prefix !== text) {
        cached = {tab: tab, prefix: text, scores: model.read(text).scores};
      }
      barsTitle.textContent = why ? '' : 'The ' + NUM_BARS + ' likeliest ' +
        'next characters, at the temperature, top-k and top-p below:';
      showBars(model);
    }

    function decode(name) {
      var model = models[currentTab()];
      if (!model || problem(model, prefix.value)) { return; }
      var text = prefix.value, n = length.value(), s = settings(model);
      var result;
      if (name === 'greedy') {
        result = greedy(model, text, n);
      } else if (name === 'sample') {
        result = sample(model, text, n, s, Math.random);
      } else {
        result = beamSearch(model, text, n, width.value());
      }
      outPrefix.textContent = text;
      outText.textContent = result.text;
      var how = name === 'sample' ? 'sampled at temperature ' +
        s.temperature.toFixed(2) + (s.k !== null ? ', top-k ' + s.k : '') +
        (s.p !== null ? ', top-p ' + s.p.toFixed(2) : '') :
        name === 'greedy' ? 'greedy' : 'beam search, width ' + width.value();
      score.textContent = how + ': log-likelihood ' +
        bitsPerChar(result.logProbs).toFixed(2) + ' bits per character ' +
        'over ' + n + ' characters (the model at temperature 1, no cut)';
    }

    Object.keys(run).forEach(function (name) {
      run[name].addEventListener('click', function () { decode(name); });
    });
    prefix.addEventListener('input', refresh);
    [temperature, kSlider, pSlider].forEach(function (s) {
      s.input.addEventListener('input', function () {
        var model = models[currentTab()];
        if (model) { showBars(model); }
      });
    });

    function useTab() {
      var tab = currentTab();
      status.textContent = 'Loading the ' + TAB_NAMES[tab] + ' tab\'s ' +
        'LSTM\u2026';
      outPrefix.textContent = '';
      outText.textContent = '';
      score.textContent = '';
      withModel(tab, function (model) {
        if (tab !== currentTab()) { return; }
        status.textContent = 'Running the ' + TAB_NAMES[tab] + ' tab\'s ' +
          'trained LSTM (' + LAYER_OF_TAB[tab] + ', ' + model.H +
          ' hidden units, ' + model.V + ' characters) in this page.';
        root.setAttribute('data-model', MODEL_OF_TAB[tab]);
        kSlider.input.max = model.V;
        kSlider.update();
        refresh();
      }, function (why) {
        status.textContent = 'The playground cannot run: ' + why + '.';
      });
    }
    document.addEventListener('rnn-book-tab', useTab);
    useTab();
  }

  // For tests/test_html.py, which compares the page's numbers with
  // Python's: the same functions the playground runs.
  window.RNN_BOOK_PLAYGROUND = {
    withModel: withModel,
    currentTab: currentTab,
    probabilities: function (model, prefix, settings) {
      return Array.from(distribution(model.read(prefix).scores, settings));
    },
    greedy: greedy,
    beamSearch: beamSearch,
    sample: sample
  };

  PARTS.atSection(ANCHOR, build);
})();
