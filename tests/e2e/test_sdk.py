"""The installed SDK, used as an application's project would use it: `cmake
--install` the build into a fresh prefix, then configure and build each of the
installed examples (share/vitc/examples) against it alone
(find_package(vitc CONFIG) with -DCMAKE_PREFIX_PATH=<prefix>; the compiler a
user has, `cc`/`c++`), compile their models with the installed `bin/vitc`,
run them and check what they print against onnxruntime:

- classify_cnn (C, vitc::runtime): the logits and top-1 of one image;
- vit_dynamic_batch (C++): one loaded ViT at batch 2 and 5;
- finetune (C, vitc::train): the test loss before fine-tuning, and after it
  with the weights the example wrote back, loaded into the ONNX model;
- session_c (C, vitc::runtime): one session, the model loaded from memory,
  at batch 1, 4, 2 and 4 again with the logits bound to its own buffer;
- the Python binding (lib/python/vitc) with only PYTHONPATH set: it loads
  the prefix's runtime library and matches onnxruntime.

Also: the installed headers are the C API and include nothing but libc's
headers and each other; pkg-config (vitc.pc, vitc-train.pc) compiles and links
the C examples with plain `cc`; nothing installed names the build or source
tree; and a copy of the prefix at another place (the original gone) still
configures, builds and runs an example, and its tools still run."""
import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

from conftest import ROOT, build_dir, check_ok, run_tool

EXAMPLES = ("classify_cnn", "vit_dynamic_batch", "finetune", "session_c")
# Only the C API: each installed header may include these and nothing else.
ALLOWED_INCLUDES = {"stddef.h", "stdint.h", "vitc_runtime.h"}


def rtol_check(got, ref, what):
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    assert got.shape == ref.shape, f"{what}: shape {got.shape}, onnxruntime {ref.shape}"
    excess = np.abs(got - ref) - 1e-4 * np.maximum(1.0, np.abs(ref))
    assert np.isfinite(got).all() and excess.max() <= 0, (
        f"{what}: max |diff| {np.abs(got - ref).max():.3e} exceeds 1e-4*max(1,|ref|)")


def compilers():
    """The user's compilers: cc/c++ if there are any, else the clang the build uses."""
    if shutil.which("cc") and shutil.which("c++"):
        return []
    return ["-DCMAKE_C_COMPILER=clang-22", "-DCMAKE_CXX_COMPILER=clang++-22"]


def build_example(prefix, name, work, *defs):
    """Configures and builds the installed example `name` against `prefix`
    only, in `work`/<name>; returns the build folder."""
    src, out = prefix / "share/vitc/examples" / name, work / name
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    check_ok(run_tool(["cmake", "-S", str(src), "-B", str(out), *generator, *compilers(),
                       f"-DCMAKE_PREFIX_PATH={prefix}", "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF",
                       "-DCMAKE_BUILD_TYPE=Release", *defs]), f"configuring {name}")
    # The package came from this prefix, not from one installed elsewhere.
    found = re.search(r"^vitc_DIR:PATH=(.*)$", (out / "CMakeCache.txt").read_text(), re.M)
    assert found and pathlib.Path(found.group(1)) == prefix / "lib/cmake/vitc", found
    check_ok(run_tool(["cmake", "--build", str(out)]), f"building {name}")
    return out


def vitc(prefix, *args):
    check_ok(run_tool([str(prefix / "bin/vitc"), *map(str, args)]), "installed vitc")


def readelf_dynamic(path):
    """The dynamic section (readelf -d), by binutils' readelf or LLVM's."""
    readelf = shutil.which("readelf") or shutil.which("llvm-readelf-22") or "readelf"
    proc = run_tool([readelf, "-d", str(path)])
    check_ok(proc, f"readelf -d {path}")
    return proc.stdout


def models(prefix):
    return prefix / "share/vitc/examples/models"


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    """`cmake --install` of the build into a fresh prefix."""
    prefix = tmp_path_factory.mktemp("sdk") / "prefix"
    check_ok(run_tool(["cmake", "--install", str(build_dir()), "--prefix", str(prefix)]),
             "cmake --install")
    return prefix


