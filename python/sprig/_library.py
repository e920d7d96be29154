"""The Swift library's C interface (Sources/SprigC), loaded with ctypes.

The library is looked for at $SPRIG_LIBRARY, then beside this file (where `pip install`
puts it), then in the repository's build folders (.build/release, .build-test/release).
"""

import atexit
import ctypes
import os
import re

_HERE = os.path.dirname(os.path.abspath(__file__))
_NAME = "libSprigC.so"


class SprigError(RuntimeError):
    """A failure inside Sprig that is not a bad argument or a missing file (a bad data file,
    a loss that became non-finite, a full disk …): the library's one-line message."""


def _candidates():
    if os.environ.get("SPRIG_LIBRARY"):
        yield os.environ["SPRIG_LIBRARY"]
    yield os.path.join(_HERE, _NAME)
    root = os.path.dirname(os.path.dirname(_HERE))
    for build in (".build/release", ".build-test/release"):
        yield os.path.join(root, build, _NAME)


def _choose_blas_kernels():
    """OpenBLAS picks its kernels when it loads and falls back to slow SSE3 ones on CPUs it does
    not recognise (some virtual machines). The command-line tool re-executes itself with
    OPENBLAS_CORETYPE set; a library must not re-execute the interpreter, so the core type is
    chosen here from the CPU's features, before the library (and its OpenBLAS) loads — unless
    the user set it, or an OpenBLAS is already loaded in this process."""
    if os.environ.get("OPENBLAS_CORETYPE"):
        return
    try:
        with open("/proc/self/maps") as f:
            if "libopenblas" in f.read():
                return
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return
    if "avx512f" in flags:
        os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
    elif "avx2" in flags:
        os.environ["OPENBLAS_CORETYPE"] = "Haswell"


def _load():
    _choose_blas_kernels()
    tried = []
    for path in _candidates():
        if os.path.exists(path):
            return ctypes.CDLL(path)
        tried.append(path)
    raise ImportError("Sprig's library libSprigC.so was not found (looked at: " + ", ".join(tried)
                      + "); install the package with `pip install ./python` or build it with "
                      "`swift build -c release --product SprigC` and set SPRIG_LIBRARY")


lib = _load()

CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_char_p, ctypes.c_void_p)
_argv = ctypes.POINTER(ctypes.c_char_p)
lib.sprig_last_error.argtypes = [ctypes.c_char_p, ctypes.c_ssize_t]
lib.sprig_last_error.restype = ctypes.c_ssize_t
lib.sprig_model_new.argtypes = [ctypes.c_int32, _argv, ctypes.POINTER(ctypes.c_void_p)]
lib.sprig_model_new.restype = ctypes.c_int32
lib.sprig_check_flags.argtypes = [ctypes.c_int32, _argv]
lib.sprig_check_flags.restype = ctypes.c_int32
lib.sprig_model_free.argtypes = [ctypes.c_void_p]
lib.sprig_model_free.restype = None
lib.sprig_model_fit.argtypes = [ctypes.c_void_p, ctypes.c_int32, _argv,
                                ctypes.c_void_p, ctypes.c_int32, ctypes.c_ssize_t, ctypes.c_ssize_t, ctypes.c_void_p,
                                ctypes.c_void_p, ctypes.c_int32, ctypes.c_ssize_t, ctypes.c_ssize_t, ctypes.c_void_p,
                                CALLBACK, ctypes.c_void_p, ctypes.c_void_p]
lib.sprig_model_fit.restype = ctypes.c_int32
lib.sprig_model_copy.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
lib.sprig_model_copy.restype = ctypes.c_int32
lib.sprig_model_get_normalization.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_double)]
lib.sprig_model_get_normalization.restype = ctypes.c_int32
lib.sprig_model_set_normalization.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_double, ctypes.c_double, ctypes.c_int32]
lib.sprig_model_set_normalization.restype = ctypes.c_int32
lib.sprig_model_reinitialize.argtypes = [ctypes.c_void_p]
lib.sprig_model_reinitialize.restype = ctypes.c_int32
lib.sprig_fail_together.argtypes = [ctypes.c_int32, ctypes.c_char_p, ctypes.c_void_p]
lib.sprig_fail_together.restype = ctypes.c_int32
lib.sprig_model_predict.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32, ctypes.c_ssize_t, ctypes.c_ssize_t,
                                    ctypes.c_void_p, ctypes.c_ssize_t]
