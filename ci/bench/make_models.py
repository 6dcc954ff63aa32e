#!/usr/bin/env python3
"""Writes the benchmark models: the four MLPerf Tiny float32 architectures.

    python3 ci/bench/make_models.py OUT_DIR [--refs REF_DIR]

Each model is built with onnx.helper (opset 13) from its published MLPerf Tiny
description (github.com/mlcommons/tiny, benchmark/training/*/keras_model.py
and vww_model.py), with seeded random weights, so the same command always
writes byte-identical files:

  ds-cnn.onnx            keyword spotting (KWS), input 1x1x49x10, 2,656,768 MACs
  resnet-8.onnx          image classification (IC), input 1x3x32x32, 12,501,632 MACs
  mobilenet-v1-vww.onnx  visual wake words (VWW), MobileNetV1 alpha 0.25,
                         input 1x3x96x96, 7,489,664 MACs
  fc-autoencoder.onnx    anomaly detection (AD), input 1x640, 264,192 MACs

BatchNormalization nodes stay in the graph as a trainer exports them; the
"same" padding of a Keras strided convolution is written as the explicit,
asymmetric pads a converter writes (the extra row and column at the end).

With --int8, also writes each model quantized to int8 by onnxruntime's
quantize_static (after its quant_pre_process, which folds BatchNormalization;
per-channel int8 weights, int8 activations, calibration on 8 seeded uniform
[0,1) inputs) in both formats:

  <model>-int8-qdq.onnx  QuantizeLinear/DequantizeLinear around float ops
  <model>-int8-qop.onnx  QOperator: QLinearConv, com.microsoft QLinearAdd, QGemm…

With --refs, also writes REF_DIR/<model>/{input.bin,output.bin,meta.json}:
a uniform [0,1) input from a fixed seed and the outputs computed with
onnxruntime (graph optimizations disabled), as tests/data/ref/ holds them;
for the QDQ twins, the graph evaluated in float64 by onnx.reference (the
real-number arithmetic a QDQ graph stands for; see write_refs).
The models are not committed (about 2.4 MB together); the reference data is.
"""

import argparse
import hashlib
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
SEED = 20261201


