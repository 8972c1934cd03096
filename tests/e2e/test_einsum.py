"""Einsum, which vitc decomposes into transpose, reshape, matmul, mul and
reduce_sum (frontends/onnx/lib/OpsEinsum.cpp):

  - values against onnxruntime for equations of every shape the rule
    handles (contraction, batch, implicit output, ellipsis of differing
    ranks, broadcasting size-1 dims, diagonals, three operands), with a
    dynamic batch run at two sizes from one artifact;
  - the training step's gradients of weights that feed Einsums against
    PyTorch autograd through torch.einsum (the decomposition's vt ops are
    differentiable: no gradient rule of its own).

All cases share one model per check, so each compiles once.
"""
import numpy as np
import onnxruntime as ort
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

from conftest import check_ok, run_tool, tool
from test_train_step import run_function

# (equation, input shapes): "N" and "T" are dynamic dims of the graph inputs.
CASES = [
    ("ij,jk->ik", [(4, 5), (5, 6)]),
    ("bhid,bhjd->bhij", [("N", 2, 5, 4), ("N", 2, 6, 4)]),
    ("bhij,bhjd->bhid", [("N", 2, 5, 6), ("N", 2, 6, 4)]),
    # Implicit output: letters used once, alphabetically (n is contracted).
    ("nij,njk", [("N", 3, 4), ("N", 4, 5)]),
    ("...ij,jk->...ik", [("N", 3, 4), (4, 5)]),
    # Ellipses of different ranks broadcast, right-aligned.
    ("...ij,...jk->...ik", [("N", 2, 3, 4), (2, 4, 5)]),
    # Free and contracted dims that are dynamic, merged at run time.
    ("ntd,de->nte", [("N", "T", 4), (4, 5)]),
    ("ntd,nte->de", [("N", "T", 4), ("N", "T", 5)]),
    # One operand: transpose with a summed dim.
    ("nchw->nwh", [("N", 3, 4, 5)]),
    # A static 1 broadcasts against the other side's dim.
    ("nij,nj->ni", [("N", 3, 4), (1, 4)]),
    # Nothing contracted: an outer product with a batch dim.
    ("ni,nj->nij", [("N", 3), ("N", 4)]),
    # Diagonals, of a static and of a dynamic dim.
    ("...ii->...i", [("N", 3, 3)]),
    ("iij->ij", [("T", "T", 2)]),
    # Three operands, contracted left to right.
    ("ni,nij,nj->n", [("N", 3), ("N", 3, 4), ("N", 4)]),
]


# onnxruntime (and ONNX's shape inference) refuse ellipses of different
# ranks, which numpy's einsum, ONNX's reference implementation, broadcasts:
# these are checked against numpy.
NUMPY_ONLY = {"...ij,...jk->...ik"}


def einsum_model(leave_out=()):
    inputs, nodes, outputs = [], [], []
    for c, (equation, shapes) in enumerate(CASES):
        if equation in leave_out:
            continue
        names = [f"c{c}_x{i}" for i in range(len(shapes))]
        inputs += [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s))
                   for n, s in zip(names, shapes)]
        nodes.append(helper.make_node("Einsum", names, [f"c{c}_y"], equation=equation))
        outputs.append(helper.make_tensor_value_info(f"c{c}_y", TensorProto.FLOAT, None))
    graph = helper.make_graph(nodes, "einsum", inputs, outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def feeds(batch, time, seed):
    rng = np.random.default_rng(seed)
    sizes = {"N": batch, "T": time}
    values = {}
    for c, (_, shapes) in enumerate(CASES):
        for i, shape in enumerate(shapes):
            dims = [sizes.get(d, d) for d in shape]
            values[f"c{c}_x{i}"] = rng.standard_normal(dims).astype(np.float32)
    return values


def test_einsum_matches_onnxruntime(tmp_path):
    model = einsum_model()
    onnx_path = tmp_path / "einsum.onnx"
    onnx_path.write_bytes(model.SerializeToString())
    artifact = tmp_path / "einsum.vtc"
    check_ok(run_tool([tool("vitc"), str(onnx_path), "-o", str(artifact)]), "vitc")
    sess = ort.InferenceSession(einsum_model(NUMPY_ONLY).SerializeToString(),
                                providers=["CPUExecutionProvider"])
    for batch, time in ((2, 3), (5, 1)):
        values = feeds(batch, time, seed=batch)
        got = run_function(artifact, "main", values, tmp_path / f"b{batch}")
        ort_in = {i.name: values[i.name] for i in sess.get_inputs()}
        ort_out = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, ort_in)))
        for c, (equation, shapes) in enumerate(CASES):
            ins = [values[f"c{c}_x{i}"] for i in range(len(shapes))]
            want = np.einsum(equation, *ins) if equation in NUMPY_ONLY else ort_out[f"c{c}_y"]
            y = got[f"c{c}_y"]
            what = f"{equation} at batch {batch}, time {time}"
            assert y.shape == want.shape, f"{what}: shape {y.shape}, expected {want.shape}"
            np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-5, err_msg=what)


