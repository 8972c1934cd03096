"""One training artifact's state in Python: params, buffers and optimizer
state carried from step to step, as vitc-run's trainer carries them, but fed
by the caller's batches (its own data order, its own loop).

    state = vitc.TrainingState(vitc.load("train.vtc"))
    for images, labels in batches:          # f32 [N, C, H, W], i64 [N]
        loss, correct = state.step(images, labels, lr=1e-3)
    loss, correct = state.evaluate(test_images, test_labels)
"""
import numpy as np

from ._capi import Error

_CARRIED = ("param", "buffer", "opt_state")


class TrainingState:
    """Params and buffers start at the artifact's initial values, optimizer
    state at zero; step() runs train_step and keeps what it returns."""

    def __init__(self, model):
        if model.mode != "train":
            raise Error(f"{model.source} is an inference artifact; TrainingState needs "
                        "one compiled with vitc --mode train")
        self.model = model
        self.train_fn = model.functions["train_step"]
        self.eval_fn = model.functions.get("eval_step")
        self.info = model.training_info()
        if self.info["sharding"] != "none":
            raise Error(f"{model.source} is sharded ({self.info['sharding']}): "
                        "run it with vitc-run under mpirun")
        self.values = {}
        for inp in self.train_fn.inputs:
            if inp.role == "opt_state":
                if None in inp.shape:
                    raise Error(f"optimizer state '{inp.name}' has a dynamic shape")
                self.values[inp.name] = np.zeros(inp.shape, inp.numpy_dtype)
            elif inp.role in _CARRIED:
                self.values[inp.name] = model.initial_value(inp.name)
        self.steps = 0

    def weights(self):
        """{name: array} of the params and buffers (copies)."""
        return {i.name: self.values[i.name].copy() for i in self.train_fn.inputs
                if i.role in ("param", "buffer")}

    def set_weights(self, weights):
        """Replaces params and buffers by name (same shape and dtype); the
        optimizer state is kept."""
        for name, value in weights.items():
            if name not in self.values:
                raise Error(f"'{name}' is not a param or buffer of {self.model.source}")
            old = self.values[name]
            value = np.asarray(value)
            if value.shape != old.shape or value.dtype != old.dtype:
                raise Error(f"'{name}': {old.dtype}{list(old.shape)} expected, "
                            f"got {value.dtype}{list(value.shape)}")
            self.values[name] = np.array(value, copy=True)

    def _feeds(self, fn, images, labels, extra):
        feeds = {}
        for inp in fn.inputs:
            if inp.role in _CARRIED:
                feeds[inp.name] = self.values[inp.name]
            elif inp.role == "data":
                feeds[inp.name] = np.asarray(images, np.float32)
            elif inp.role == "label":
                feeds[inp.name] = np.asarray(labels, np.int64)
            elif inp.role in extra:
                feeds[inp.name] = extra[inp.role]
            elif inp.role == "sample_offset":
                feeds[inp.name] = np.array(0, np.int64)
            else:
                raise Error(f"{fn.name}: input '{inp.name}' has role '{inp.role}', "
                            "which TrainingState cannot feed")
        return feeds

    def step(self, images, labels, lr=None, seed=None):
        """One optimizer step on a batch; (mean loss, correct predictions).
        lr: default the artifact's; seed: dropout's seed for this step
        (default: the step number)."""
        self.steps += 1
        extra = {"lr": np.array(self.info["lr"] if lr is None else lr, np.float32),
                 "step": np.array(self.steps, np.float32),  # Adam's bias correction, from 1
                 "seed": np.array(self.steps if seed is None else seed, np.int64)}
        results = self.train_fn.run(self._feeds(self.train_fn, images, labels, extra))
        for out in self.train_fn.outputs:
            if out.updates:
                self.values[out.updates] = results[out.name]
        return self._loss_and_correct(self.train_fn, results)

    def evaluate(self, images, labels):
        """(mean loss, correct predictions) of eval_step on a batch."""
        if self.eval_fn is None:
            raise Error(f"{self.model.source} has no eval_step")
        return self._loss_and_correct(self.eval_fn,
                                      self.eval_fn.run(self._feeds(self.eval_fn, images, labels, {})))

    @staticmethod
    def _loss_and_correct(fn, results):
        by_role = {o.role: results[o.name] for o in fn.outputs if o.role}
        return float(by_role["loss"]), int(by_role["correct"])