lib.sprig_model_predict.restype = ctypes.c_int32
lib.sprig_model_evaluate.argtypes = [ctypes.c_void_p, ctypes.c_int32, _argv, ctypes.c_void_p, ctypes.c_int32,
                                     ctypes.c_ssize_t, ctypes.c_ssize_t, ctypes.c_void_p, ctypes.POINTER(ctypes.c_double)]
lib.sprig_model_evaluate.restype = ctypes.c_int32
lib.sprig_model_save.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
lib.sprig_model_save.restype = ctypes.c_int32
lib.sprig_model_layer_sizes.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_ssize_t), ctypes.c_ssize_t]
lib.sprig_model_layer_sizes.restype = ctypes.c_ssize_t
lib.sprig_rank.argtypes = [ctypes.POINTER(ctypes.c_ssize_t), ctypes.POINTER(ctypes.c_ssize_t)]
lib.sprig_rank.restype = ctypes.c_int32
lib.sprig_challenge_run.argtypes = [ctypes.c_char_p, ctypes.c_ssize_t, ctypes.c_ssize_t, ctypes.c_char_p, ctypes.c_char_p,
                                    ctypes.c_float, ctypes.c_ssize_t, CALLBACK, ctypes.c_void_p]
lib.sprig_challenge_run.restype = ctypes.c_int32
lib.sprig_finalize.argtypes = []
lib.sprig_finalize.restype = None
# Under mpirun, MPI is finalised at exit if Sprig started it (not when mpi4py did).
atexit.register(lib.sprig_finalize)


def argv(flags):
    """A C argv array for `flags` (kept alive by the returned tuple's first item)."""
    encoded = [f.encode() for f in flags]
    array = (ctypes.c_char_p * max(len(encoded), 1))(*encoded)
    return encoded, len(encoded), array


def _python_names(message):
    """'--learning-rate -1.0 is …' → 'learning_rate -1.0 is …': the keyword a Python caller gave."""
    return re.sub(r"--([a-z][a-z0-9-]*)", lambda m: m.group(1).replace("-", "_"), message)


# Exception classes by the library's status (Sources/SprigC/CallStatus.swift), and back.
_EXCEPTIONS = {1: ValueError, 2: FileNotFoundError, 4: KeyboardInterrupt, 5: TypeError}


def _status(error):
    for status, kind in ((2, FileNotFoundError), (5, TypeError), (1, ValueError), (4, KeyboardInterrupt)):
        if isinstance(error, kind):
            return status
    return 3


def last_error():
    size = lib.sprig_last_error(None, 0)
    buffer = ctypes.create_string_buffer(size + 1)
    lib.sprig_last_error(buffer, size + 1)
    return _python_names(buffer.value.decode("utf-8", "replace"))


def check(status):
    """Raises the exception for a non-zero status, with the library's message."""
    if status == 0:
        return
    raise _EXCEPTIONS.get(status, SprigError)(last_error())


def fail_together(error, communicator):
    """Raises `error`, a failure of this rank's arguments met in Python before `fit` reached the
    library, once every rank of an MPI job has agreed on it: then all ranks raise the first
    failing rank's error together, instead of this rank raising alone while the others wait in
    the run (`sprig_fail_together`). On one process `error` itself is raised."""
    message = str(error.args[0]) if error.args else str(error)
    status = lib.sprig_fail_together(_status(error), message.encode("utf-8", "replace"), communicator)
    agreed = last_error()
    if agreed == _python_names(message):
        raise error
    raise _EXCEPTIONS.get(status, SprigError)(agreed) from error
