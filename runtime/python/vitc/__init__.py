"""vitc: run compiled models (.vtc) from Python, over the C API.

    import vitc
    model = vitc.load("model.vtc")
    logits = model(x)                        # numpy in, numpy out (function "main")
    outs = model.run({"input": x})           # {output name: array}
    session = model.session(threads=2)       # an arena of its own: no allocation per run
    outs = session.run({"input": x})

    train = vitc.load("train.vtc")
    state = vitc.TrainingState(train)        # params, buffers, optimizer state
    loss, correct = state.step(images, labels, lr=1e-3)
    weights = state.weights()                # {name: array}

A thin layer over libvitc_runtime.so (vitc_runtime.h) through ctypes; it
does not replace the C API. Arrays are copied in as C-contiguous arrays of
the input's dtype (no conversion: a wrong dtype is an error) and results
are copied out, so nothing returned aliases the runtime's memory.
"""
import ctypes

import numpy as np

from . import _capi
from ._capi import Error, check, lib, library_path

__all__ = ["Error", "Model", "Session", "TensorInfo", "TrainingState", "library_path", "load", "load_from_memory",
           "set_num_threads", "version"]

# vitc_dtype -> numpy dtype (bf16 has none in numpy: refused with its name).
_NUMPY = {1: np.float32, 2: np.float16, 4: np.float64, 5: np.int64, 6: np.int32, 7: np.int8,
          8: np.uint8, 9: np.bool_}
_NAMES = {1: "f32", 2: "f16", 3: "bf16", 4: "f64", 5: "i64", 6: "i32", 7: "i8", 8: "u8", 9: "i1"}


def version():
    """The runtime library's version string, e.g. "0.1.0"."""
    return lib.vitc_runtime_version_string().decode()


def set_num_threads(n):
    """Threads of the kernels (OpenMP and oneDNN) for runs without a
    session of their own; n <= 0 restores the default."""
    check(lib.vitc_set_num_threads(int(n)), "set_num_threads")


class TensorInfo:
    """An input or output of a function: name, dtype ("f32", ...), shape
    (None for a dynamic dim), role and the input it updates (training
    artifacts; "" otherwise)."""

    def __init__(self, info):
        self.name = info.name.decode()
        self.code = info.dtype  # vitc_dtype
        self.dtype = _NAMES.get(info.dtype, str(info.dtype))
        self.numpy_dtype = _NUMPY.get(info.dtype)
        self.shape = tuple(None if info.shape[d] < 0 else info.shape[d] for d in range(info.rank))
        self.role = info.role.decode() if info.role else ""
        self.updates = info.updates.decode() if info.updates else ""
        self.sharded = info.full_rank >= 0

    def __repr__(self):
        dims = ",".join("?" if d is None else str(d) for d in self.shape)
        role = f" role={self.role}" if self.role else ""
        return f"<{self.name}: {self.dtype}[{dims}]{role}>"


def _to_c(array, info, where):
    """A C tensor over `array` (which the caller keeps alive), after checking
    its dtype and static dims against `info`."""
    if info.numpy_dtype is None:
        raise Error(f"{where}: input '{info.name}' is {info.dtype}, which numpy has no dtype for")
    array = np.asarray(array)
    if array.dtype != info.numpy_dtype:
        raise Error(f"{where}: input '{info.name}' is {info.dtype}, got numpy {array.dtype}")
    if array.ndim != len(info.shape) or any(
            want is not None and want != got for want, got in zip(info.shape, array.shape)):
        raise Error(f"{where}: input '{info.name}' has shape {info.shape} (None: any), got {array.shape}")
    array = np.require(array, requirements="C")  # (ascontiguousarray makes 0-d arrays 1-d)
    tensor = _capi.Tensor()
    tensor.dtype = info.code
    tensor.rank = array.ndim
    for d, size in enumerate(array.shape):
        tensor.shape[d] = size
    tensor.data = array.ctypes.data if array.size else None
    return tensor, array


def _from_c(tensor):
    """A numpy copy of a C tensor's data."""
    dtype = _NUMPY.get(tensor.dtype)
    if dtype is None:
        raise Error(f"an output is {_NAMES.get(tensor.dtype, tensor.dtype)}, which numpy has no dtype for")
    shape = tuple(tensor.shape[d] for d in range(tensor.rank))
    count = int(np.prod(shape, dtype=np.int64))
    if count == 0:
        return np.empty(shape, dtype)
    buffer = (ctypes.c_char * (count * np.dtype(dtype).itemsize)).from_address(tensor.data)
    return np.frombuffer(buffer, dtype, count).reshape(shape).copy()


