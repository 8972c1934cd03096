#!/usr/bin/env python3
"""Runs the ONNX backend node tests through vitc for every test whose graph
uses only ops vitc supports, and checks vitc-run's outputs against the
expected outputs stored with each test.

  tests/onnx_node/run_node_tests.py [--filter REGEX] [--jobs N] [--keep DIR]

The pip onnx package ships the node tests as Python (onnx/backend/test/case/
node/*.py) and, in recent releases, not the generated data; when its
data/node directory is missing, the tests are generated once from that code
into tests/onnx_node/data/ (git-ignored), in the standard layout:
<test>/model.onnx, <test>/test_data_set_0/{input,output}_<i>.pb.

Comparison follows the ONNX backend defaults: floats rtol=1e-3, atol=1e-7
(NaNs must match), integers and bools exactly; shapes and dtypes must match.
Tool binaries come from $VITC_BUILD/bin (default build/bin).
"""
import argparse
import collections
import concurrent.futures
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

HERE = pathlib.Path(__file__).resolve().parent

SUPPORTED_OPS = frozenset("""
Conv MaxPool AveragePool GlobalAveragePool BatchNormalization Gemm MatMul Add Sub Mul Div Pow Sqrt
Erf Exp Log Neg Reciprocal Tanh Sigmoid Relu LeakyRelu Clip HardSigmoid HardSwish Gelu Softmax
LogSoftmax LayerNormalization ReduceMean ReduceSum ReduceMax Reshape Flatten Transpose Concat Split
Slice Gather Squeeze Unsqueeze Expand Shape Constant ConstantOfShape Cast Identity Dropout Where
Equal Range Pad Tile Min Max Sum Mean Sin Cos Bernoulli RandomUniformLike RandomNormalLike
RandomUniform RandomNormal PRelu InstanceNormalization Einsum
GatherND GatherElements ScatterND ScatterElements ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp
ReduceSumSquare
""".split())

