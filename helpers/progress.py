"""Live progress for a long cell: one line that changes in place while it runs, then a line that does not change.

Training cells pass ``verbose=0`` (Keras's own progress bar shows timings, which differ on every run) and
instead::

    model.fit(x, y, epochs=3, verbose=0, callbacks=[progress.Live("residual-56")])

While the model trains, the cell shows ``residual-56 · epoch 2/3 · step 14/27 · loss 1.5234``, updated in
place at most once a second through IPython's display updates; where nothing changes for a few seconds
(Keras tracing the first step, a validation pass), the line says how long it has been. When training ends,
the line becomes ``residual-56 · trained 3 epochs``: that is what a saved notebook keeps, with no timings.
Outside a notebook it shows nothing.
"""

import threading
import time

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras

UPDATE_EVERY_S = 1.0  # often enough to see it move, rarely enough not to flood the browser
STILL_WORKING_S = 5.0  # a line unchanged this long says that work goes on (tracing a step, validating)


class Line:
    """One line of text in a cell's output, replaced in place (nothing outside IPython).

    Until ``done`` or the end of the cell (stopped, say), a line left unchanged for a few seconds says how long
    it has been, so that Keras tracing a first step, a validation pass or a slow command does not look like a
    hang.
    """

    def __init__(self, text: str):
        from IPython import get_ipython
        from IPython.display import display

        shell = get_ipython()
        self.handle = display({"text/plain": text}, raw=True, display_id=True) if shell else None
        self.text, self.shown_at, self.lock, self.stopped = text, time.monotonic(), threading.Lock(), threading.Event()
        if self.handle is not None:

            def after_the_cell(result):
                self.stopped.set()
                shell.events.unregister("post_run_cell", after_the_cell)

            shell.events.register("post_run_cell", after_the_cell)
            threading.Thread(target=self._tick, daemon=True).start()

    def show(self, text: str, now: bool = False) -> None:
        """Replace the line with ``text``; unless ``now``, only where the last change is a second old."""
        with self.lock:
            if self.handle is None or (not now and time.monotonic() - self.shown_at < UPDATE_EVERY_S):
                return
            self.handle.update({"text/plain": text}, raw=True)
            self.text, self.shown_at = text, time.monotonic()

    def done(self, text: str) -> None:
        """The line's last text, which a saved notebook keeps."""
        self.stopped.set()
        self.show(text, now=True)

    def _tick(self) -> None:
        while not self.stopped.wait(STILL_WORKING_S / 5):
            with self.lock:  # the stop is checked under the lock, so the last text is never overwritten
                quiet = time.monotonic() - self.shown_at
                if quiet >= STILL_WORKING_S and not self.stopped.is_set():
                    self.handle.update({"text/plain": f"{self.text} · still working ({quiet:.0f} s)"}, raw=True)


class Live(keras.callbacks.Callback):
    """A Keras callback that shows training's epoch, step and loss in one line, updated in place.

    Arguments:
    name -- what is training, shown first on the line (e.g. the network's name)
    """

    def __init__(self, name: str):
        super().__init__()
        self.name, self.line, self.epoch, self.epochs_done = name, None, 0, 0

    def on_train_begin(self, logs=None):
        self.epochs_done = 0
        self.line = Line(f"{self.name} · starting: Keras traces the training step first")

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        steps = self.params.get("steps")
        loss = f" · loss {float(logs['loss']):.4f}" if logs and "loss" in logs else ""
        self.line.show(f"{self._where()} · step {batch + 1}{f'/{steps}' if steps else ''}{loss}")

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_done = epoch + 1
        metrics = " · ".join(f"{name} {float(value):.4f}" for name, value in (logs or {}).items())
        self.line.show(f"{self._where()} done · {metrics}", now=True)

    def on_train_end(self, logs=None):
        self.line.done(f"{self.name} · trained {self.epochs_done} epoch{'s' * (self.epochs_done != 1)}")

    def _where(self) -> str:
        return f"{self.name} · epoch {self.epoch + 1}/{self.params['epochs']}"