class Function:
    """One function of a model ("main", "train_step", "eval_step")."""

    def __init__(self, model, index):
        self.model, self.index = model, index
        self.name = lib.vitc_model_function_name(model._handle, index).decode()
        self.inputs = [self._info(lib.vitc_model_function_input_info, i)
                       for i in range(lib.vitc_model_function_num_inputs(model._handle, index))]
        self.outputs = [self._info(lib.vitc_model_function_output_info, i)
                        for i in range(lib.vitc_model_function_num_outputs(model._handle, index))]

    def _info(self, getter, i):
        info = _capi.TensorInfo()
        check(getter(self.model._handle, self.index, i, ctypes.byref(info)), f"{self.name} #{i}")
        return TensorInfo(info)

    def _ordered(self, feeds):
        """The inputs in the function's order, from a dict by name or a
        sequence in order."""
        if isinstance(feeds, dict):
            unknown = set(feeds) - {i.name for i in self.inputs}
            if unknown:
                raise Error(f"{self.name}: no input named {sorted(unknown)}; inputs: "
                            f"{[i.name for i in self.inputs]}")
            missing = [i.name for i in self.inputs if i.name not in feeds]
            if missing:
                raise Error(f"{self.name}: inputs {missing} not given")
            return [feeds[i.name] for i in self.inputs]
        feeds = list(feeds)
        if len(feeds) != len(self.inputs):
            raise Error(f"{self.name} takes {len(self.inputs)} inputs "
                        f"({[i.name for i in self.inputs]}), got {len(feeds)}")
        return feeds

    def run(self, feeds):
        """{output name: array} of one call on `feeds` (dict or sequence)."""
        arrays = self._ordered(feeds)
        inputs = (_capi.Tensor * max(1, len(arrays)))()
        keep = []
        for i, (array, info) in enumerate(zip(arrays, self.inputs)):
            inputs[i], kept = _to_c(array, info, self.name)
            keep.append(kept)
        outputs = (_capi.Tensor * max(1, len(self.outputs)))()
        check(lib.vitc_model_run_function(self.model._handle, self.index, inputs, len(arrays),
                                          outputs, len(self.outputs)), self.name)
        results = {}
        try:
            for i, info in enumerate(self.outputs):
                results[info.name] = _from_c(outputs[i])
        finally:
            for i in range(len(self.outputs)):
                lib.vitc_tensor_free(ctypes.byref(outputs[i]))
        return results


class Model:
    """A loaded artifact. Prefer vitc.load()."""

    def __init__(self, handle, source):
        self._handle = check(handle, f"load {source}")
        self.source = source
        self.mode = lib.vitc_model_mode(self._handle).decode()
        self.functions = {}
        for fn in range(lib.vitc_model_num_functions(self._handle)):
            f = Function(self, fn)
            self.functions[f.name] = f

    def __del__(self):
        if getattr(self, "_handle", None):
            lib.vitc_model_free(self._handle)
            self._handle = None

    def _function(self, fn):
        if fn is None:
            return next(iter(self.functions.values()))
        if fn not in self.functions:
            raise Error(f"{self.source} has no function '{fn}'; it has {list(self.functions)}")
        return self.functions[fn]

    @property
    def inputs(self):
        return self._function(None).inputs

    @property
    def outputs(self):
        return self._function(None).outputs

    def run(self, feeds, function=None):
        """{output name: array} of `function` (default: the first, an
        inference model's "main") on `feeds`, a dict by input name or a
        sequence in input order."""
        return self._function(function).run(feeds)

    def __call__(self, *arrays):
        """The outputs of "main" on inputs in order: one array, or a tuple."""
        results = list(self.run(arrays).values())
        return results[0] if len(results) == 1 else tuple(results)

    def session(self, function=None, threads=0):
        """A Session of `function` on the CPU with `threads` threads (0: the
        process default)."""
        return Session(self, function, threads)

    def training_info(self):
        """The hyperparameters a training artifact was compiled with."""
        info = _capi.TrainingInfo()
        check(lib.vitc_model_training_info(self._handle, ctypes.byref(info)), "training_info")
        out = {name: getattr(info, name) for name, _ in _capi.TrainingInfo._fields_}
        return {k: v.decode() if isinstance(v, bytes) else v for k, v in out.items()}

    def initial_value(self, name):
        """A copy of the initial value of param or buffer `name`."""
        view = _capi.Tensor()
        check(lib.vitc_model_initial_value(self._handle, name.encode(), ctypes.byref(view)),
              f"initial value of '{name}'")
        return _from_c(view)


def load(path, weights=None):
    """Loads an artifact (`weights`: the weights file of one compiled with
    `vitc --weights-file`, default the one it names)."""
    path = str(path)
    if weights is None:
        return Model(lib.vitc_model_load(path.encode()), path)
    return Model(lib.vitc_model_load_with_weights(path.encode(), str(weights).encode()), path)


def load_from_memory(data, weights=None):
    """Loads an artifact from bytes (copied once by the runtime unless
    64-byte aligned; the Model keeps `data` alive either way)."""
    data = bytes(data)
    buffer = ctypes.create_string_buffer(data, len(data))
    model = Model(lib.vitc_model_load_from_memory(buffer, len(data),
                                                  None if weights is None else str(weights).encode()),
                  "<memory>")
    model._memory = buffer
    return model


class Session:
    """A function bound to the CPU with a thread count and an arena of its
    own: after the first run at a set of input shapes, runs at those shapes
    allocate nothing in the runtime. Inputs are bound to copies the session
    keeps until the next run; results are copied out."""

    def __init__(self, model, function=None, threads=0):
        self.model = model  # the session keeps what it needs; this keeps the names
        self.function = model._function(function)
        self._handle = check(lib.vitc_session_create(model._handle, self.function.index, b"cpu",
                                                     int(threads)), "session")
        self._kept = []

    def __del__(self):
        if getattr(self, "_handle", None):
            lib.vitc_session_free(self._handle)
            self._handle = None

    def run(self, feeds):
        """{output name: array} of one run on `feeds` (dict or sequence)."""
        f = self.function
        self._kept = []
        for i, (array, info) in enumerate(zip(f._ordered(feeds), f.inputs)):
            tensor, kept = _to_c(array, info, f.name)
            self._kept.append(kept)
            check(lib.vitc_session_bind_input_at(self._handle, i, ctypes.byref(tensor)),
                  f"{f.name}: bind '{info.name}'")
        check(lib.vitc_session_run(self._handle), f.name)
        results = {}
        for i, info in enumerate(f.outputs):
            out = _capi.Tensor()
            check(lib.vitc_session_output(self._handle, i, ctypes.byref(out)), f"{f.name}: output #{i}")
            results[info.name] = _from_c(out)
        return results

    @property
    def arena_bytes(self):
        return lib.vitc_session_arena_bytes(self._handle)


from .training import TrainingState  # noqa: E402  (uses Model)
