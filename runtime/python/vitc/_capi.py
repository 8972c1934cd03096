"""ctypes declarations of the vitc runtime's C API (vitc_runtime.h).

The binding is ctypes over the installed shared library rather than a
compiled extension: it needs no compiler, no Python headers and no extra
dependency, works with any CPython 3 that has numpy, and cannot fall out of
step with the library's ABI (it checks vitc_runtime_version at load). Every
call is a C call per model run, not per element, so ctypes' overhead
(microseconds) is noise next to a model's milliseconds.
"""
import ctypes
import os
import pathlib

MAX_RANK = 8
# The binding speaks this C API version (vitc_runtime.h's
# VITC_RUNTIME_VERSION_MAJOR/MINOR): before 1.0 the minor must match.
API_MAJOR, API_MINOR = 0, 1


class Tensor(ctypes.Structure):
    _fields_ = [("dtype", ctypes.c_int), ("rank", ctypes.c_int32),
                ("shape", ctypes.c_int64 * MAX_RANK), ("data", ctypes.c_void_p)]


class TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("rank", ctypes.c_int32),
                ("shape", ctypes.POINTER(ctypes.c_int64)), ("role", ctypes.c_char_p),
                ("updates", ctypes.c_char_p), ("full_rank", ctypes.c_int32),
                ("full_shape", ctypes.POINTER(ctypes.c_int64))]


class TrainingInfo(ctypes.Structure):
    _fields_ = [("loss", ctypes.c_char_p), ("label_smoothing", ctypes.c_float),
                ("optimizer", ctypes.c_char_p), ("weight_decay", ctypes.c_float),
                ("momentum", ctypes.c_float), ("nesterov", ctypes.c_int),
                ("beta1", ctypes.c_float), ("beta2", ctypes.c_float),
                ("epsilon", ctypes.c_float), ("clip_norm", ctypes.c_float),
                ("lr", ctypes.c_float), ("num_classes", ctypes.c_int64),
                ("sharding", ctypes.c_char_p)]


_P = ctypes.c_void_p
_SIGNATURES = {
    # name: (restype, argtypes)
    "vitc_runtime_version": (ctypes.c_int32, []),
    "vitc_runtime_version_string": (ctypes.c_char_p, []),
    "vitc_runtime_artifact_format": (ctypes.c_int32, []),
    "vitc_model_load": (_P, [ctypes.c_char_p]),
    "vitc_model_load_with_weights": (_P, [ctypes.c_char_p, ctypes.c_char_p]),
    "vitc_model_load_from_memory": (_P, [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]),
    "vitc_model_free": (None, [_P]),
    "vitc_model_mode": (ctypes.c_char_p, [_P]),
    "vitc_model_num_functions": (ctypes.c_int32, [_P]),
    "vitc_model_function_name": (ctypes.c_char_p, [_P, ctypes.c_int32]),
    "vitc_model_find_function": (ctypes.c_int32, [_P, ctypes.c_char_p]),
    "vitc_model_function_num_inputs": (ctypes.c_int32, [_P, ctypes.c_int32]),
    "vitc_model_function_num_outputs": (ctypes.c_int32, [_P, ctypes.c_int32]),
    "vitc_model_function_input_info": (ctypes.c_int, [_P, ctypes.c_int32, ctypes.c_int32,
                                                      ctypes.POINTER(TensorInfo)]),
    "vitc_model_function_output_info": (ctypes.c_int, [_P, ctypes.c_int32, ctypes.c_int32,
                                                       ctypes.POINTER(TensorInfo)]),
    "vitc_model_run_function": (ctypes.c_int, [_P, ctypes.c_int32, ctypes.POINTER(Tensor),
                                               ctypes.c_int32, ctypes.POINTER(Tensor),
                                               ctypes.c_int32]),
    "vitc_session_create": (_P, [_P, ctypes.c_int32, ctypes.c_char_p, ctypes.c_int32]),
    "vitc_session_free": (None, [_P]),
    "vitc_session_bind_input_at": (ctypes.c_int, [_P, ctypes.c_int32, ctypes.POINTER(Tensor)]),
    "vitc_session_bind_output_at": (ctypes.c_int, [_P, ctypes.c_int32, ctypes.POINTER(Tensor)]),
    "vitc_session_run": (ctypes.c_int, [_P]),
    "vitc_session_output": (ctypes.c_int, [_P, ctypes.c_int32, ctypes.POINTER(Tensor)]),
    "vitc_session_arena_bytes": (ctypes.c_int64, [_P]),
    "vitc_model_training_info": (ctypes.c_int, [_P, ctypes.POINTER(TrainingInfo)]),
    "vitc_model_initial_value": (ctypes.c_int, [_P, ctypes.c_char_p, ctypes.POINTER(Tensor)]),
    "vitc_tensor_free": (None, [ctypes.POINTER(Tensor)]),
    "vitc_set_num_threads": (ctypes.c_int, [ctypes.c_int32]),
    "vitc_last_error": (ctypes.c_char_p, []),
}


def _candidates():
    """Where libvitc_runtime.so may be: $VITC_RUNTIME_LIBRARY; the SDK's
    lib/ (this package is installed as lib/python/vitc); the build tree's
    lib/ ($VITC_BUILD, else build/ of the checkout this file lies in)."""
    if env := os.environ.get("VITC_RUNTIME_LIBRARY"):
        yield pathlib.Path(env)
        return
    here = pathlib.Path(__file__).resolve().parent
    yield here.parents[1] / "libvitc_runtime.so"
    checkout = here.parents[2]
    build = pathlib.Path(os.environ.get("VITC_BUILD", checkout / "build"))
    yield (build if build.is_absolute() else checkout / build) / "lib" / "libvitc_runtime.so"


def _load():
    tried = []
    for path in _candidates():
        tried.append(str(path))
        if path.exists():
            lib = ctypes.CDLL(str(path))
            break
    else:
        raise ImportError("vitc: libvitc_runtime.so not found (tried " + ", ".join(tried)
                          + "); set VITC_RUNTIME_LIBRARY to its path")
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    version = lib.vitc_runtime_version()
    major, minor = version // 1000000, version // 1000 % 1000
    if major != API_MAJOR or (major == 0 and minor != API_MINOR) or minor < API_MINOR:
        raise ImportError(f"vitc: {path} is runtime {lib.vitc_runtime_version_string().decode()}; "
                          f"this binding speaks the C API {API_MAJOR}.{API_MINOR}")
    return lib, path


lib, library_path = _load()


class Error(RuntimeError):
    """A vitc runtime call failed; the message is vitc_last_error()'s."""


def check(status, what):
    """Raises Error with the runtime's message when a call returned -1 or NULL."""
    if status is None or (isinstance(status, int) and status < 0):
        raise Error(f"{what}: {lib.vitc_last_error().decode(errors='replace')}")
    return status