class Graph:
    """A small builder: nodes, initializers and unique names."""

    def __init__(self, name, seed):
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.inits = []
        self.count = {}

    def fresh(self, base):
        n = self.count.get(base, 0)
        self.count[base] = n + 1
        return f"{base}_{n}"

    def const(self, base, array):
        name = self.fresh(base)
        self.inits.append(numpy_helper.from_array(array.astype(np.float32), name))
        return name

    def node(self, op, inputs, base, **attrs):
        out = self.fresh(base)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def he(self, shape, fan_in):
        return self.rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)

    def conv(self, x, cin, cout, k, stride=1, group=1, pads=None, base="conv"):
        """Conv with bias. k is (kh, kw); pads default to Keras 'same' at stride 1."""
        kh, kw = k
        if pads is None:
            pads = [(kh - 1) // 2, (kw - 1) // 2, kh // 2, kw // 2]
        fan_in = (cin // group) * kh * kw
        w = self.const(base + "_w", self.he((cout, cin // group, kh, kw), fan_in))
        b = self.const(base + "_b", self.rng.normal(0.0, 0.05, size=(cout,)))
        return self.node(
            "Conv",
            [x, w, b],
            base,
            kernel_shape=[kh, kw],
            strides=[stride, stride],
            pads=pads,
            group=group,
        )

    def bn(self, x, c, base="bn"):
        gamma = self.const(base + "_scale", self.rng.uniform(0.5, 1.5, size=(c,)))
        beta = self.const(base + "_bias", self.rng.normal(0.0, 0.1, size=(c,)))
        mean = self.const(base + "_mean", self.rng.normal(0.0, 0.1, size=(c,)))
        var = self.const(base + "_var", self.rng.uniform(0.5, 1.5, size=(c,)))
        return self.node(
            "BatchNormalization", [x, gamma, beta, mean, var], base, epsilon=1e-3
        )

    def relu(self, x):
        return self.node("Relu", [x], "relu")

    def dense(self, x, cin, cout, base="dense"):
        """Gemm as PyTorch exports a Linear layer: weight [out, in], transB=1."""
        w = self.const(base + "_w", self.he((cout, cin), cin))
        b = self.const(base + "_b", self.rng.normal(0.0, 0.05, size=(cout,)))
        return self.node("Gemm", [x, w, b], base, transB=1)

    def model(self, input_name, input_shape, output, output_shape, doc):
        graph = helper.make_graph(
            self.nodes,
            self.name,
            [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, input_shape)],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, output_shape)],
            self.inits,
        )
        m = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="zant ci/bench/make_models.py",
            producer_version="1",
            doc_string=doc,
        )
        m.ir_version = 8
        onnx.checker.check_model(m, full_check=True)
        return m


def same_pads(size, k, stride):
    """Keras/TensorFlow 'same' padding (begin, end) along one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2, out


def ds_cnn():
    """MLPerf Tiny KWS: DS-CNN small (ARM ML-KWS), 64 channels."""
    g = Graph("ds_cnn_kws", SEED + 1)
    x = "input"
    ph = same_pads(49, 10, 2)
    pw = same_pads(10, 4, 2)
    x = g.conv(x, 1, 64, (10, 4), stride=2, pads=[ph[0], pw[0], ph[1], pw[1]])
    x = g.relu(g.bn(x, 64))
    for _ in range(4):
        x = g.conv(x, 64, 64, (3, 3), group=64, base="dwconv")
        x = g.relu(g.bn(x, 64))
        x = g.conv(x, 64, 64, (1, 1), base="pwconv")
        x = g.relu(g.bn(x, 64))
    x = g.node("AveragePool", [x], "avgpool", kernel_shape=[ph[2], pw[2]])
    x = g.node("Flatten", [x], "flatten", axis=1)
    x = g.dense(x, 64, 12, base="fc")
    y = g.node("Softmax", [x], "softmax", axis=1)
    return g.model(
        "input", [1, 1, 49, 10], y, [1, 12],
        "MLPerf Tiny keyword spotting DS-CNN (49x10 MFCC input, 12 classes), random weights",
    )


def resnet8():
    """MLPerf Tiny IC: ResNet-8 for CIFAR-10 (three stacks of 16, 32, 64)."""
    g = Graph("resnet8_ic", SEED + 2)
    x = g.conv("input", 3, 16, (3, 3))
    x = g.relu(g.bn(x, 16))
    size, cin = 32, 16
    for cout, stride in [(16, 1), (32, 2), (64, 2)]:
        if stride == 1:
            pads = None
        else:
            b, e, _ = same_pads(size, 3, stride)
            pads = [b, b, e, e]
        y = g.conv(x, cin, cout, (3, 3), stride=stride, pads=pads)
        y = g.relu(g.bn(y, cout))
        y = g.conv(y, cout, cout, (3, 3))
        y = g.bn(y, cout)
        if stride == 1:
            skip = x
        else:
            skip = g.conv(x, cin, cout, (1, 1), stride=stride, pads=[0, 0, 0, 0], base="proj")
        x = g.relu(g.node("Add", [skip, y], "add"))
        size, cin = -(-size // stride), cout
    x = g.node("GlobalAveragePool", [x], "avgpool")
    x = g.node("Flatten", [x], "flatten", axis=1)
    x = g.dense(x, 64, 10, base="fc")
    y = g.node("Softmax", [x], "softmax", axis=1)
    return g.model(
        "input", [1, 3, 32, 32], y, [1, 10],
        "MLPerf Tiny image classification ResNet-8 (CIFAR-10 32x32x3, 10 classes), random weights",
    )


def mobilenet_v1_vww():
    """MLPerf Tiny VWW: MobileNetV1 with width multiplier 0.25, 2 classes."""
    g = Graph("mobilenet_v1_025_vww", SEED + 3)
    size = 96
    b, e, size = same_pads(size, 3, 2)
    x = g.conv("input", 3, 8, (3, 3), stride=2, pads=[b, b, e, e])
    x = g.relu(g.bn(x, 8))
    cin = 8
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)]
    blocks += [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for filters, stride in blocks:
        cout = filters // 4
        if stride == 1:
            pads = None
        else:
            b, e, _ = same_pads(size, 3, stride)
            pads = [b, b, e, e]
        x = g.conv(x, cin, cin, (3, 3), stride=stride, group=cin, pads=pads, base="dwconv")
        x = g.relu(g.bn(x, cin))
        x = g.conv(x, cin, cout, (1, 1), base="pwconv")
        x = g.relu(g.bn(x, cout))
        size, cin = -(-size // stride), cout
    x = g.node("AveragePool", [x], "avgpool", kernel_shape=[size, size])
    x = g.node("Flatten", [x], "flatten", axis=1)
    x = g.dense(x, cin, 2, base="fc")
    y = g.node("Softmax", [x], "softmax", axis=1)
    return g.model(
        "input", [1, 3, 96, 96], y, [1, 2],
        "MLPerf Tiny visual wake words MobileNetV1 alpha 0.25 (96x96x3, 2 classes), random weights",
    )


def fc_autoencoder():
    """MLPerf Tiny AD: the dense autoencoder of the ToyADMOS task."""
    g = Graph("fc_autoencoder_ad", SEED + 4)
    x, cin = "input", 640
    for cout in [128, 128, 128, 128, 8, 128, 128, 128, 128]:
        x = g.relu(g.bn(g.dense(x, cin, cout), cout))
        cin = cout
    y = g.dense(x, cin, 640, base="dense_out")
    return g.model(
        "input", [1, 640], y, [1, 640],
        "MLPerf Tiny anomaly detection FC autoencoder (640 inputs, bottleneck 8), random weights",
    )


MODELS = {
    "ds-cnn": ds_cnn,
    "resnet-8": resnet8,
    "mobilenet-v1-vww": mobilenet_v1_vww,
    "fc-autoencoder": fc_autoencoder,
}


def eval_f64(model, input_name, x):
    """`model` (a QDQ graph) evaluated in float64 by onnx.reference: its float
    initializers (scales, biases) and the input widened to float64, the
    default domain at opset 19 at least (the reference's QuantizeLinear and
    DequantizeLinear)."""
    from onnx.reference import ReferenceEvaluator

    m = onnx.ModelProto.FromString(model.SerializeToString())
    for i, t in enumerate(m.graph.initializer):
        if t.data_type == TensorProto.FLOAT:
            a = numpy_helper.to_array(t).astype(np.float64)
            m.graph.initializer[i].CopyFrom(numpy_helper.from_array(a, t.name))
    for o in m.opset_import:
        if o.domain in ("", "ai.onnx"):
            o.version = max(o.version, 19)
    (y,) = ReferenceEvaluator(m).run(None, {input_name: x.astype(np.float64)})
    return np.asarray(y, dtype=np.float64)


def write_refs(name, model, path, ref_dir):
    import onnxruntime as ort

    inp = model.graph.input[0]
    out = model.graph.output[0]
    shape = [d.dim_value for d in inp.type.tensor_type.shape.dim]
    digest = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
    x = np.random.default_rng(SEED + digest).random(shape, dtype=np.float32)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {inp.name: x})
    reference = f"onnxruntime {ort.__version__}, graph optimizations disabled"
    extra = {}
    if name.endswith("-int8-qdq"):
        # A QDQ graph means real-number arithmetic between its quantizers;
        # onnxruntime evaluates it in f32, whose rounding can put an output
        # that lies within 1e-6 of a half step on the other side, and the
        # network amplifies that one step (MobileNetV1: 3 steps at the
        # output). The reference is the same graph evaluated in f64 by ONNX's
        # own reference implementation; onnxruntime's f32 figure is kept.
        y64 = eval_f64(model, inp.name, x)
        extra = {"onnxruntime_f32_max_abs_diff": float(np.abs(y64 - y).max())}
        reference = ("onnx.reference.ReferenceEvaluator on the graph in float64 "
                     f"(onnx {onnx.__version__}); onnxruntime {ort.__version__}'s float32 "
                     "evaluation differs by onnxruntime_f32_max_abs_diff")
        y = y64.astype(np.float32)
    d = os.path.join(ref_dir, name)
    os.makedirs(d, exist_ok=True)
    x.astype("<f4").tofile(os.path.join(d, "input.bin"))
    y.astype("<f4").tofile(os.path.join(d, "output.bin"))
    meta = {
        "input": {"name": inp.name, "shape": shape, "dtype": "float32"},
        "output": {"name": out.name, "shape": list(y.shape), "dtype": "float32"},
        "reference": reference,
        **extra,
        "input_distribution": "uniform [0,1), numpy default_rng(SEED + sha256(name)[:8]) in ci/bench/make_models.py",
        "model": f"ci/bench/make_models.py {name}.onnx (not committed; sha256 below)",
        "model_sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
    }
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


QUANT_FORMATS = ("qdq", "qop")


def quantize(name, path, out_dir):
    """The int8 twins of one model (see the module doc); returns their paths."""
    import tempfile

    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    model = onnx.load(path)
    inp = model.graph.input[0]
    shape = [d.dim_value for d in inp.type.tensor_type.shape.dim]

    class Calibration(CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(SEED + 1)
            self.it = iter([{inp.name: rng.random(shape, dtype=np.float32)} for _ in range(8)])

        def get_next(self):
            return next(self.it, None)

    paths = []
    with tempfile.TemporaryDirectory() as tmp:
        pre = os.path.join(tmp, name + "-pre.onnx")
        quant_pre_process(path, pre, skip_symbolic_shape=True)
        for fmt in QUANT_FORMATS:
            q = os.path.join(out_dir, f"{name}-int8-{fmt}.onnx")
            quantize_static(pre, q, Calibration(),
                            quant_format=QuantFormat.QDQ if fmt == "qdq" else QuantFormat.QOperator,
                            per_channel=True, activation_type=QuantType.QInt8,
                            weight_type=QuantType.QInt8)
            print(f"{q}: {os.path.getsize(q):,} B", file=sys.stderr)
            paths.append(q)
    return paths


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="directory the .onnx files are written to")
    ap.add_argument("--refs", help="also write onnxruntime reference data here")
    ap.add_argument("--int8", action="store_true", help="also write the int8 twins (needs onnxruntime)")
    ap.add_argument("--only", action="append", choices=sorted(MODELS), help="only this model (repeatable)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in args.only or MODELS:
        model = MODELS[name]()
        path = os.path.join(args.out, name + ".onnx")
        data = model.SerializeToString()
        with open(path, "wb") as f:
            f.write(data)
        print(f"{path}: {len(data):,} B, {len(model.graph.node)} nodes", file=sys.stderr)
        if args.refs:
            write_refs(name, model, path, args.refs)
        if args.int8:
            for q in quantize(name, path, args.out):
                qname = os.path.basename(q)[: -len(".onnx")]
                if args.refs:
                    write_refs(qname, onnx.load(q), q, args.refs)


if __name__ == "__main__":
    main()