# Tests that use only supported ops but are known not to pass, with the reason.
# Keep it current: the run fails if one of these starts passing. Filled from
# real runs of vitc with --suggest-expected: only deliberate limits belong
# here (dtypes, training-mode ops, shapes given at run time),
# never bugs.
_BFLOAT16_DTYPE_NO_NPY_FORM = "bfloat16 dtype (no .npy form)"
_FLOAT8_FLOAT4_INT4_INT2_DTYPE = "float8/float4/int4/int2 dtype"
_SEQUENCE_OPTIONAL_TYPE = "sequence/optional type"
_SHAPE_DEFINING_INPUT_GIVEN_AT_RUN_TIME = "shape-defining input given at run time"
_STRING_DTYPE = "string dtype"
_TRAINING_MODE_BATCHNORMALIZATION = "training-mode BatchNormalization"
_TRAINING_MODE_DROPOUT = "training-mode Dropout with ratio > 0: the reference mask comes from numpy's RNG, vitc's from its own counter-based stream"
_UNSIGNED_OR_16_BIT_INTEGER_DTYPE = "unsigned or 16-bit integer dtype"
_RANDOM_SAMPLES = "random samples: the reference comes from numpy's RNG, vitc's from its own counter-based stream (distributions checked in tests/e2e/test_random_ops.py)"
EXPECTED_FAILURES = {
    # Random samples: 3
    "test_bernoulli": _RANDOM_SAMPLES,
    "test_bernoulli_double": _RANDOM_SAMPLES,
    "test_bernoulli_seed": _RANDOM_SAMPLES,
    # bfloat16 dtype (no .npy form): 8
    "test_cast_BFLOAT16_to_FLOAT": _BFLOAT16_DTYPE_NO_NPY_FORM,
    "test_cast_FLOAT_to_BFLOAT16": _BFLOAT16_DTYPE_NO_NPY_FORM,
    "test_castlike_BFLOAT16_to_FLOAT_expanded": _BFLOAT16_DTYPE_NO_NPY_FORM,
    "test_castlike_FLOAT_to_BFLOAT16_expanded": _BFLOAT16_DTYPE_NO_NPY_FORM,
    "test_einsum_batch_matmul_bfloat16": _BFLOAT16_DTYPE_NO_NPY_FORM,
    "test_einsum_sum_bfloat16": _BFLOAT16_DTYPE_NO_NPY_FORM,
    "test_einsum_transpose_bfloat16": _BFLOAT16_DTYPE_NO_NPY_FORM,
    "test_range_bfloat16_type_positive_delta": _BFLOAT16_DTYPE_NO_NPY_FORM,
    # float8/float4/int4/int2 dtype: 100
    "test_cast_FLOAT16_to_FLOAT4E2M1": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT16_to_FLOAT8E4M3FN": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT16_to_FLOAT8E4M3FNUZ": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT16_to_FLOAT8E5M2": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT16_to_FLOAT8E5M2FNUZ": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT16_to_INT2": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT16_to_INT4": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT16_to_UINT2": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT16_to_UINT4": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT4E2M1_to_FLOAT": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT4E2M1_to_FLOAT16": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT8E4M3FNUZ_to_FLOAT": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT8E4M3FNUZ_to_FLOAT16": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT8E4M3FN_to_FLOAT": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT8E4M3FN_to_FLOAT16": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT8E5M2FNUZ_to_FLOAT": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT8E5M2FNUZ_to_FLOAT16": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT8E5M2_to_FLOAT": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT8E5M2_to_FLOAT16": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT_to_FLOAT4E2M1": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT_to_FLOAT8E4M3FN": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT_to_FLOAT8E4M3FNUZ": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT_to_FLOAT8E5M2": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT_to_FLOAT8E5M2FNUZ": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT_to_INT2": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT_to_INT4": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT_to_UINT2": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_FLOAT_to_UINT4": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_INT2_to_FLOAT": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_INT2_to_FLOAT16": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_INT2_to_INT8": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_INT4_to_FLOAT": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_INT4_to_FLOAT16": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_INT4_to_INT8": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_UINT2_to_FLOAT": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_UINT2_to_FLOAT16": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_UINT2_to_UINT8": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_UINT4_to_FLOAT": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_UINT4_to_FLOAT16": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_UINT4_to_UINT8": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_e8m0_FLOAT16_to_FLOAT8E8M0": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_e8m0_FLOAT8E8M0_to_FLOAT": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_e8m0_FLOAT8E8M0_to_FLOAT16": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_e8m0_FLOAT_to_FLOAT8E8M0": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_no_saturate_FLOAT16_to_FLOAT8E4M3FN": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_no_saturate_FLOAT16_to_FLOAT8E4M3FNUZ": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_no_saturate_FLOAT16_to_FLOAT8E5M2": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_no_saturate_FLOAT16_to_FLOAT8E5M2FNUZ": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_no_saturate_FLOAT_to_FLOAT8E4M3FN": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_no_saturate_FLOAT_to_FLOAT8E4M3FNUZ": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_no_saturate_FLOAT_to_FLOAT8E5M2": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_cast_no_saturate_FLOAT_to_FLOAT8E5M2FNUZ": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT16_to_FLOAT4E2M1_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT16_to_FLOAT8E4M3FNUZ_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT16_to_FLOAT8E4M3FN_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT16_to_FLOAT8E5M2FNUZ_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT16_to_FLOAT8E5M2_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT16_to_INT2_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT16_to_INT4_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT16_to_UINT2_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT16_to_UINT4_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT4E2M1_to_FLOAT16_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT4E2M1_to_FLOAT_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT8E4M3FNUZ_to_FLOAT16_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT8E4M3FNUZ_to_FLOAT_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT8E4M3FN_to_FLOAT16_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT8E4M3FN_to_FLOAT_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT8E5M2FNUZ_to_FLOAT16_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT8E5M2FNUZ_to_FLOAT_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT8E5M2_to_FLOAT16_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT8E5M2_to_FLOAT_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT_to_FLOAT4E2M1_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT_to_FLOAT8E4M3FNUZ_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT_to_FLOAT8E4M3FN_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT_to_FLOAT8E5M2FNUZ_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT_to_FLOAT8E5M2_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT_to_INT2_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT_to_INT4_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT_to_UINT2_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_FLOAT_to_UINT4_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_INT2_to_FLOAT16_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_INT2_to_FLOAT_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_INT2_to_INT8_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_INT4_to_FLOAT16_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_INT4_to_FLOAT_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_INT4_to_INT8_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_UINT2_to_FLOAT16_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_UINT2_to_FLOAT_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_UINT2_to_UINT8_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_UINT4_to_FLOAT16_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_UINT4_to_FLOAT_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_UINT4_to_UINT8_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_no_saturate_FLOAT16_to_FLOAT8E4M3FNUZ_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_no_saturate_FLOAT16_to_FLOAT8E4M3FN_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_no_saturate_FLOAT16_to_FLOAT8E5M2FNUZ_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_no_saturate_FLOAT16_to_FLOAT8E5M2_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_no_saturate_FLOAT_to_FLOAT8E4M3FNUZ_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_no_saturate_FLOAT_to_FLOAT8E4M3FN_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_no_saturate_FLOAT_to_FLOAT8E5M2FNUZ_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    "test_castlike_no_saturate_FLOAT_to_FLOAT8E5M2_expanded": _FLOAT8_FLOAT4_INT4_INT2_DTYPE,
    # sequence/optional type: 2
    "test_identity_opt": _SEQUENCE_OPTIONAL_TYPE,
    "test_identity_sequence": _SEQUENCE_OPTIONAL_TYPE,
    # string dtype: 2
    "test_equal_string": _STRING_DTYPE,
    "test_equal_string_broadcast": _STRING_DTYPE,
    # training-mode BatchNormalization: 2
    "test_batchnorm_epsilon_training_mode": _TRAINING_MODE_BATCHNORMALIZATION,
    "test_batchnorm_example_training_mode": _TRAINING_MODE_BATCHNORMALIZATION,
    # training-mode Dropout: 6
    "test_training_dropout": _TRAINING_MODE_DROPOUT,
    "test_training_dropout_default": _TRAINING_MODE_DROPOUT,
    "test_training_dropout_default_mask": _TRAINING_MODE_DROPOUT,
    "test_training_dropout_mask": _TRAINING_MODE_DROPOUT,
    # unsigned or 16-bit integer dtype: 38
    "test_add_int16": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_add_uint16": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_add_uint32": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_add_uint64": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_add_uint8": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_div_int16": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_div_uint16": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_div_uint32": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_div_uint64": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_div_uint8": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_equal_int16": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_equal_uint16": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_equal_uint32": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_equal_uint64": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_equal_uint8": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_max_int16": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_max_uint16": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_max_uint32": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_max_uint64": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_max_uint8": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_maxpool_2d_uint8": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_min_int16": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_min_uint16": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_min_uint32": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_min_uint64": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_min_uint8": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_mul_int16": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_mul_uint16": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_mul_uint32": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_mul_uint64": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_mul_uint8": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_pow_types_float32_uint32": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_pow_types_float32_uint64": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_sub_int16": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_sub_uint16": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_sub_uint32": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_sub_uint64": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
    "test_sub_uint8": _UNSIGNED_OR_16_BIT_INTEGER_DTYPE,
}

