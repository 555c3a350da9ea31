"""A training cell's live line: what it shows while Keras trains, and the line it leaves behind."""

import time

import keras
import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell

from helpers import progress


@pytest.fixture
def shown(monkeypatch):
    """What an IPython shell shows: each display and each update of the line, in order."""
    shell, published = InteractiveShell.instance(), []
    monkeypatch.setattr(shell.display_pub, "publish", lambda data, **_: published.append(data["text/plain"]))
    monkeypatch.setattr(progress, "UPDATE_EVERY_S", 0.0)  # every step's line, so that each can be read
    monkeypatch.setattr(progress, "STILL_WORKING_S", 3600.0)  # no "still working" unless a test asks for it
    yield published
    InteractiveShell.clear_instance()  # the rest of this process runs outside IPython again


def test_the_line_follows_training_and_ends_without_timings(shown):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    model.fit(np.ones((8, 4)), np.ones((8, 1)), batch_size=4, epochs=2, verbose=0, callbacks=[progress.Live("tiny")])
    assert shown[0].startswith("tiny · starting")
    steps = [line.split(" · loss")[0] for line in shown[1:3]]
    assert steps == ["tiny · epoch 1/2 · step 1/2", "tiny · epoch 1/2 · step 2/2"]
    assert shown[3].startswith("tiny · epoch 1/2 done · loss ") and " · mae " in shown[3]
    assert shown[-1] == "tiny · trained 2 epochs"
    assert len(shown) == 1 + 2 * (2 + 1) + 1


def test_a_line_left_unchanged_says_so_until_it_is_done_or_the_cell_ends(shown, monkeypatch):
    monkeypatch.setattr(progress, "STILL_WORKING_S", 0.2)
    line = progress.Line("tracing")
    time.sleep(0.6)
    assert shown[0] == "tracing" and shown[1] == "tracing · still working (0 s)"
    line.done("traced")
    time.sleep(0.5)
    assert shown[-1] == "traced"
    other = progress.Line("running a command")
    InteractiveShell.instance().events.trigger("post_run_cell", None)  # the cell ends, e.g. stopped
    time.sleep(0.5)
    assert shown[-1] == "running a command"
    assert other.stopped.is_set()


def test_outside_a_notebook_nothing_is_shown(capsys):
    assert not InteractiveShell.initialized()
    line = progress.Line("hidden")
    line.show("still hidden", now=True)
    assert capsys.readouterr().out == ""
