"""The built notebooks as a reader gets them: copied anywhere, they run, and
they print what the build printed (the section has no timings)."""
import os
import shutil

import nbformat
from nbclient import NotebookClient

import outputs

SECTION = 'chapter_rnn/lang-model-dataset'


def text_outputs(nb):
    return [outputs.cell_output(nb, cell.source) for cell in nb.cells
            if cell.cell_type == 'code']


def test_notebook_runs_from_an_empty_folder_and_repeats_the_build(tmp_path):
    built = outputs.read_notebook(SECTION)
    copy = tmp_path / 'lang-model-dataset.ipynb'
    shutil.copyfile(os.path.join(outputs.EVAL_DIR, SECTION + '.ipynb'), copy)
    nb = nbformat.read(str(copy), as_version=4)
    for cell in nb.cells:
        cell.pop('outputs', None)
    # gluonbook comes from `pip install -e .`, the data from its package.
    NotebookClient(nb, timeout=600, kernel_name='python3',
                   resources={'metadata': {'path': str(tmp_path)}}).execute()
    assert os.listdir(tmp_path) == ['lang-model-dataset.ipynb']
    assert text_outputs(nb) == text_outputs(built)