# A classifier whose every step is an Einsum: a projection by weight W, an
# attention-like product of the projection with itself, a head V and a
# diagonal of weight Dg (a repeated label).
GRAD_EQUATIONS = ["ntd,dh->nth", "nth,nsh->nts", "nts,nsh->nh", "nh,hc->nc", "nc,cc->nc"]
D, H, C = 6, 5, 4


def grad_weights():
    rng = np.random.default_rng(3)
    return {"W": (0.4 * rng.standard_normal((D, H))).astype(np.float32),
            "V": (0.4 * rng.standard_normal((H, C))).astype(np.float32),
            "Dg": (0.4 * rng.standard_normal((C, C))).astype(np.float32)}


def grad_model(weights):
    e = GRAD_EQUATIONS
    nodes = [
        helper.make_node("Einsum", ["x", "W"], ["h"], equation=e[0]),
        helper.make_node("Einsum", ["h", "h"], ["a"], equation=e[1]),
        helper.make_node("Einsum", ["a", "h"], ["c"], equation=e[2]),
        helper.make_node("Einsum", ["c", "V"], ["z"], equation=e[3]),
        helper.make_node("Einsum", ["z", "Dg"], ["logits"], equation=e[4]),
    ]
    graph = helper.make_graph(
        nodes, "grad",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "T", D])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", C])],
        [numpy_helper.from_array(v, k) for k, v in weights.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def signature(artifact):
    proc = run_tool([tool("vitc-run"), str(artifact), "--info"])
    check_ok(proc, "vitc-run --info")
    roles, current = {}, None
    for line in proc.stdout.splitlines():
        if line.startswith("function "):
            current = line.split()[1]
        elif current == "train_step" and line.strip().startswith("input "):
            name, rest = line.strip()[len("input "):].split(": ", 1)
            roles[name] = rest.rsplit("role=", 1)[1].split()[0]
    assert roles, proc.stdout
    return roles


def test_einsum_gradients_match_autograd(tmp_path):
    weights = grad_weights()
    onnx_path = tmp_path / "grad.onnx"
    onnx_path.write_bytes(grad_model(weights).SerializeToString())
    artifact = tmp_path / "grad.vtc"
    check_ok(run_tool([tool("vitc"), str(onnx_path), "--mode", "train", "-o", str(artifact),
                       "--optimizer", "sgd", "--weight-decay", "0"]), "vitc --mode train")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 7, D)).astype(np.float32)
    y = rng.integers(0, C, 3).astype(np.int64)
    roles = signature(artifact)
    assert sorted(n for n, r in roles.items() if r == "param") == sorted(weights)
    by_role = {"data": x, "label": y, "lr": np.float32(1).reshape(()),
               "step": np.float32(1).reshape(())}
    values = {name: weights[name] if role == "param" else by_role[role]
              for name, role in roles.items()}
    out = run_function(artifact, "train_step", values, tmp_path / "step")

    params = {k: torch.tensor(v, requires_grad=True) for k, v in weights.items()}
    e = GRAD_EQUATIONS
    h = torch.einsum(e[0], torch.from_numpy(x), params["W"])
    c = torch.einsum(e[2], torch.einsum(e[1], h, h), h)
    logits = torch.einsum(e[4], torch.einsum(e[3], c, params["V"]), params["Dg"])
    loss = F.cross_entropy(logits, torch.from_numpy(y))
    loss.backward()
    np.testing.assert_allclose(out["loss"], loss.item(), rtol=1e-5)
    for name, p in params.items():
        grad = p.grad.numpy()
        # SGD with lr 1 and no weight decay: the step is the gradient.
        step = weights[name] - out[name]
        scale = float(np.abs(grad).max())
        assert scale > 1e-4, f"gradient of {name} is ~0: the check would be vacuous"
        err = float(np.abs(step - grad).max())
        assert err <= 2e-4 * scale + 1e-6, f"gradient of {name}: max error {err:.3g} vs scale {scale:.3g}"
