"""What the JAX tab's trained LSTM computes, for tests that run in .venv
(which has no jax): tests/test_html.py compares the decoding playground's
numbers in the JAX tab with these. Run with .venv-jax's Python; reads one
JSON request from stdin and writes one JSON answer to stdout:

    {"results": folder of lstm-jax.npz,
     "requests": [["probabilities", prefix, {"temperature": t, "k": k or
                   null, "p": p or null}],
                  ["beam", prefix, num_chars, beam_width], ...]}
    -> [[probability per character], "beam search's text", ...]

The model is built and loaded as chapter_rnn/decoding.md builds and loads
it; the probabilities are computed as its predict_sample computes them
(float64 from the model's float32 scores).
"""
import json
import os
import sys

import jax
import numpy as np
from flax import nnx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from gluonbook import jax as gb  # noqa: E402

NUM_HIDDENS = 256


def main():
    request = json.load(sys.stdin)
    _, char_to_idx, idx_to_char, vocab_size = gb.load_data_time_machine()
    rngs = nnx.Rngs(jax.random.key(0))  # replaced by the saved values
    model = gb.RNNModel(nnx.RNN(nnx.LSTMCell(vocab_size, NUM_HIDDENS,
                                             rngs=rngs)),
                        vocab_size, rngs=rngs)
    gb.RESULTS_DIR = request['results']
    gb.load_params('lstm-jax', model)
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    answers = []
    for kind, prefix, *args in request['requests']:
        if kind == 'probabilities':
            settings, = args
            X = np.array([[char_to_idx[c] for c in prefix]], np.int32)
            Y, _ = gb.score_step(graphdef, params, rest,
                                 model.begin_state(1), X)
            scores = np.asarray(Y[-1])
            probs = gb.softmax_with_temperature(scores,
                                                settings['temperature'])
            if settings['k'] is not None:
                probs = gb.top_k_probs(probs, settings['k'])
            if settings['p'] is not None:
                probs = gb.top_p_probs(probs, settings['p'])
            answers.append([float(p) for p in probs])
        elif kind == 'beam':
            num_chars, beam_width = args
            answers.append(gb.predict_beam_search(
                prefix, num_chars, model, vocab_size, idx_to_char,
                char_to_idx, beam_width=beam_width))
        else:
            sys.exit(f'jax_reference: unknown request {kind!r}')
    json.dump(answers, sys.stdout)


if __name__ == '__main__':
    main()