# Error messages that mark a deliberate limit of vitc rather than a bug, with
# the reason to record; only used by --suggest-expected to draft entries for
# EXPECTED_FAILURES from a real run (review them before pasting).
LIMITS = [
    (r"unsupported element type STRING|tensor\(string\)", "string dtype"),
    (r"(FLOAT8|FLOAT4|INT4|INT2|UINT4|UINT2).*graph input .* unsupported element type",
     "float8/float4/int4/int2 dtype"),
    (r"(FLOAT8|FLOAT4|INT4|INT2|UINT4|UINT2).*Cast: unsupported target type", "float8/float4/int4/int2 dtype"),
    (r"BFLOAT16|bfloat16", "bfloat16 dtype (no .npy form)"),
    (r"Pad: mode '\w+' is not supported", "Pad mode"),
    (r"only 1-D, 2-D and 3-D convolutions", "convolution rank"),
    (r"unsupported element type '(ui\d+|i16)'|but got '.*ui8", "unsigned or 16-bit integer dtype"),
    (r"Dropout: input 'training_mode'", "training-mode Dropout"),
    (r"BatchNormalization: training_mode", "training-mode BatchNormalization"),
    (r"only 1-D, 2-D and 3-D windows", "window rank"),
    (r"3-D windows need a static depth", "3-D window with a dynamic depth"),
    (r"average pooling with dilations needs static", "dilated average pooling on dynamic dims"),
    (r"the indices output (needs|supports)", "MaxPool indices output"),
    (r"must be a constant (integer tensor|scalar)|allowzero = 1 needs a shape known at compile",
     "shape-defining input given at run time"),
    (r"is not a tensor", "sequence/optional type"),
    (r"indices computed at run time are not supported", "scatter indices given at run time"),
]

