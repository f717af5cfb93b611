"""bi-rnn's JAX tab: its code is the other tabs' counterpart, and what its
own prose says of nnx.Bidirectional's output and state is what the built
notebook shows. (The claims that every tab makes are checked by
test_book.py's tab-parametrized tests; the model itself, in process, by
env_jax/test_bi_rnn.py.)"""
import outputs

SECTION = 'chapter_rnn/bi-rnn'


def test_jax_bi_rnn_is_trained_as_the_other_tabs():
    # Shared prose: "next to a unidirectional GRU with as many hidden units
    # per direction ..., with the settings of sec_gru, for two epochs".
    jax = outputs.code_sources(SECTION, 'jax')
    pytorch = outputs.code_sources(SECTION, 'pytorch')
    for code in ['num_hiddens = 256',
                 'num_epochs, num_steps, batch_size, lr, clipping_theta = '
                 '2, 35, 32, 0.005, 1', "optimizer='adam')",
                 'dropout=0.3']:
        assert code in jax, code
    assert 'num_hiddens, device = 256' in pytorch
    # Two nnx.RNNs, each with a GRUCell of its own, merged by the default
    # merge_fn (no merge_fn given).
    assert 'nnx.Bidirectional(direction(), direction())' in jax
    assert 'merge_fn' not in jax
    assert 'import torch' not in jax and 'mxnet' not in jax


def test_the_layer_and_state_shapes_as_the_text_says():
    # "the output has twice the hidden units ... a pair of carries, one
    # per direction, each (batch size, num_hiddens) ... the state in the
    # layout of the other tabs, (num_layers x 2, batch size, num_hiddens)"
    text = outputs.output(SECTION, 'bi_layer = nnx.Bidirectional(', 'jax')
    assert text.strip() == '((35, 2, 512), [(2, 256), (2, 256)], (2, 2, 256))'