def read_logits(line):
    return [float(v) for v in line.split(":")[-1].split()]


def checkerboard(shape, shift=0):
    """The examples' generated image: 4x4 squares of +1 and -1."""
    h, w = shape[-2:]
    y, x = np.meshgrid(np.arange(h), (np.arange(w) + shift) % w, indexing="ij")
    board = np.where((y // 4 + x // 4) % 2 == 0, 1.0, -1.0).astype(np.float32)
    return np.broadcast_to(board, shape).copy()


def test_installed_layout(prefix):
    for path in ["bin/vitc", "bin/vitc-opt", "bin/vitc-run", "lib/libvitc_runtime.so",
                 "lib/libvitc_train.so", "include/vitc_runtime.h", "include/vitc_train.h",
                 "lib/cmake/vitc/vitcConfig.cmake", "lib/cmake/vitc/vitcConfigVersion.cmake",
                 "lib/cmake/vitc/vitcTargets.cmake", "lib/pkgconfig/vitc.pc",
                 "lib/pkgconfig/vitc-train.pc", "share/doc/vitc/README.md",
                 *(f"share/vitc/examples/{e}/CMakeLists.txt" for e in EXAMPLES)]:
        assert (prefix / path).is_file(), f"{path} is not installed (is the build configured " \
                                          f"with the install rules of cmake/VitcInstall.cmake?)"
    # The public headers: the C API, nothing from LLVM, MLIR, protobuf or C++.
    headers = sorted(p.name for p in (prefix / "include").rglob("*") if p.is_file())
    assert headers == ["vitc_runtime.h", "vitc_train.h"], headers
    for header in headers:
        includes = re.findall(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]',
                              (prefix / "include" / header).read_text(), re.M)
        assert set(includes) <= ALLOWED_INCLUDES, f"{header} includes {includes}"
    # Relocatable: no file of the package names the build or source tree or
    # the prefix; no installed binary's RUNPATH does.
    forbidden = [str(build_dir().resolve()), str(ROOT), str(prefix)]
    for text in [*(prefix / "lib/cmake/vitc").iterdir(), *(prefix / "lib/pkgconfig").iterdir()]:
        content = text.read_text()
        assert not any(f in content for f in forbidden), f"{text.name} holds an absolute path"
    for binary in ["bin/vitc", "bin/vitc-opt", "bin/vitc-run", "lib/libvitc_runtime.so",
                   "lib/libvitc_train.so"]:
        dyn = readelf_dynamic(prefix / binary)
        runpath = " ".join(re.findall(r"\b(?:RUNPATH|RPATH)\b.*\[(.*)\]", dyn))
        assert not any(f in runpath for f in forbidden), f"{binary}: RUNPATH {runpath}"
        if binary in ("bin/vitc-run", "lib/libvitc_train.so"):
            assert "$ORIGIN" in runpath, f"{binary}: RUNPATH {runpath}"


def run_classify(app, artifact, image=None):
    """Runs classify; returns (logits, top-1)."""
    proc = run_tool([str(app), str(artifact), *([str(image)] if image else [])])
    check_ok(proc, "classify")
    lines = proc.stdout.splitlines()
    logits = read_logits(next(line for line in lines if line.startswith("logits:")))
    top1 = int(re.search(r"^top-1: class (\d+)", proc.stdout, re.M).group(1))
    return np.array(logits), top1


def check_classification(got, top1, sess, x):
    ref = sess.run(None, {"input": x})[0][0]
    rtol_check(got, ref, "classify logits")
    assert top1 == int(np.argmax(got))
    # The same top-1 as onnxruntime unless its two best logits are too close to tell apart.
    best, second = np.sort(ref)[-1], np.sort(ref)[-2]
    assert top1 == int(np.argmax(ref)) or best - second < 1e-4, (top1, ref)


def test_classify_cnn(prefix, tmp_path):
    onnx_model = models(prefix) / "cnn_bn.onnx"
    # The example's build compiles the model with the SDK's vitc (vitc::vitc).
    out = build_example(prefix, "classify_cnn", tmp_path, f"-DVITC_MODEL={onnx_model}")
    artifact = out / "model.vtc"
    assert artifact.is_file(), "the example's build did not compile model.vtc"
    sess = ort.InferenceSession(str(onnx_model), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(7).standard_normal((1, 1, 28, 28), dtype=np.float32)
    x.tofile(tmp_path / "image.f32")
    check_classification(*run_classify(out / "classify", artifact, tmp_path / "image.f32"), sess, x)
    # Without an image: the generated checkerboard.
    check_classification(*run_classify(out / "classify", artifact), sess,
                         checkerboard((1, 1, 28, 28)))


def test_vit_dynamic_batch(prefix, tmp_path):
    onnx_model = models(prefix) / "vit_tiny.onnx"
    artifact = tmp_path / "vit.vtc"
    vitc(prefix, onnx_model, "-o", artifact)
    out = build_example(prefix, "vit_dynamic_batch", tmp_path)
    images = np.random.default_rng(11).standard_normal((5, 1, 28, 28), dtype=np.float32)
    images.tofile(tmp_path / "images.f32")
    proc = run_tool([str(out / "vit_batches"), str(artifact), str(tmp_path / "images.f32")])
    check_ok(proc, "vit_batches")
    assert "input 'input' f32 [?, 1, 28, 28]" in proc.stdout, proc.stdout
    assert re.search(r"^batches agree: max \|diff\| ", proc.stdout, re.M), proc.stdout
    sess = ort.InferenceSession(str(onnx_model), providers=["CPUExecutionProvider"])
    for batch in (2, 5):
        rows = [read_logits(line) for line in proc.stdout.splitlines()
                if line.startswith(f"batch {batch}: image ")]
        assert len(rows) == batch, proc.stdout
        rtol_check(rows, sess.run(None, {"input": images[:batch]})[0], f"vit batch {batch}")


def test_session_c(prefix, tmp_path):
    onnx_model = models(prefix) / "cnn_bn.onnx"
    artifact = tmp_path / "cnn.vtc"
    vitc(prefix, onnx_model, "-o", artifact)
    out = build_example(prefix, "session_c", tmp_path)
    proc = run_tool([str(out / "session"), str(artifact)])
    check_ok(proc, "session")
    version = pkg_config(prefix, "--modversion", "vitc")[0]
    assert re.search(rf"^vitc runtime {re.escape(version)} \(artifact format \d+\)$",
                     proc.stdout, re.M), proc.stdout
    sess = ort.InferenceSession(str(onnx_model), providers=["CPUExecutionProvider"])
    runs = {}  # batch -> the rows of each run at that batch
    for m in re.finditer(r"^batch (\d+): image (\d+):(.*)$", proc.stdout, re.M):
        batch, image = int(m.group(1)), int(m.group(2))
        if image == 0:
            runs.setdefault(batch, []).append([])
        runs[batch][-1].append([float(v) for v in m.group(3).split()])
    assert sorted((b, len(r)) for b, r in runs.items()) == [(1, 1), (2, 1), (4, 2)], proc.stdout
    for batch, rows in runs.items():
        images = np.stack([checkerboard((1, 28, 28), shift=i) for i in range(batch)])
        ref = sess.run(None, {"input": images})[0]
        for run in rows:
            rtol_check(run, ref, f"session batch {batch}")
    assert re.search(r"^arena: [1-9]\d* bytes$", proc.stdout, re.M), proc.stdout


def read_idx(path):
    data = path.read_bytes()
    dims = int.from_bytes(data[3:4], "big")
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def ort_eval(model, images, labels):
    """Mean cross-entropy and accuracy of `model` (an onnx.ModelProto)."""
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    logits = sess.run(None, {"input": images})[0].astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(len(labels)), labels].mean()
    return loss, (logits.argmax(axis=1) == labels).mean()


def test_finetune(prefix, tmp_path):
    artifact, work = tmp_path / "train.vtc", tmp_path / "work"
    vitc(prefix, models(prefix) / "cnn_bn_train.onnx", "--mode", "train", "-o", artifact)
    out = build_example(prefix, "finetune", tmp_path)
    proc = run_tool([str(out / "finetune"), str(artifact), str(work), "20"])
    check_ok(proc, "finetune")
    result = {m.group(1): (float(m.group(2)), float(m.group(3))) for m in re.finditer(
        r"^(before|after): test loss (\S+) accuracy (\S+) \(64 images\)$", proc.stdout, re.M)}
    assert set(result) == {"before", "after"}, proc.stdout
    assert len(re.findall(r"^step \d+ loss ", proc.stdout, re.M)) == 20, proc.stdout
    assert result["after"][0] < 0.5 * result["before"][0], result
    assert (work / "ckpt/checkpoint.vtck").is_file()

    # The example's synthetic test split, normalised as it does.
    images = read_idx(work / "data/t10k-images-idx3-ubyte").astype(np.float32)
    images = ((images / 255 - 0.5) / 0.5)[:, None].astype(np.float32)
    labels = read_idx(work / "data/t10k-labels-idx1-ubyte").astype(np.int64)
    # Before: the model's own weights (cnn_bn.onnx holds those of cnn_bn_train.onnx).
    model = onnx.load(models(prefix) / "cnn_bn.onnx")
    loss, acc = ort_eval(model, images, labels)
    rtol_check(result["before"][0], loss, "test loss before fine-tuning")
    assert result["before"][1] == pytest.approx(acc, abs=1e-4)
    # After: the weights the example wrote, put back into the model.
    written = {}
    for line in (work / "weights/index.txt").read_text().splitlines():
        name, role, dtype, file, *shape = line.split()
        assert role in ("param", "buffer") and dtype == "f32", line
        written[name] = np.fromfile(work / "weights" / file, np.float32).reshape(
            [int(d) for d in shape])
    names = {init.name for init in model.graph.initializer}
    assert set(written) == names, (sorted(written), sorted(names))
    for init in model.graph.initializer:
        init.CopyFrom(numpy_helper.from_array(written[init.name], init.name))
    loss, acc = ort_eval(model, images, labels)
    rtol_check(result["after"][0], loss, "test loss after fine-tuning")
    assert result["after"][1] == pytest.approx(acc, abs=1e-4)


def pkg_config(prefix, *args):
    proc = subprocess.run(["pkg-config", *args], capture_output=True, text=True,
                          env={**os.environ, "PKG_CONFIG_PATH": str(prefix / "lib/pkgconfig")})
    check_ok(proc, f"pkg-config {' '.join(args)}")
    return proc.stdout.split()


def cc():
    return shutil.which("cc") or "clang-22"


def test_pkg_config(prefix, tmp_path):
    if not shutil.which("pkg-config"):
        pytest.fail("pkg-config is not installed (scripts/setup.sh installs pkgconf)")
    examples = prefix / "share/vitc/examples"
    assert pkg_config(prefix, "--modversion", "vitc") == pkg_config(prefix, "--modversion",
                                                                     "vitc-train")
    libdir = pkg_config(prefix, "--variable=libdir", "vitc")[0]
    assert pathlib.Path(libdir).resolve() == (prefix / "lib").resolve()
    app = tmp_path / "classify"
    check_ok(run_tool([cc(), "-std=c99", "-Wall", "-Werror", str(examples / "classify_cnn/classify.c"),
                       *pkg_config(prefix, "--cflags", "--libs", "vitc"), f"-Wl,-rpath,{libdir}",
                       "-o", str(app)]), "cc classify.c $(pkg-config --cflags --libs vitc)")
    artifact = tmp_path / "cnn.vtc"
    vitc(prefix, models(prefix) / "cnn_bn.onnx", "-o", artifact)
    sess = ort.InferenceSession(str(models(prefix) / "cnn_bn.onnx"),
                                providers=["CPUExecutionProvider"])
    check_classification(*run_classify(app, artifact), sess, checkerboard((1, 1, 28, 28)))
    # The trainer's: compiles and links.
    check_ok(run_tool([cc(), "-std=c99", "-Wall", "-Werror", str(examples / "finetune/finetune.c"),
                       *pkg_config(prefix, "--cflags", "--libs", "vitc-train"),
                       f"-Wl,-rpath,{libdir}", "-o", str(tmp_path / "finetune")]),
             "cc finetune.c $(pkg-config --cflags --libs vitc-train)")


PYTHON_CLIENT = """
import sys, numpy as np, vitc
model = vitc.load(sys.argv[1])
np.save(sys.argv[3], model(np.load(sys.argv[2])))
print(vitc.library_path)
"""


def run_python_binding(prefix, artifact, x, work):
    """The installed Python binding (PYTHONPATH=<prefix>/lib/python, nothing
    pointing at the build) run on `x`; returns (logits, library it loaded)."""
    np.save(work / "py_x.npy", x)
    env = {k: v for k, v in os.environ.items() if k not in ("VITC_BUILD", "VITC_RUNTIME_LIBRARY", "PYTHONPATH")}
    env["PYTHONPATH"] = str(prefix / "lib/python")
    proc = subprocess.run([sys.executable, "-c", PYTHON_CLIENT, str(artifact), str(work / "py_x.npy"),
                           str(work / "py_y.npy")], capture_output=True, text=True, env=env, cwd=work,
                          timeout=300)
    check_ok(proc, "python -c 'import vitc' from the prefix")
    return np.load(work / "py_y.npy"), pathlib.Path(proc.stdout.strip().splitlines()[-1])


def test_python_binding(prefix, tmp_path):
    """`import vitc` from the prefix finds the prefix's runtime library."""
    assert (prefix / "lib/python/vitc/__init__.py").is_file()
    onnx_model = models(prefix) / "vit_tiny.onnx"
    vitc(prefix, onnx_model, "-o", tmp_path / "vit.vtc")
    x = checkerboard((3, 1, 28, 28))
    logits, library = run_python_binding(prefix, tmp_path / "vit.vtc", x, tmp_path)
    assert library.resolve() == (prefix / "lib/libvitc_runtime.so").resolve(), library
    sess = ort.InferenceSession(str(onnx_model), providers=["CPUExecutionProvider"])
    rtol_check(logits, sess.run(None, {"input": x})[0], "python binding logits")


def test_relocated_prefix(prefix, tmp_path):
    """A copy of the prefix elsewhere works with the original gone."""
    moved = tmp_path / "elsewhere" / "vitc-sdk"
    shutil.copytree(prefix, moved, symlinks=True)
    gone = prefix.with_name("prefix.gone")
    prefix.rename(gone)
    try:
        onnx_model = models(moved) / "cnn_bn.onnx"
        out = build_example(moved, "classify_cnn", tmp_path, f"-DVITC_MODEL={onnx_model}")
        dyn = readelf_dynamic(out / "classify")
        assert str(moved) in dyn and str(prefix) not in dyn, dyn
        sess = ort.InferenceSession(str(onnx_model), providers=["CPUExecutionProvider"])
        check_classification(*run_classify(out / "classify", out / "model.vtc"), sess,
                             checkerboard((1, 1, 28, 28)))
        # The moved tools find their libraries ($ORIGIN/../lib).
        x = checkerboard((1, 1, 28, 28))
        np.save(tmp_path / "x.npy", x)
        check_ok(run_tool([str(moved / "bin/vitc-run"), str(out / "model.vtc"), "--input",
                           f"input={tmp_path / 'x.npy'}", "--output-dir", str(tmp_path / "o")]),
                 "moved vitc-run")
        rtol_check(np.load(tmp_path / "o/logits.npy"), sess.run(None, {"input": x})[0],
                   "moved vitc-run")
        libdir = pkg_config(moved, "--variable=libdir", "vitc")[0]
        assert pathlib.Path(libdir).resolve() == (moved / "lib").resolve()
        logits, library = run_python_binding(moved, out / "model.vtc", x, tmp_path)
        assert library.resolve() == (moved / "lib/libvitc_runtime.so").resolve(), library
        rtol_check(logits, sess.run(None, {"input": x})[0], "moved python binding")
    finally:
        gone.rename(prefix)