COMPILE_TIMEOUT_S = 300
RUN_TIMEOUT_S = 120


def default_data_dir():
    shipped = pathlib.Path(onnx.__file__).parent / "backend/test/data/node"
    if shipped.is_dir() and any(shipped.glob("test_*/model.onnx")):
        return shipped
    return HERE / "data" / f"onnx-{onnx.__version__}"


def generate_data(out):
    """Writes the node test cases defined in the installed onnx package's
    Python code, like onnx's own `backend-test-tools generate-data` did."""
    import warnings
    from onnx.backend.test.case import node as node_cases
    print(f"generating ONNX node test data into {out} (once) ...", flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the cases divide by zero on purpose
        cases = node_cases.collect_testcases()
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for case in cases:
        for i, (inputs, outputs) in enumerate(case.data_sets):
            d = tmp / case.name / f"test_data_set_{i}"
            d.mkdir(parents=True)
            for kind, values, infos in (("input", inputs, case.model.graph.input),
                                        ("output", outputs, case.model.graph.output)):
                for j, (value, info) in enumerate(zip(values, infos)):
                    (d / f"{kind}_{j}.pb").write_bytes(to_proto(value, info).SerializeToString())
        (tmp / case.name / "model.onnx").write_bytes(case.model.SerializeToString())
    tmp.rename(out)  # complete data or none: an interrupted run regenerates


def to_proto(value, info):
    if isinstance(value, onnx.TensorProto):
        return value
    t = info.type
    if t.HasField("sequence_type"):
        return numpy_helper.from_list(value, info.name)
    if t.HasField("optional_type"):
        return numpy_helper.from_optional(value, info.name)
    if t.HasField("map_type"):
        return numpy_helper.from_dict(value, info.name)
    return numpy_helper.from_array(value, info.name)


def op_types(graph):
    """(domain, op_type) of every node, subgraphs included."""
    for node in graph.node:
        yield node.domain, node.op_type
        for attr in node.attribute:
            for g in [attr.g] if attr.HasField("g") else list(attr.graphs):
                yield from op_types(g)


def unsupported_ops(model):
    return sorted({op if dom in ("", "ai.onnx") else f"{dom}::{op}"
                   for dom, op in op_types(model.graph)
                   if dom not in ("", "ai.onnx") or op not in SUPPORTED_OPS})


def first_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    # Prefer the tool's own one-line diagnostic over any preceding noise.
    for l in lines:
        if re.match(r"vitc(-run)?: error:", l):
            return l.strip()
    return lines[0].strip() if lines else "(no output)"


def compare(name, got, want):
    """Returns an error string, or None when got matches want."""
    if got.dtype != want.dtype:
        return f"output {name}: dtype {got.dtype}, expected {want.dtype}"
    if got.shape != want.shape:
        return f"output {name}: shape {got.shape}, expected {want.shape}"
    if np.issubdtype(want.dtype, np.floating) or np.issubdtype(want.dtype, np.complexfloating):
        try:
            np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-7, equal_nan=True)
        except AssertionError:
            bad = ~np.isclose(got, want, rtol=1e-3, atol=1e-7, equal_nan=True)
            i = np.unravel_index(np.argmax(bad), want.shape) if want.ndim else ()
            return (f"output {name}: {int(bad.sum())}/{want.size} elements differ, "
                    f"e.g. at {tuple(int(k) for k in i)}: got {got[i]!r}, expected {want[i]!r}")
    elif not np.array_equal(got, want):
        bad = got != want
        i = np.unravel_index(np.argmax(bad), want.shape) if want.ndim else ()
        return (f"output {name}: {int(bad.sum())}/{want.size} elements differ, "
                f"e.g. at {tuple(int(k) for k in i)}: got {got[i]!r}, expected {want[i]!r}")
    return None


