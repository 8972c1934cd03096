"""usage: capi_train.py TRAIN.vtc INFERENCE.vtc

Exercises the C API (vitc_runtime.h) on the artifacts of train-capi.mlir
through ctypes: functions, roles, training information and initial values,
and runs train_step and eval_step, comparing with numpy
(loss = w . x, w' = w - lr * x). Prints one line per check for FileCheck."""
import ctypes
import os
import shutil
import sys

import numpy as np

F32 = 1
DTYPE_NAMES = {F32: "f32"}

# libvitc_runtime.so lies in lib/ next to the bin/ that holds vitc-run; the
# C declarations are the Python binding's (runtime/python/vitc/_capi.py),
# used here without the binding's Python layer, to test the C API itself.
bin_dir = os.path.dirname(os.path.realpath(shutil.which("vitc-run")))
os.environ["VITC_RUNTIME_LIBRARY"] = os.path.join(bin_dir, "..", "lib", "libvitc_runtime.so")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 4,
                                "runtime", "python"))
from vitc._capi import Tensor, TensorInfo, TrainingInfo, lib  # noqa: E402,F401

def error():
    return lib.vitc_last_error().decode()


def load(path):
    model = lib.vitc_model_load(path.encode())
    if not model:
        sys.exit("load failed: " + error())
    return model


def shape_of(shape, rank):
    return "[" + ", ".join(str(shape[d]) for d in range(rank)) + "]"


def as_tensor(array):
    tensor = Tensor(F32, array.ndim)
    for d, n in enumerate(array.shape):
        tensor.shape[d] = n
    tensor.data = array.ctypes.data
    return tensor


def to_numpy(tensor):
    """Copies an f32 output tensor and frees it."""
    shape = tuple(tensor.shape[d] for d in range(tensor.rank))
    count = int(np.prod(shape))
    values = np.ctypeslib.as_array(
        ctypes.cast(tensor.data, ctypes.POINTER(ctypes.c_float)), (max(count, 1),))
    array = values[:count].reshape(shape).copy()
    lib.vitc_tensor_free(ctypes.byref(tensor))
    return array


def run(model, fn, arrays, num_outputs):
    inputs = (Tensor * len(arrays))(*[as_tensor(a) for a in arrays])
    outputs = (Tensor * num_outputs)()
    rc = lib.vitc_model_run_function(model, fn, inputs, len(arrays), outputs, num_outputs)
    if rc != 0:
        return rc, error()
    return rc, [to_numpy(t) for t in outputs]


def close(a, b):
    return "OK" if a.shape == b.shape and np.allclose(a, b, rtol=1e-5, atol=1e-5) else f"FAIL {a} {b}"


model = load(sys.argv[1])
print("mode", lib.vitc_model_mode(model).decode())
count = lib.vitc_model_num_functions(model)
names = [lib.vitc_model_function_name(model, fn).decode() for fn in range(count)]
print(f"functions {count}:", " ".join(names))
print("find eval_step:", lib.vitc_model_find_function(model, b"eval_step"))
print("find nope:", lib.vitc_model_find_function(model, b"nope"), error())
for fn, fn_name in enumerate(names):
    for kind in ("input", "output"):
        for i in range(getattr(lib, f"vitc_model_function_num_{kind}s")(model, fn)):
            info = TensorInfo()
            assert getattr(lib, f"vitc_model_function_{kind}_info")(model, fn, i, ctypes.byref(info)) == 0
            print(fn_name, kind, info.name.decode(), DTYPE_NAMES[info.dtype],
                  shape_of(info.shape, info.rank),
                  f"role={info.role.decode()} updates={info.updates.decode()} "
                  f"full_rank={info.full_rank}")
print("no function #2:", lib.vitc_model_function_num_inputs(model, 2), error())

t = TrainingInfo()
assert lib.vitc_model_training_info(model, ctypes.byref(t)) == 0
print(f"training loss={t.loss.decode()} label_smoothing={t.label_smoothing:g} "
      f"optimizer={t.optimizer.decode()} weight_decay={t.weight_decay:g} "
      f"momentum={t.momentum:g} nesterov={t.nesterov} beta1={t.beta1:g} beta2={t.beta2:g} "
      f"epsilon={t.epsilon:g} clip_norm={t.clip_norm:g} lr={t.lr:g} num_classes={t.num_classes}")
print(f"sharding {t.sharding.decode()}")

# The initial value is the memref.global @"init:w" of train-capi.mlir.
w0_expected = np.arange(64, dtype=np.float32) * 0.25
view = Tensor()
assert lib.vitc_model_initial_value(model, b"w", ctypes.byref(view)) == 0
w0 = np.ctypeslib.as_array(ctypes.cast(view.data, ctypes.POINTER(ctypes.c_float)), (64,)).copy()
# The view must point into the artifact's file mapping, not at a copy.
with open("/proc/self/maps") as maps:
    mapped = any(os.path.realpath(sys.argv[1]) in line and
                 int(line.split()[0].split("-")[0], 16) <= view.data <
                 int(line.split()[0].split("-")[1], 16) for line in maps)
print(f"initial w: {DTYPE_NAMES[view.dtype]} {shape_of(view.shape, view.rank)}, "
      f"in the mapped weights: {mapped}, values {close(w0, w0_expected)}")
print("initial nope:", lib.vitc_model_initial_value(model, b"nope", ctypes.byref(view)), error())

rng = np.random.default_rng(0)
x = rng.standard_normal(64).astype(np.float32)
lr = np.array(0.5, np.float32)
rc, outputs = run(model, names.index("train_step"), [w0, x, lr], 2)
assert rc == 0, outputs
loss, w1 = outputs
print(f"train_step: loss {close(loss, np.array(np.dot(w0, x), np.float32))}, "
      f"new w {close(w1, w0 - lr * x)}")
rc, outputs = run(model, names.index("eval_step"), [w1, x], 1)
assert rc == 0, outputs
print(f"eval_step: loss {close(outputs[0], np.array(np.dot(w0 - lr * x, x), np.float32))}")
rc, message = run(model, names.index("eval_step"), [w1, x], 2)
print("wrong output count:", rc, message)
lib.vitc_model_free(model)

model = load(sys.argv[2])
print("inference mode:", lib.vitc_model_mode(model).decode())
print("inference training info:", lib.vitc_model_training_info(model, ctypes.byref(t)), error())
lib.vitc_model_free(model)
