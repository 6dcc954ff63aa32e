#!/usr/bin/env python3
"""Writes small models of the com.microsoft QOperator ops (the ones
onnxruntime's quantizer emits) with onnxruntime's outputs, in the layout of
the ONNX backend node tests: tests/data/qops/<case>/model.onnx and
test_data_set_0/{input,output}_N.pb. codegen/tests/qops_ort.rs compiles each
and checks zant's outputs within one quantization step of onnxruntime's.

Run: python3 ci/gen-qops-cases.py [OUT_DIR]   (needs onnx, numpy, onnxruntime)
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

MS = "com.microsoft"
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "tests", "data", "qops")
RNG = np.random.default_rng(14)
NP = {"u8": np.uint8, "i8": np.int8}
TP = {"u8": TensorProto.UINT8, "i8": TensorProto.INT8}


def rand(t, shape):
    info = np.iinfo(NP[t])
    return RNG.integers(info.min, info.max + 1, size=shape, dtype=np.int64).astype(NP[t])


def qp(name, scale, zp, t):
    """Initializers for a scale and a zero point."""
    return [numpy_helper.from_array(np.array(scale, dtype=np.float32), name + "_scale"),
            numpy_helper.from_array(np.array(zp, dtype=NP[t]), name + "_zp")]


def save(case, nodes, inits, feeds, out_t, out_shape):
    inputs = [helper.make_tensor_value_info(n, TP[t] if isinstance(t, str) else t, v.shape)
              for n, (t, v) in feeds.items()]
    y = helper.make_tensor_value_info("y", TP[out_t], out_shape)
    g = helper.make_graph(nodes, case, inputs, [y], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(MS, 1)],
                          producer_name="zant ci/gen-qops-cases.py")
    m.ir_version = 8
    d = os.path.join(OUT, case)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    onnx.save(m, os.path.join(d, "model.onnx"))
    s = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    (got,) = s.run(None, {n: v for n, (_, v) in feeds.items()})
    for i, (n, (_, v)) in enumerate(feeds.items()):
        with open(os.path.join(d, "test_data_set_0", f"input_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(v, n).SerializeToString())
    with open(os.path.join(d, "test_data_set_0", "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(got, "y").SerializeToString())


def binary(op, t, shape_b=(1, 4, 5, 5)):
    shape = (1, 4, 5, 5)
    a, b = rand(t, shape), rand(t, shape_b)
    z = 0 if t == "i8" else 128
    inits = qp("a", 0.05, z - 3, t) + qp("b", 0.02, z + 5, t) + qp("c", 0.08 if op == "QLinearAdd" else 0.3, z + 1, t)
    n = helper.make_node(op, ["a", "a_scale", "a_zp", "b", "b_scale", "b_zp", "c_scale", "c_zp"], ["y"], domain=MS)
    suffix = "_scalar" if len(shape_b) == 0 else ""
    save(f"{op.lower()}{suffix}_{t}", [n], inits, {"a": (t, a), "b": (t, b)}, t, shape)


def unary(op, t, shape, out_shape=None, attrs=None, case=None):
    x = rand(t, shape)
    z = 0 if t == "i8" else 128
    inits = qp("x", 0.07, z + 2, t) + qp("y", 0.03 if op != "QLinearSigmoid" else 1 / 256, z - 4 if op != "QLinearSigmoid" else (0 if t == "u8" else -128), t)
    n = helper.make_node(op, ["x", "x_scale", "x_zp", "y_scale", "y_zp"], ["y"], domain=MS, **(attrs or {}))
    save(case or f"{op.lower()}_{t}", [n], inits, {"x": (t, x)}, t, out_shape or shape)


def concat(t):
    z = 0 if t == "i8" else 128
    xs = [rand(t, (1, c, 3, 4)) for c in (2, 3, 1)]
    inits = qp("y", 0.05, z, t) + qp("x0", 0.05, z, t) + qp("x1", 0.11, z + 7, t) + qp("x2", 0.02, z - 9, t)
    ins = ["y_scale", "y_zp"]
    for i in range(3):
        ins += [f"x{i}", f"x{i}_scale", f"x{i}_zp"]
    n = helper.make_node("QLinearConcat", ins, ["y"], domain=MS, axis=1)
    save(f"qlinearconcat_{t}", [n], inits, {f"x{i}": (t, x) for i, x in enumerate(xs)}, t, (1, 6, 3, 4))


def qgemm(t, trans_b):
    m, k, nn = 3, 16, 5
    a = rand(t, (m, k))
    b = rand("i8", (nn, k) if trans_b else (k, nn))
    za = 0 if t == "i8" else 128
    a_scale, b_scale = 0.04, np.array([0.01 + 0.002 * j for j in range(nn)], dtype=np.float32)
    inits = qp("a", a_scale, za + 3, t) + [
        numpy_helper.from_array(b, "b"),
        numpy_helper.from_array(b_scale, "b_scale"),
        numpy_helper.from_array(np.zeros(nn, dtype=np.int8), "b_zp"),
        numpy_helper.from_array(RNG.integers(-2000, 2000, size=nn).astype(np.int32), "c"),
    ] + qp("y", 0.5, za - 2, t)
    n = helper.make_node("QGemm", ["a", "a_scale", "a_zp", "b", "b_scale", "b_zp", "c", "y_scale", "y_zp"], ["y"],
                         domain=MS, transB=int(trans_b))
    save(f"qgemm{'_transb' if trans_b else ''}_{t}", [n], inits, {"a": (t, a)}, t, (m, nn))


def small_net():
    """A float model with every pattern the QDQ pass rewrites."""
    rng = np.random.default_rng(7)
    inits, nodes = [], []

    def w(name, shape, scale):
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name))
        return name

    def node(op, ins, out, **attrs):
        nodes.append(helper.make_node(op, ins, [out], **attrs))
        return out

    x = "input"
    h = node("Conv", [x, w("w1", (8, 3, 3, 3), 0.3), w("b1", (8,), 0.1)], "c1", pads=[1, 1, 1, 1])
    h = node("Relu", [h], "r1")
    h = node("MaxPool", [h], "p1", kernel_shape=[2, 2], strides=[2, 2])
    d = node("Conv", [h, w("w2", (8, 1, 3, 3), 0.3), w("b2", (8,), 0.1)], "c2", pads=[1, 1, 1, 1], group=8)
    d = node("Relu", [d], "r2")
    e = node("Conv", [d, w("w3", (8, 8, 1, 1), 0.3), w("b3", (8,), 0.1)], "c3")
    h = node("Add", [h, e], "a1")
    s = node("Sigmoid", [h], "s1")
    h = node("Mul", [h, s], "m1")
    a = node("AveragePool", [h], "ap", kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])
    h = node("Concat", [h, a], "cat", axis=1)
    h = node("GlobalAveragePool", [h], "gap")
    h = node("Flatten", [h], "flat", axis=1)
    h = node("Gemm", [h, w("wf", (10, 16), 0.3), w("bf", (10,), 0.1)], "fc", transB=1)
    h = node("Softmax", [h], "output", axis=-1)
    g = helper.make_graph(nodes, "qops_net", [helper.make_tensor_value_info(x, TensorProto.FLOAT, (1, 3, 12, 12))],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, (1, 10))], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return m


def quantized_nets():
    """small_net quantized by onnxruntime (per-channel weights, calibration on
    seeded random data) in QDQ and QOperator formats."""
    import tempfile
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)

    class Data(CalibrationDataReader):
        def __init__(self):
            r = np.random.default_rng(3)
            self.it = iter([{"input": r.standard_normal((1, 3, 12, 12)).astype(np.float32)} for _ in range(16)])

        def get_next(self):
            return next(self.it, None)

    x = np.random.default_rng(5).standard_normal((1, 3, 12, 12)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        f = os.path.join(tmp, "f.onnx")
        onnx.save(small_net(), f)
        for fmt, act, case in ((QuantFormat.QDQ, QuantType.QInt8, "net_qdq_i8"),
                               (QuantFormat.QOperator, QuantType.QUInt8, "net_qoperator_u8")):
            q = os.path.join(tmp, case + ".onnx")
            quantize_static(f, q, Data(), quant_format=fmt, per_channel=True,
                            activation_type=act, weight_type=QuantType.QInt8)
            m = onnx.load(q)
            # One quantization step of the output: the scale of the last
            # DequantizeLinear (the float output's).
            step = [n for n in m.graph.node if n.op_type == "DequantizeLinear"][-1]
            scale = [float(numpy_helper.to_array(t)) for t in m.graph.initializer if t.name == step.input[1]][0]
            d = os.path.join(OUT, case)
            os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
            onnx.save(m, os.path.join(d, "model.onnx"))
            s = ort.InferenceSession(q, providers=["CPUExecutionProvider"])
            (got,) = s.run(None, {"input": x})
            with open(os.path.join(d, "test_data_set_0", "input_0.pb"), "wb") as fh:
                fh.write(numpy_helper.from_array(x, "input").SerializeToString())
            with open(os.path.join(d, "test_data_set_0", "output_0.pb"), "wb") as fh:
                fh.write(numpy_helper.from_array(got, "output").SerializeToString())
            with open(os.path.join(d, "step.txt"), "w") as fh:
                fh.write(f"{scale!r}\n")


def qdq_conv_near_tie():
    """A QDQ Conv whose outputs include near ties: `x_scale`, `w_scale`
    powers of two (so onnxruntime's float evaluation is exact up to its one
    f32 division by `y_scale`) and a `y_scale` for which the f32 multiplier
    `x_scale * w_scale / y_scale` rounds some output (`acc * multiplier`,
    within a few 1e-6 of a half step) to the other integer than the real
    product does. The case is kept only when onnxruntime's output equals
    the exact (rational) one and the f32 multiplier's differs from it:
    step.txt 0 makes the test demand bit-equality."""
    from fractions import Fraction

    rng = np.random.default_rng(31)
    xs, ws = 2.0 ** -7, 2.0 ** -6
    x = np.arange(-128, 128, dtype=np.int8).reshape(1, 1, 16, 16)
    acc = x.astype(np.int64).ravel()  # x_zero_point 0, w_q 1
    for _ in range(20000):
        ys = np.float32(rng.uniform(1e-4, 1.6e-4))
        m32 = np.float32(np.float32(xs * ws) / ys)
        exact = [Fraction(int(a)) * Fraction(xs) * Fraction(ws) / Fraction(float(ys)) for a in acc]
        want = [round(e) for e in exact]  # Python's round: half to even
        got32 = [round(Fraction(int(a)) * Fraction(float(m32))) for a in acc]
        if want != got32 and all(-128 <= v <= 127 for v in want):
            break
    else:
        raise SystemExit("qdq_conv_near_tie: no scale found")
    inits = [numpy_helper.from_array(np.array(xs, np.float32), "x_scale"),
             numpy_helper.from_array(np.array(0, np.int8), "x_zp"),
             numpy_helper.from_array(np.ones((1, 1, 1, 1), np.int8), "w_q"),
             numpy_helper.from_array(np.array([ws], np.float32), "w_scale"),
             numpy_helper.from_array(np.array([0], np.int8), "w_zp"),
             numpy_helper.from_array(np.array(ys, np.float32), "y_scale"),
             numpy_helper.from_array(np.array(0, np.int8), "y_zp")]
    nodes = [helper.make_node("DequantizeLinear", ["x", "x_scale", "x_zp"], ["xf"]),
             helper.make_node("DequantizeLinear", ["w_q", "w_scale", "w_zp"], ["wf"], axis=0),
             helper.make_node("Conv", ["xf", "wf"], ["yf"], kernel_shape=[1, 1]),
             helper.make_node("QuantizeLinear", ["yf", "y_scale", "y_zp"], ["y"])]
    case = "qdq_conv_near_tie_i8"
    save(case, nodes, inits, {"x": ("i8", x)}, "i8", (1, 1, 16, 16))
    d = os.path.join(OUT, case)
    got = numpy_helper.to_array(onnx.load_tensor(os.path.join(d, "test_data_set_0", "output_0.pb")))
    assert got.ravel().tolist() == want, "onnxruntime is not exact on this case"
    with open(os.path.join(d, "step.txt"), "w") as fh:
        fh.write("0\n")


def main():
    for t in ("u8", "i8"):
        binary("QLinearAdd", t)
        binary("QLinearMul", t)
        unary("QLinearSigmoid", t, (2, 50))
        unary("QLinearLeakyRelu", t, (2, 50), attrs={"alpha": 0.1})
        unary("QLinearGlobalAveragePool", t, (1, 8, 6, 6), (1, 8, 1, 1), {"channels_last": 0})
        unary("QLinearAveragePool", t, (1, 3, 7, 7), (1, 3, 4, 4),
              {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": 0})
        unary("QLinearSoftmax", t, (3, 10), attrs={"axis": -1, "opset": 13})
        concat(t)
        qgemm(t, True)
        qgemm(t, False)
    binary("QLinearMul", "u8", ())
    unary("QLinearGlobalAveragePool", "u8", (1, 6, 6, 8), (1, 1, 1, 8), {"channels_last": 1},
          case="qlinearglobalaveragepool_nhwc_u8")
    unary("QLinearAveragePool", "u8", (1, 3, 7, 7), (1, 3, 4, 4),
          {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": 1},
          case="qlinearaveragepool_include_pad_u8")
    quantized_nets()
    qdq_conv_near_tie()


if __name__ == "__main__":
    main()