INTEGER_TYPES = {onnx.TensorProto.INT64, onnx.TensorProto.INT32}


def needs_constant(stderr):
    """vitc's errors for an input it must know at compile time."""
    return "must be a constant" in stderr or "known at compile time" in stderr


def run_one(test_dir, bindir, keep):
    """Compiles and runs one test; returns (name, error or None)."""
    name = test_dir.name
    work = pathlib.Path(keep) / name if keep else pathlib.Path(tempfile.mkdtemp(prefix="vitc-node-"))
    try:
        if keep:
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
        model = onnx.load(str(test_dir / "model.onnx"))
        initializers = {t.name for t in model.graph.initializer}
        inputs = [i for i in model.graph.input if i.name not in initializers]
        artifact = work / "t.vtc"
        compile_cmd = [str(bindir / "vitc"), str(test_dir / "model.onnx"), "-o", str(artifact)]
        try:
            p = subprocess.run(compile_cmd, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
            baked = set()
            datasets = sorted(test_dir.glob("test_data_set_*"))
            if p.returncode != 0 and needs_constant(p.stderr) and len(datasets) == 1:
                # Axes, pads, starts, shapes given as graph inputs: a compiled
                # artifact needs them at compile time, as a deployment would
                # pass them (--const-input). Integer inputs are baked in.
                for j, info in enumerate(inputs):
                    if info.type.tensor_type.elem_type in INTEGER_TYPES:
                        compile_cmd += ["--const-input", f"{info.name}={datasets[0] / f'input_{j}.pb'}"]
                        baked.add(info.name)
                p = subprocess.run(compile_cmd, capture_output=True, text=True,
                                   timeout=COMPILE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return name, f"vitc: timed out after {COMPILE_TIMEOUT_S}s"
        if p.returncode != 0:
            return name, f"vitc exit {p.returncode}: {first_line(p.stderr + p.stdout)}"
        for ds in sorted(test_dir.glob("test_data_set_*")):
            cmd = [str(bindir / "vitc-run"), str(artifact), "--output-dir", str(work / ds.name)]
            for j, info in enumerate(inputs):
                if info.name in baked:
                    continue
                t = onnx.TensorProto()
                t.ParseFromString((ds / f"input_{j}.pb").read_bytes())
                path = work / f"{ds.name}_input_{j}.npy"
                np.save(path, numpy_helper.to_array(t))
                cmd += ["--input", f"{info.name}={path}"]
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                return name, f"vitc-run: timed out after {RUN_TIMEOUT_S}s"
            if p.returncode != 0:
                return name, f"vitc-run exit {p.returncode}: {first_line(p.stderr + p.stdout)}"
            for j, info in enumerate(model.graph.output):
                t = onnx.TensorProto()
                t.ParseFromString((ds / f"output_{j}.pb").read_bytes())
                want = numpy_helper.to_array(t)
                out = work / ds.name / f"{info.name}.npy"
                if not out.exists():
                    return name, f"vitc-run wrote no {out.name}"
                if err := compare(info.name, np.load(out), want):
                    return name, f"{ds.name}: {err}"
        return name, None
    except Exception as e:  # a harness problem is a failure of that test, not of the run
        return name, f"harness: {type(e).__name__}: {e}"
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--filter", default="", help="only tests whose name matches this regex (re.search)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", help="keep each test's artifact, inputs and outputs under DIR/<test>")
    ap.add_argument("--data", help="node test data dir (default: the onnx package's, or generated)")
    ap.add_argument("--build", default=os.environ.get("VITC_BUILD", "build"))
    ap.add_argument("--summary-by-op", action="store_true",
                    help="also print failure counts per op type and the skip reasons")
    ap.add_argument("--suggest-expected", action="store_true",
                    help="print EXPECTED_FAILURES entries for failures that match a known limit")
    ap.add_argument("-v", "--verbose", action="store_true", help="print passing tests too")
    args = ap.parse_args()

    data = pathlib.Path(args.data) if args.data else default_data_dir()
    if not data.is_dir():
        if args.data:
            sys.exit(f"run_node_tests: no such data dir {data}")
        generate_data(data)
    bindir = pathlib.Path(args.build) / "bin"
    for tool in ("vitc", "vitc-run"):
        if not os.access(bindir / tool, os.X_OK):
            sys.exit(f"run_node_tests: {bindir / tool} not found; build vitc or set VITC_BUILD")

    pattern = re.compile(args.filter)
    selected, skipped, ops_of = [], collections.Counter(), {}
    for test_dir in sorted(data.glob("test_*")):
        if not pattern.search(test_dir.name) or not (test_dir / "model.onnx").exists():
            continue
        model = onnx.load(str(test_dir / "model.onnx"), load_external_data=False)
        if missing := unsupported_ops(model):
            skipped.update(missing)
            continue
        selected.append(test_dir)
        ops_of[test_dir.name] = sorted({op for _, op in op_types(model.graph)})
    n_skipped = sum(1 for d in data.glob("test_*") if pattern.search(d.name)) - len(selected)

    passed, failed, xfailed, xpassed, errors = [], [], [], [], {}
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_one, d, bindir, args.keep) for d in selected]
        for fut in concurrent.futures.as_completed(futures):
            name, err = fut.result()
            if err is None:
                (xpassed if name in EXPECTED_FAILURES else passed).append(name)
                if args.verbose:
                    print(f"PASS {name}")
            elif name in EXPECTED_FAILURES and not re.search(r"exit -\d|timed out", err):
                xfailed.append(name)  # an expected failure must still fail cleanly, not crash
            else:
                failed.append(name)
                errors[name] = f"{name}: {err}"
                print(f"FAIL {name}: {err}", flush=True)
    for name in sorted(xpassed):
        print(f"UNEXPECTED PASS {name} (listed in EXPECTED_FAILURES: {EXPECTED_FAILURES[name]}): "
              f"remove it from the list")

    if args.suggest_expected:
        print("suggested EXPECTED_FAILURES entries:")
        for name in sorted(failed):
            reason = next((r for rx, r in LIMITS if re.search(rx, errors[name])), None)
            if reason:
                print(f"    {name!r}: {reason!r},")
    if args.summary_by_op:
        by_op = collections.Counter(op for n in failed for op in ops_of[n])
        tried = collections.Counter(op for n in ops_of for op in ops_of[n])
        print("failing tests per op (failed/tried):",
              ", ".join(f"{op} {by_op[op]}/{tried[op]}" for op in sorted(tried) if by_op[op]) or "none")
        print("skips by unsupported op:", ", ".join(f"{op} {c}" for op, c in skipped.most_common()))
    print(f"node tests: {len(passed)} passed, {len(failed) + len(xpassed)} failed, "
          f"{len(xfailed)} expected-failures, {n_skipped} skipped (unsupported op)")
    sys.exit(1 if failed or xpassed else 0)


if __name__ == "__main__":
    main()
