"""Claims that only the JAX tab of rnn-scratch makes, checked on the
executed notebooks (run in .venv; no jax needed)."""
import outputs
from outputs import output

SECTION = 'chapter_rnn/rnn-scratch'


def test_jax_compile_time_is_printed_once_and_glued():
    # "Compiling the two steps of the consecutive run took <compile_sec>
    # seconds here": the glued value is the history's, and each training
    # run prints its compile time once, before its first epoch line.
    history = outputs.saved_history('rnn-scratch-jax', 'jax')
    assert outputs.glued(SECTION, 'compile_sec', 'jax') == \
        '%.1f' % history['compile_sec']
    for name in ('random', 'consecutive'):
        lines = output(SECTION, f'history_{name} = ', 'jax').split('\n')
        compiled = [line for line in lines
                    if outputs.COMPILE_LINE.match(line)]
        assert len(compiled) == 1 and lines[0] == compiled[0], lines[:3]
    assert outputs.COMPILE_LINE.match(lines[0]).group(1) == \
        '%.1f' % history['compile_sec']
