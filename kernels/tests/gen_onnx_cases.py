#!/usr/bin/env python3
"""Writes kernels/tests/data/onnx_node_cases.json from the ONNX backend node
test cases (the `onnx` Python package regenerates them with its reference
implementation). `kernels/tests/onnx_node_cases.rs` reads the file and runs
every case against the reference kernels, so `cargo test` needs neither
Python nor the network.

Usage: python3 kernels/tests/gen_onnx_cases.py > kernels/tests/data/onnx_node_cases.json
(needs `pip install onnx`; `ci/gen-node-tests.sh` installs it.)
`ci/check-kernel-cases.sh` (run by `ci/test.sh`) checks that the committed
file is what this script writes under the onnx version the file records.

One record per case, one line each:

    {"name": "test_conv_...", "kernel": "conv::conv",
     "params": {"batch": 1, "in_channels": 1, ...},
     "inputs": {"x": TENSOR, "w": TENSOR},
     "outputs": {"y": TENSOR plus "rtol"/"atol"}}

`kernel` is the reference kernel entry point (module::function under
`zant_kernels::reference`); `params` holds its parameter struct's fields by
name plus the function's other arguments (enum values by their variant
names). A TENSOR is {"type": "f32", "shape": [...], "data": ...}: floats as
base64 of their little-endian bytes (bit-exact), integers and bools as JSON
arrays. An expected output with "rtol"/"atol" is compared within
|got - want| <= atol + rtol * |want| (NaN equals NaN); one without them
must be equal. Non-finite float parameters are the strings "inf", "-inf",
"nan". `skipped` lists the cases left out and why.

The attribute -> parameter mapping here mirrors what zant's code generator
does (auto_pad, ceil_mode, sizes -> scales, ...). Cases the kernels do not
cover (other dtypes, antialias, Indices outputs, ...) are skipped.
"""

import base64
import json
import math
import sys
import warnings

import numpy as np
import onnx
from onnx import helper, numpy_helper  # noqa: F401
from onnx.backend.test.case import node

warnings.filterwarnings("ignore")

MAX_ELEMS = 12000
out = []
skipped = []


def attrs(n):
    return {a.name: helper.get_attribute_value(a) for a in n.attribute}


RUST_TYPES = {
    np.float32: "f32",
    np.float64: "f64",
    np.int8: "i8",
    np.uint8: "u8",
    np.int16: "i16",
    np.uint16: "u16",
    np.int32: "i32",
    np.uint32: "u32",
    np.int64: "i64",
    np.uint64: "u64",
    np.bool_: "bool",
}


def rtype(a):
    return RUST_TYPES.get(np.asarray(a).dtype.type)


def num(v):
    """An f32 parameter: the shortest decimal that reads back as the same
    f32 (0.8, not 0.800000011920929), non-finite values as strings."""
    f = np.float32(v)
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    d = float(str(f))
    return d if np.float32(d) == f else float(f)


def ten(a, f32=False):
    """A typed tensor (None for a type the kernels do not take)."""
    a = np.asarray(a)
    if f32:
        a = np.ascontiguousarray(a, dtype="<f4")
    t = rtype(a)
    if t is None:
        return None
    if t in ("f32", "f64"):
        raw = np.ascontiguousarray(a, dtype="<" + ("f4" if t == "f32" else "f8")).tobytes()
        data = base64.b64encode(raw).decode()
    elif t == "bool":
        data = [bool(v) for v in a.ravel()]
    else:
        data = [int(v) for v in a.ravel()]
    return {"type": t, "shape": [int(d) for d in a.shape], "data": data}


def want(a, c, f32=False):
    """An expected output with the tolerance the old inline tests used:
    the case's rtol/atol for f32, 1e-6/1e-9 for f64, equality otherwise."""
    t = ten(a, f32)
    if t is None:
        return None
    if t["type"] == "f32":
        t.update(rtol=c.rtol, atol=c.atol)
    elif t["type"] == "f64":
        t.update(rtol=1e-6, atol=1e-9)
    return t


def exact(a):
    return ten(a)


def case(c, kernel, params, inputs, outputs):
    if any(v is None for v in list(inputs.values()) + list(outputs.values())):
        return False
    out.append({"name": c.name, "kernel": kernel, "params": params, "inputs": inputs, "outputs": outputs})
    return True


def simple_case(c, kernel, params, arrays, out_arr):
    """arrays: list of (name, ndarray); out_arr: expected output `y`."""
    return case(c, kernel, params, {name: ten(a) for name, a in arrays}, {"y": want(out_arr, c)})


def dims(shape):
    return [int(v) for v in shape] + [1] * (6 - len(shape))


def pad3(v, fill):
    v = [int(x) for x in v]
    return [fill] * (3 - len(v)) + v


def padded(shape, r):
    return [1] * (r - len(shape)) + list(shape)


def prod(v):
    return int(np.prod(v))


def same_pads(in_sp, out_sp, k, s, d, mode):
    pb, pe = [], []
    for i in range(len(in_sp)):
        total = max(0, (out_sp[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in_sp[i])
        if mode == "SAME_UPPER":
            pb.append(total // 2)
            pe.append(total - total // 2)
        else:
            pb.append(total - total // 2)
            pe.append(total // 2)
    return pb, pe


def resolve_pads(a, nsp, in_sp, out_sp, k, s, d):
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        return same_pads(in_sp, out_sp, k, s, d, auto)
    if auto == "VALID":
        return [0] * nsp, [0] * nsp
    pads = list(a.get("pads", [0] * (2 * nsp)))
    return pads[:nsp], pads[nsp:]


def window(x, y, k, s, d, pb, pe):
    """The spatial fields shared by ConvParams, ConvTransposeParams and PoolParams."""
    return {
        "in_spatial": pad3(x.shape[2:], 1),
        "out_spatial": pad3(y.shape[2:], 1),
        "kernel": pad3(k, 1),
        "strides": pad3(s, 1),
        "dilations": pad3(d, 1),
        "pads_begin": pad3(pb, 0),
        "pads_end": pad3(pe, 0),
    }


def conv_params(x, w, y, a):
    """conv::ConvParams fields (activation None)."""
    nsp = x.ndim - 2
    k = list(a.get("kernel_shape", w.shape[2:]))
    s = list(a.get("strides", [1] * nsp))
    d = list(a.get("dilations", [1] * nsp))
    g = a.get("group", 1)
    pb, pe = resolve_pads(a, nsp, x.shape[2:], y.shape[2:], k, s, d)
    p = {"batch": x.shape[0], "in_channels": x.shape[1], "out_channels": w.shape[0], "group": g}
    p.update(window(x, y, k, s, d, pb, pe))
    return p


def gen_conv(c, n, ins, outs):
    x, w = ins[0], ins[1]
    b = ins[2] if len(ins) > 2 else None
    nsp = x.ndim - 2
    if nsp > 3 or x.dtype != np.float32:
        return False
    inputs = {"x": ten(x, True), "w": ten(w, True)}
    if b is not None:
        inputs["b"] = ten(b, True)
    return case(c, "conv::conv", conv_params(x, w, outs[0], attrs(n)), inputs, {"y": want(outs[0], c, True)})


def gen_conv_transpose(c, n, ins, outs):
    x, w = ins[0], ins[1]
    b = ins[2] if len(ins) > 2 else None
    y = outs[0]
    a = attrs(n)
    nsp = x.ndim - 2
    if nsp > 3 or x.dtype != np.float32:
        return False
    k = list(a.get("kernel_shape", w.shape[2:]))  # conv
    s = list(a.get("strides", [1] * nsp))
    d = list(a.get("dilations", [1] * nsp))
    g = a.get("group", 1)
    op = list(a.get("output_padding", [0] * nsp))
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if "output_shape" in a or auto in ("SAME_UPPER", "SAME_LOWER"):
        outsp = list(y.shape[2:])
        pb, pe = [], []
        for i in range(nsp):
            total = s[i] * (x.shape[2 + i] - 1) + op[i] + ((k[i] - 1) * d[i] + 1) - outsp[i]
            if auto == "SAME_UPPER":
                pb.append(total // 2)
                pe.append(total - total // 2)
            else:
                pb.append(total - total // 2)
                pe.append(total // 2)
    else:
        pads = list(a.get("pads", [0] * (2 * nsp)))
        pb, pe = pads[:nsp], pads[nsp:]
    if any(v < 0 for v in pb):
        return False
    pe = [max(0, v) for v in pe]  # informative only; extra outputs come from out_spatial
    p = {"batch": x.shape[0], "in_channels": x.shape[1], "out_channels": w.shape[1] * g, "group": g}
    p.update(window(x, y, k, s, d, pb, pe))
    inputs = {"x": ten(x, True), "w": ten(w, True)}
    if b is not None:
        inputs["b"] = ten(b, True)
    return case(c, "conv::conv_transpose", p, inputs, {"y": want(y, c, True)})


def pool_params(x, y, a, cip):
    nsp = x.ndim - 2
    k = list(a["kernel_shape"])
    s = list(a.get("strides", [1] * nsp))
    d = list(a.get("dilations", [1] * nsp))
    pb, pe = resolve_pads(a, nsp, x.shape[2:], y.shape[2:], k, s, d)
    p = {"batch": x.shape[0], "channels": x.shape[1]}
    p.update(window(x, y, k, s, d, pb, pe))
    p["count_include_pad"] = cip
    return p


def gen_pool(c, n, ins, outs, kind):
    x = ins[0]
    y = outs[0]
    if len(outs) != 1 or x.dtype != np.float32:
        return False
    a = attrs(n)
    if x.ndim - 2 > 3:
        return False
    p = pool_params(x, y, a, bool(a.get("count_include_pad", 0)))
    return case(c, f"pool::{kind}", p, {"x": ten(x, True)}, {"y": want(y, c, True)})


def gen_global_pool(c, n, ins, outs, kind):
    x = ins[0]
    if x.dtype != np.float32:
        return False
    p = {"spatial": prod(x.shape[2:])}
    return case(c, f"pool::{kind}", p, {"x": ten(x, True)}, {"y": want(outs[0], c, True)})


def fill6(v, fill):
    return [num(t) for t in list(v) + [fill] * (6 - len(v))]


def resize_params(x, y, sc, mode, coord, rs, re, extrapolation, exclude):
    """resize::ResizeParams fields; `mode` is {"mode": ..., "nearest_mode"/"cubic_a": ...}."""
    p = {"rank": x.ndim, "in_shape": dims(x.shape), "out_shape": dims(y.shape), "scales": fill6(sc, 1.0)}
    p.update(mode)
    p.update(
        coord=coord,
        roi_start=rs,
        roi_end=re,
        extrapolation_value=num(extrapolation),
        exclude_outside=bool(exclude),
    )
    return p


def gen_resize(c, n, ins, outs):
    x = ins[0]
    y = outs[0]
    a = attrs(n)
    if x.dtype != np.float32 or a.get("antialias", 0):
        return False
    names = list(n.input)
    get = lambda i: ins[i] if i < len(ins) and i < len(names) and names[i] != "" else None  # noqa: E731
    roi, scales, sizes = get(1), get(2), get(3)
    r = x.ndim
    axes = list(a.get("axes", range(r)))
    axes = [ax % r for ax in axes]
    sc = [1.0] * r
    rs, re = [0.0] * r, [1.0] * r
    if scales is not None and scales.size > 0:
        for i, ax in enumerate(axes):
            sc[ax] = float(scales[i])
    elif sizes is not None:
        pol = a.get("keep_aspect_ratio_policy", b"stretch")
        pol = pol.decode() if isinstance(pol, bytes) else pol
        ratios = [sizes[i] / x.shape[ax] for i, ax in enumerate(axes)]
        if pol == "not_larger":
            ratios = [min(ratios)] * len(axes)
        elif pol == "not_smaller":
            ratios = [max(ratios)] * len(axes)
        for i, ax in enumerate(axes):
            sc[ax] = float(np.float32(ratios[i]))
    else:
        return False
    if roi is not None and roi.size > 0:
        m = len(axes)
        for i, ax in enumerate(axes):
            rs[ax] = float(roi[i])
            re[ax] = float(roi[m + i])
    mode = a.get("mode", b"nearest").decode()
    nm = a.get("nearest_mode", b"round_prefer_floor").decode()
    cm = a.get("coordinate_transformation_mode", b"half_pixel").decode()
    nmap = {"round_prefer_floor": "RoundPreferFloor", "round_prefer_ceil": "RoundPreferCeil", "floor": "Floor", "ceil": "Ceil"}
    cmap = {
        "half_pixel": "HalfPixel",
        "half_pixel_symmetric": "HalfPixelSymmetric",
        "pytorch_half_pixel": "PytorchHalfPixel",
        "align_corners": "AlignCorners",
        "asymmetric": "Asymmetric",
        "tf_half_pixel_for_nn": "TfHalfPixelForNn",
        "tf_crop_and_resize": "TfCropAndResize",
    }
    if mode == "nearest":
        m = {"mode": "Nearest", "nearest_mode": nmap[nm]}
    elif mode == "linear":
        m = {"mode": "Linear"}
    else:
        m = {"mode": "Cubic", "cubic_a": num(a.get("cubic_coeff_a", -0.75))}
    # Axes past the rank are padded with 1.0 in all three, as before.
    p = resize_params(x, y, sc, m, cmap[cm], fill6(rs, 1.0), fill6(re, 1.0), a.get("extrapolation_value", 0.0), a.get("exclude_outside", 0))
    return case(c, "resize::resize", p, {"x": ten(x, True)}, {"y": want(y, c, True)})


def gen_gemm(c, n, ins, outs):
    A, B = ins[0], ins[1]
    C = ins[2] if len(ins) > 2 else None  # may be None when left empty
    y = outs[0]
    if A.dtype != np.float32:
        return False
    a = attrs(n)
    ta, tb = a.get("transA", 0), a.get("transB", 0)
    m, k = (A.shape[1], A.shape[0]) if ta else A.shape
    nn = B.shape[0] if tb else B.shape[1]
    csm, csn = 0, 0
    if C is not None:
        cs = list(C.shape)
        cs = [1] * (2 - len(cs)) + cs
        csm = cs[1] if cs[0] != 1 else 0
        csn = 1 if cs[1] != 1 else 0
        if cs[0] != 1 and cs[1] == 1:
            csm = 1
    p = {
        "m": m, "n": nn, "k": k, "trans_a": bool(ta), "trans_b": bool(tb), "alpha": num(a.get("alpha", 1.0)),
        "beta": num(a.get("beta", 1.0)), "c_stride_m": csm, "c_stride_n": csn,
    }
    inputs = {"a": ten(A, True), "b": ten(B, True)}
    if C is not None:
        inputs["c"] = ten(C, True)
    return case(c, "gemm::gemm", p, inputs, {"y": want(y, c, True)})


def mm_params(A, B):
    """matmul::MatMulParams fields, with 1-D operands as the generator
    handles them: [K] -> [1, K] / [K, 1]."""
    if A.ndim == 1:
        A = A.reshape(1, -1)
    if B.ndim == 1:
        B = B.reshape(-1, 1)
    m, k = A.shape[-2:]
    nn = B.shape[-1]
    ob = list(np.broadcast_shapes(A.shape[:-2], B.shape[:-2]))
    br = len(ob)
    ab = [1] * (br - (A.ndim - 2)) + list(A.shape[:-2])
    bb = [1] * (br - (B.ndim - 2)) + list(B.shape[:-2])
    return {"m": m, "k": k, "n": nn, "batch_rank": br, "out_batch": dims(ob), "a_batch": dims(ab), "b_batch": dims(bb)}


def gen_matmul(c, n, ins, outs):
    A, B = ins
    if A.dtype != np.float32:
        return False
    return case(c, "matmul::matmul", mm_params(A, B), {"a": ten(A, True), "b": ten(B, True)}, {"y": want(outs[0], c, True)})


def axis3(x, axis):
    axis %= max(x.ndim, 1)
    return {"outer": prod(x.shape[:axis]), "axis_len": int(x.shape[axis]), "inner": prod(x.shape[axis + 1:])}


def gen_softmax(c, n, ins, outs, kind):
    x = ins[0]
    if x.dtype != np.float32:
        return False
    a = attrs(n)
    opset = c.model.opset_import[0].version
    axis = a.get("axis", -1 if opset >= 13 else 1) % max(x.ndim, 1)
    if opset >= 13:
        p = axis3(x, axis)
    else:
        p = {"outer": prod(x.shape[:axis]), "axis_len": prod(x.shape[axis:]), "inner": 1}
    return case(c, f"softmax::{kind}", p, {"x": ten(x, True)}, {"y": want(outs[0], c, True)})


REDUCE = {
    "ReduceSum": "Sum",
    "ReduceMean": "Mean",
    "ReduceMax": "Max",
    "ReduceMin": "Min",
    "ReduceProd": "Prod",
    "ReduceSumSquare": "SumSquare",
    "ReduceL1": "L1",
    "ReduceL2": "L2",
    "ReduceLogSum": "LogSum",
    "ReduceLogSumExp": "LogSumExp",
}


def gen_reduce(c, n, ins, outs):
    x = ins[0]
    if rtype(x) is None or rtype(x) == "bool":
        return False
    a = attrs(n)
    axes = None
    if len(ins) > 1 and ins[1] is not None:
        axes = list(ins[1])
    elif "axes" in a:
        axes = list(a["axes"])
    if not axes:
        if a.get("noop_with_empty_axes", 0):
            return False
        axes = list(range(x.ndim))
    mask = [False] * 6
    for ax in axes:
        mask[ax % x.ndim] = True
    p = {"op": REDUCE[n.op_type], "rank": x.ndim, "in_shape": dims(x.shape), "axes": mask}
    return simple_case(c, "reduce::reduce", p, [("x", x)], outs[0])


BINARY = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow", "Max": "Max", "Min": "Min", "PRelu": "PRelu", "Mod": "Mod"}


def gen_binary(c, n, ins, outs):
    """Broadcasting kernels take their shapes from the input tensors."""
    if len(ins) != 2 or ins[0].dtype != ins[1].dtype:
        return False
    A, B = ins
    op = BINARY[n.op_type]
    if n.op_type == "Mod" and attrs(n).get("fmod", 0):
        op = "FMod"
    if rtype(A) in (None, "bool"):
        return False
    return simple_case(c, "binary::binary", {"op": op}, [("a", A), ("b", B)], outs[0])


def unary_op(n):
    """unary::UnaryOp as {"op": variant} or {"op": "Act", "act": Activation variant, its fields}."""
    a = attrs(n)
    t = n.op_type
    f = lambda k, d: num(a.get(k, d))  # noqa: E731
    acts = {"Relu": "Relu", "Sigmoid": "Sigmoid", "HardSwish": "HardSwish", "Tanh": "Tanh", "Softplus": "Softplus", "Softsign": "Softsign", "Mish": "Mish"}
    plain = ["Erf", "Exp", "Log", "Neg", "Abs", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Identity", "Sin", "Cos", "Tan"]
    plain += ["Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh"]
    if t in plain:
        return {"op": t}
    act = lambda name, **kw: dict({"op": "Act", "act": name}, **kw)  # noqa: E731
    if t in acts:
        return act(acts[t])
    if t == "LeakyRelu":
        return act("LeakyRelu", alpha=f("alpha", 0.01))
    if t in ("Elu", "Celu", "ThresholdedRelu"):
        return act(t, alpha=f("alpha", 1.0))
    if t == "HardSigmoid":
        return act("HardSigmoid", alpha=f("alpha", 0.2), beta=f("beta", 0.5))
    if t == "Selu":
        return act("Selu", alpha=f("alpha", 1.67326319217681884765625), gamma=f("gamma", 1.05070102214813232421875))
    if t == "Gelu":
        ap = a.get("approximate", b"none").decode()
        return act("GeluTanh" if ap == "tanh" else "Gelu")
    return None


def gen_unary(c, n, ins, outs):
    x = ins[0]
    if x.dtype != np.float32 or len(ins) != 1:
        return False
    op = unary_op(n)
    if op is None:
        return False
    return case(c, "unary::unary", op, {"x": ten(x, True)}, {"y": want(outs[0], c, True)})


def gen_clip(c, n, ins, outs):
    x = ins[0]
    if x.dtype != np.float32:
        t = rtype(x)
        if t is None or t in ("bool", "f64"):
            return False
        info = np.iinfo(x.dtype)
        lo = int(ins[1]) if len(ins) > 1 and ins[1] is not None else int(info.min)
        hi = int(ins[2]) if len(ins) > 2 and ins[2] is not None else int(info.max)
        return simple_case(c, "unary::unary_generic", {"op": "Clip", "min": lo, "max": hi}, [("x", x)], outs[0])
    names = list(n.input)
    lo = float(ins[1]) if len(ins) > 1 and names[1] != "" else -math.inf
    hi = float(ins[2]) if len(ins) > 2 and names[2] != "" else math.inf
    p = {"op": "Act", "act": "Clip", "min": num(lo), "max": num(hi)}
    return case(c, "unary::unary", p, {"x": ten(x, True)}, {"y": want(outs[0], c, True)})


def gen_transpose(c, n, ins, outs):
    x = ins[0]
    perm = list(attrs(n).get("perm", reversed(range(x.ndim))))
    return simple_case(c, "transpose::transpose", {"rank": x.ndim, "in_shape": dims(x.shape), "perm": dims(perm)}, [("x", x)], outs[0])


def gen_concat(c, n, ins, outs):
    axis = attrs(n)["axis"] % ins[0].ndim
    arrays = [(f"x{i}", v) for i, v in enumerate(ins)]
    return simple_case(c, "concat::concat", {"outer": prod(ins[0].shape[:axis])}, arrays, outs[0])


def gen_split(c, n, ins, outs):
    """Outputs y0, y1, ...: compared for equality, as the inline tests did."""
    x = ins[0]
    axis = attrs(n).get("axis", 0) % x.ndim
    return case(c, "concat::split", {"outer": prod(x.shape[:axis])}, {"x": ten(x)}, {f"y{i}": exact(o) for i, o in enumerate(outs)})


def gen_slice(c, n, ins, outs):
    x = ins[0]
    r = x.ndim
    starts, ends = list(ins[1]), list(ins[2])
    axes = list(ins[3]) if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
    steps = list(ins[4]) if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
    st, sp, od = [0] * r, [1] * r, list(x.shape)
    for i, ax in enumerate(axes):
        ax = int(ax) % r
        dim = x.shape[ax]
        big = lambda v: max(min(int(v), 2**62), -(2**62))  # noqa: E731
        a, b, k = slice(big(starts[i]), big(ends[i]), int(steps[i])).indices(dim)
        od[ax] = len(range(a, b, k))
        st[ax] = a if od[ax] > 0 else 0
        sp[ax] = k
    p = {"rank": r, "in_shape": dims(x.shape), "out_shape": dims(od), "starts": dims(st), "steps": [int(v) for v in sp + [1] * (6 - r)]}
    return simple_case(c, "slice::slice", p, [("x", x)], outs[0])


def gen_gather(c, n, ins, outs):
    x, idx = ins
    p = axis3(x, attrs(n).get("axis", 0))
    return simple_case(c, "gather::gather", p, [("x", x), ("idx", idx.astype(np.int64))], outs[0])


def gen_gather_elements(c, n, ins, outs):
    x, idx = ins
    axis = attrs(n).get("axis", 0) % x.ndim
    if any(idx.shape[d] != x.shape[d] for d in range(x.ndim) if d != axis):
        return False
    p = dict(axis3(x, axis), idx_axis_len=int(idx.shape[axis]))
    return simple_case(c, "gather::gather_elements", p, [("x", x), ("idx", idx.astype(np.int64))], outs[0])


def gen_where(c, n, ins, outs):
    cnd, x, y = ins
    r = outs[0].ndim
    p = {"rank": r, "out_shape": dims(outs[0].shape), "cond_shape": dims(padded(cnd.shape, r)), "x_shape": dims(padded(x.shape, r)), "y_shape": dims(padded(y.shape, r))}
    return simple_case(c, "where_::where_", p, [("cnd", cnd), ("a", x), ("b", y)], outs[0])


def gen_cast(c, n, ins, outs):
    if rtype(ins[0]) is None or rtype(outs[0]) is None:
        return False
    return simple_case(c, "cast::cast", {}, [("x", ins[0])], outs[0])


def gen_expand(c, n, ins, outs):
    x = ins[0]
    r = outs[0].ndim
    p = {"rank": r, "out_shape": dims(outs[0].shape), "a_shape": dims(padded(x.shape, r)), "b_shape": dims([])}
    return simple_case(c, "binary::expand", p, [("x", x)], outs[0])


def eps(a):
    return num(a.get("epsilon", 1e-5))


def gen_batchnorm(c, n, ins, outs):
    if len(outs) != 1 or ins[0].dtype != np.float32:
        return False
    x = ins[0]
    p = {"batch": x.shape[0], "channels": x.shape[1], "spatial": prod(x.shape[2:]), "epsilon": eps(attrs(n))}
    arrays = [("x", x), ("s", ins[1]), ("bb", ins[2]), ("m", ins[3]), ("v", ins[4])]
    return simple_case(c, "norm::batch_norm", p, arrays, outs[0])


def gen_instnorm(c, n, ins, outs):
    x = ins[0]
    if x.dtype != np.float32:
        return False
    p = {"batch": x.shape[0], "channels": x.shape[1], "spatial": prod(x.shape[2:]), "epsilon": eps(attrs(n))}
    return simple_case(c, "norm::instance_norm", p, [("x", x), ("s", ins[1]), ("bb", ins[2])], outs[0])


def gen_layernorm(c, n, ins, outs):
    x = ins[0]
    if x.dtype != np.float32:
        return False
    a = attrs(n)
    axis = a.get("axis", -1) % x.ndim
    outer, inner = prod(x.shape[:axis]), prod(x.shape[axis:])
    sc = ins[1]
    b = ins[2] if len(ins) > 2 else None
    if sc.size != inner or (b is not None and b.size != inner):
        return False
    arrays = [("x", x), ("s", sc)] + ([("bb", b)] if b is not None else [])
    return simple_case(c, "norm::layer_norm", {"outer": outer, "inner": inner, "epsilon": eps(a)}, arrays, outs[0])


def gen_lrn(c, n, ins, outs):
    x = ins[0]
    a = attrs(n)
    p = {
        "batch": x.shape[0], "channels": x.shape[1], "spatial": prod(x.shape[2:]), "size": a["size"],
        "alpha": num(a.get("alpha", 1e-4)), "beta": num(a.get("beta", 0.75)), "bias": num(a.get("bias", 1.0)),
    }
    return simple_case(c, "norm::lrn", p, [("x", x)], outs[0])


def gen_arg(c, n, ins, outs, kind):
    x = ins[0]
    a = attrs(n)
    p = dict(axis3(x, a.get("axis", 0)), select_last_index=bool(a.get("select_last_index", 0)))
    return simple_case(c, f"reduce::{kind}", p, [("x", x)], outs[0])


CMP = {"Equal": "Equal", "Less": "Less", "LessOrEqual": "LessOrEqual", "Greater": "Greater", "GreaterOrEqual": "GreaterOrEqual"}
LOGIC = {"And": "And", "Or": "Or", "Xor": "Xor"}


def gen_compare(c, n, ins, outs):
    A, B = ins
    if n.op_type in CMP:
        return simple_case(c, "binary::compare", {"op": CMP[n.op_type]}, [("a", A), ("b", B)], outs[0])
    return simple_case(c, "binary::logical", {"op": LOGIC[n.op_type]}, [("a", A), ("b", B)], outs[0])


def gen_not(c, n, ins, outs):
    return simple_case(c, "unary::not", {}, [("x", ins[0])], outs[0])


def gen_hardmax(c, n, ins, outs):
    x = ins[0]
    return simple_case(c, "softmax::hardmax", axis3(x, attrs(n).get("axis", -1)), [("x", x)], outs[0])


def gen_pad(c, n, ins, outs):
    x = ins[0]
    r = x.ndim
    pads = [int(v) for v in ins[1]]
    cv = ins[2] if len(ins) > 2 and ins[2] is not None else None
    axes = [int(v) % r for v in ins[3]] if len(ins) > 3 and ins[3] is not None else list(range(r))
    pb = [0] * r
    for i, ax in enumerate(axes):
        pb[ax] = pads[i]
    mode = attrs(n).get("mode", b"constant").decode()
    mm = {"constant": "Constant", "reflect": "Reflect", "edge": "Edge", "wrap": "Wrap"}[mode]
    t = rtype(x)
    if t is None:
        return False
    v = np.asarray(cv).ravel()[0] if cv is not None and np.asarray(cv).size > 0 else 0
    val = num(v) if t == "f32" else float(v) if t == "f64" else bool(v) if t == "bool" else int(v)
    p = {"rank": r, "in_shape": dims(x.shape), "out_shape": dims(outs[0].shape), "pads_begin": pb + [0] * (6 - r), "mode": mm, "value": val}
    return simple_case(c, "pad::pad", p, [("x", x)], outs[0])


def gen_bitshift(c, n, ins, outs):
    A, B = ins
    d = attrs(n)["direction"].decode()
    return simple_case(c, "binary::bit_shift", {"direction": "Left" if d == "LEFT" else "Right"}, [("a", A), ("b", B)], outs[0])


QTYPES = ("i8", "u8", "i16", "u16")


def quant_params(x, scale, a):
    """quant::QuantParams fields (QuantParams::per_tensor for one scale)."""
    axis = a.get("axis", 1) % max(x.ndim, 1)
    bs = a.get("block_size", 0)
    if scale.size == 1 and bs == 0:
        return {"outer": 1, "axis_len": 1, "inner": int(x.size), "block_size": 0}
    return dict(axis3(x, axis), block_size=bs)


def gen_quantize(c, n, ins, outs):
    x, sc = ins[0], ins[1]
    zp = ins[2] if len(ins) > 2 else None
    a = attrs(n)
    y = outs[0]
    if x.dtype != np.float32 or sc.dtype != np.float32 or rtype(y) not in QTYPES:
        return False
    if a.get("saturate", 1) != 1:
        return False
    arrays = [("x", x), ("sc", sc)] + ([("zp", zp)] if zp is not None else [])
    return simple_case(c, "quant::quantize_linear", quant_params(x, sc, a), arrays, y)


def gen_dequantize(c, n, ins, outs):
    x, sc = ins[0], ins[1]
    zp = ins[2] if len(ins) > 2 else None
    a = attrs(n)
    y = outs[0]
    t = rtype(x)
    if t is None or sc.dtype != np.float32 or y.dtype != np.float32:
        return False
    p = quant_params(x, sc, a)
    if t == "i32":
        return simple_case(c, "quant::dequantize_linear_i32", p, [("x", x), ("sc", sc)], y)
    if t not in QTYPES:
        return False
    arrays = [("x", x), ("sc", sc)] + ([("zp", zp)] if zp is not None else [])
    return simple_case(c, "quant::dequantize_linear", p, arrays, y)


def gen_dynquant(c, n, ins, outs):
    """y and y_zero_point equal; y_scale within 1e-7 relative."""
    x = ins[0]
    y, ys, yz = outs
    scale = dict(ten(np.asarray(ys, dtype=np.float32)), rtol=1e-7, atol=0.0)
    return case(c, "quant::dynamic_quantize_linear", {}, {"x": ten(x)}, {"y": exact(y), "y_scale": scale, "y_zero_point": exact(yz)})


def gen_matmul_integer(c, n, ins, outs):
    A, B = ins[0], ins[1]
    az = ins[2] if len(ins) > 2 and ins[2] is not None else np.array(0)
    bz = ins[3] if len(ins) > 3 and ins[3] is not None else np.array(0)
    if az.size != 1 or bz.size != 1 or rtype(A) not in QTYPES or rtype(B) not in QTYPES:
        return False
    p = dict(mm_params(A, B), a_zero_point=int(az.ravel()[0]), b_zero_point=int(bz.ravel()[0]))
    return simple_case(c, "quant::matmul_integer", p, [("a", A), ("b", B)], outs[0])


def scalar_f32(v):
    return num(np.asarray(v, dtype=np.float32).ravel()[0])


def scalar_int(v):
    return int(np.asarray(v).ravel()[0])


def gen_qlinear_matmul(c, n, ins, outs):
    A, As, Az, B, Bs, Bz, Ys, Yz = ins
    if any(v.size != 1 for v in (As, Az, Bs, Bz, Ys, Yz)) or As.dtype != np.float32:
        return False
    if rtype(A) not in QTYPES or rtype(B) not in QTYPES or rtype(outs[0]) not in QTYPES:
        return False
    p = {
        "mm": mm_params(A, B), "a_scale": scalar_f32(As), "a_zero_point": scalar_int(Az), "b_scale": scalar_f32(Bs),
        "b_zero_point": scalar_int(Bz), "y_scale": scalar_f32(Ys), "y_zero_point": scalar_int(Yz),
    }
    return simple_case(c, "quant::qlinear_matmul", p, [("a", A), ("b", B)], outs[0])


def gen_conv_integer(c, n, ins, outs):
    x, w = ins[0], ins[1]
    xz = ins[2] if len(ins) > 2 and ins[2] is not None else np.array(0)
    wz = ins[3] if len(ins) > 3 and ins[3] is not None else np.array([0])
    if rtype(x) not in QTYPES or rtype(w) not in QTYPES or xz.size != 1:
        return False
    p = dict(conv_params(x, w, outs[0], attrs(n)), x_zero_point=scalar_int(xz))
    wz = np.asarray(wz).ravel().astype(np.int32)
    return simple_case(c, "quant::conv_integer", p, [("x", x), ("w", w), ("wz", wz)], outs[0])


def gen_qlinear_conv(c, n, ins, outs):
    x, xs, xz, w, ws, wz, ys, yz = ins[:8]
    b = ins[8] if len(ins) > 8 else None
    if rtype(x) not in QTYPES or rtype(w) not in QTYPES or xs.dtype != np.float32:
        return False
    p = {"conv": conv_params(x, w, outs[0], attrs(n)), "x_scale": scalar_f32(xs), "x_zero_point": scalar_int(xz), "y_scale": scalar_f32(ys), "y_zero_point": scalar_int(yz)}
    wz = np.asarray(wz).ravel().astype(np.int32)
    arrays = [("x", x), ("w", w), ("ws", np.asarray(ws, dtype=np.float32).ravel()), ("wz", wz)] + ([("bias", b)] if b is not None else [])
    return simple_case(c, "quant::qlinear_conv", p, arrays, outs[0])


def gen_variadic(c, n, ins, outs):
    y = outs[0]
    r = y.ndim
    t = rtype(y)
    if t is None or t == "bool" or any(rtype(v) != t for v in ins):
        return False
    arrays = [(f"x{i}", v) for i, v in enumerate(ins)]
    p = {"op": n.op_type, "shapes": [dims(padded(v.shape, r)) for v in ins], "rank": r, "out_shape": dims(y.shape)}
    return simple_case(c, "binary::variadic", p, arrays, y)


def gen_binary_or_variadic(c, n, ins, outs):
    if len(ins) == 2 and ins[0].dtype == ins[1].dtype and gen_binary(c, n, ins, outs):
        return True
    return gen_variadic(c, n, ins, outs)


def gen_tile(c, n, ins, outs):
    x, rep = ins
    return simple_case(c, "transpose::tile", {"rank": x.ndim, "in_shape": dims(x.shape), "repeats": dims(rep)}, [("x", x)], outs[0])


def gen_groupnorm(c, n, ins, outs):
    x, sc, b = ins
    a = attrs(n)
    g = a["num_groups"]
    C = x.shape[1]
    if sc.size == g and g != C:
        sc, b = np.repeat(sc, C // g), np.repeat(b, C // g)
    p = {"batch": x.shape[0], "channels": C, "groups": g, "spatial": prod(x.shape[2:]), "epsilon": eps(a)}
    return simple_case(c, "norm::group_norm", p, [("x", x), ("s", sc), ("bb", b)], outs[0])


def gen_mvn(c, n, ins, outs):
    x = ins[0]
    axes = [v % x.ndim for v in attrs(n).get("axes", [0, 2, 3])]
    p = {"rank": x.ndim, "shape": dims(x.shape), "axes": [d in axes for d in range(6)]}
    return simple_case(c, "norm::mean_variance_norm", p, [("x", x)], outs[0])


def gen_lpnorm(c, n, ins, outs):
    x = ins[0]
    a = attrs(n)
    return simple_case(c, "norm::lp_norm", dict(axis3(x, a.get("axis", -1)), p=a.get("p", 2)), [("x", x)], outs[0])


def gen_rnn(c, n, ins, outs):
    """rnn::RnnParams fields; outputs y, y_h, y_c as the node names them."""
    a = attrs(n)
    if a.get("layout", 0) != 0:
        return False
    t = n.op_type
    x, w, r = ins[0], ins[1], ins[2]
    get = lambda i: ins[i] if len(ins) > i and ins[i] is not None else None  # noqa: E731
    b, sl, ih = get(3), get(4), get(5)
    ic, pp = (get(6), get(7)) if t == "LSTM" else (None, None)
    direction = a.get("direction", b"forward").decode()
    dirs = 2 if direction == "bidirectional" else 1
    defaults = {"RNN": ["Tanh"], "GRU": ["Sigmoid", "Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"]}[t]
    acts = [v.decode() if isinstance(v, bytes) else v for v in a.get("activations", defaults * dirs)]
    alphas = list(a.get("activation_alpha", []))
    betas = list(a.get("activation_beta", []))
    per = len(defaults)
    rs_acts = []
    for i, name in enumerate(acts):
        al = alphas[i] if i < len(alphas) else None
        be = betas[i] if i < len(betas) else None
        d_alpha = {"LeakyRelu": 0.01, "ThresholdedRelu": 1.0, "HardSigmoid": 0.2, "Elu": 1.0}
        if name in ("Sigmoid", "Tanh", "Relu", "Softsign", "Softplus"):
            rs_acts.append({"act": name})
        elif name in d_alpha:
            act = {"act": name, "alpha": num(al if al is not None else d_alpha[name])}
            if name == "HardSigmoid":
                act["beta"] = num(be if be is not None else 0.5)
            rs_acts.append(act)
        else:
            return False
    groups = [rs_acts[i * per:(i + 1) * per] for i in range(dirs)]
    groups = [g + [{"act": "None"}] * (3 - len(g)) for g in groups]
    if dirs == 1:
        groups.append(groups[0])
    clip = a.get("clip", None)
    seq, bn, isz = x.shape
    p = {"kind": {"RNN": "Rnn", "GRU": "Gru", "LSTM": "Lstm"}[t]}
    if t == "GRU":
        p["linear_before_reset"] = bool(a.get("linear_before_reset", 0))
    if t == "LSTM":
        p["input_forget"] = bool(a.get("input_forget", 0))
    p.update(
        direction={"forward": "Forward", "reverse": "Reverse", "bidirectional": "Bidirectional"}[direction],
        seq_len=seq, batch=bn, input_size=isz, hidden=a["hidden_size"],
        clip=num(clip) if clip is not None else "inf", activations=groups,
    )
    inputs = {"x": ten(x, True), "w": ten(w, True), "r": ten(r, True)}
    for name, v in (("b", b), ("initial_h", ih), ("initial_c", ic), ("p", pp)):
        if v is not None:
            inputs[name] = ten(v, True)
    if sl is not None:
        inputs["sequence_lens"] = ten(np.asarray(sl).astype(np.int32))
    outputs = {}
    it = iter(outs)
    for i, name in enumerate(n.output):
        if name != "":
            outputs[["y", "y_h", "y_c"][i]] = want(next(it), c, True)
    return case(c, "rnn::rnn", p, inputs, outputs)


def gen_rmsnorm(c, n, ins, outs):
    x, sc = ins[0], ins[1]
    if x.dtype != np.float32:
        return False
    a = attrs(n)
    axis = a.get("axis", -1) % x.ndim
    outer, inner = prod(x.shape[:axis]), prod(x.shape[axis:])
    if sc.size != inner:
        sc = np.broadcast_to(sc, x.shape[axis:]).ravel()
    return simple_case(c, "norm::rms_norm", {"outer": outer, "inner": inner, "epsilon": eps(a)}, [("x", x), ("s", sc)], outs[0])


def gen_cumsum(c, n, ins, outs):
    x, ax = ins
    a = attrs(n)
    p = dict(axis3(x, int(np.asarray(ax).ravel()[0])), exclusive=bool(a.get("exclusive", 0)), reverse=bool(a.get("reverse", 0)))
    return simple_case(c, "misc::cumsum", p, [("x", x)], outs[0])


def gen_trilu(c, n, ins, outs):
    x = ins[0]
    k = int(np.asarray(ins[1]).ravel()[0]) if len(ins) > 1 and ins[1] is not None else 0
    rows, cols = x.shape[-2:]
    p = {"batch": prod(x.shape[:-2]), "rows": rows, "cols": cols, "k": k, "upper": bool(attrs(n).get("upper", 1))}
    return simple_case(c, "misc::trilu", p, [("x", x)], outs[0])


def gen_bitwise(c, n, ins, outs):
    if n.op_type == "BitwiseNot":
        return simple_case(c, "misc::bitwise_not", {}, [("x", ins[0])], outs[0])
    A, B = ins
    op = {"BitwiseAnd": "And", "BitwiseOr": "Or", "BitwiseXor": "Xor"}[n.op_type]
    return simple_case(c, "misc::bitwise", {"op": op}, [("a", A), ("b", B)], outs[0])


def gen_shrink(c, n, ins, outs):
    x = ins[0]
    if x.dtype != np.float32:
        return False
    a = attrs(n)
    p = {"op": "Shrink", "lambd": num(a.get("lambd", 0.5)), "bias": num(a.get("bias", 0.0))}
    return simple_case(c, "unary::unary", p, [("x", x)], outs[0])


def gen_d2s(c, n, ins, outs):
    x = ins[0]
    a = attrs(n)
    p = {"batch": x.shape[0], "channels": x.shape[1], "height": x.shape[2], "width": x.shape[3], "block": a["blocksize"], "crd": a.get("mode", b"DCR").decode() == "CRD"}
    f = "depth_to_space" if n.op_type == "DepthToSpace" else "space_to_depth"
    return simple_case(c, f"misc::{f}", p, [("x", x)], outs[0])


def gen_onehot(c, n, ins, outs):
    """`off`/`on` are values of the output type."""
    idx, depth, vals = ins
    axis = attrs(n).get("axis", -1)
    axis %= idx.ndim + 1
    t = rtype(outs[0])
    if t not in ("f32", "i32", "i64"):
        return False
    val = num if t == "f32" else int
    p = {"outer": prod(idx.shape[:axis]), "depth": int(np.asarray(depth).ravel()[0]), "inner": prod(idx.shape[axis:]), "off": val(vals.ravel()[0]), "on": val(vals.ravel()[1])}
    return simple_case(c, "misc::one_hot", p, [("idx", np.asarray(idx).astype(np.int64))], outs[0])


def red_name(n):
    r = attrs(n).get("reduction", b"none").decode()
    return {"none": "None", "add": "Add", "mul": "Mul", "max": "Max", "min": "Min"}[r]


def gen_scatter_elements(c, n, ins, outs):
    x, idx, upd = ins
    axis = attrs(n).get("axis", 0) % x.ndim
    if any(idx.shape[d] != x.shape[d] for d in range(x.ndim) if d != axis) or rtype(x) == "bool":
        return False
    p = dict(axis3(x, axis), idx_axis_len=int(idx.shape[axis]), reduction=red_name(n))
    return simple_case(c, "misc::scatter_elements", p, [("x", x), ("idx", idx.astype(np.int64)), ("u", upd)], outs[0])


def gen_scatter_nd(c, n, ins, outs):
    x, idx, upd = ins
    if rtype(x) == "bool":
        return False
    p = {"x_dims": [int(v) for v in x.shape], "index_depth": int(idx.shape[-1]), "reduction": red_name(n)}
    return simple_case(c, "misc::scatter_nd", p, [("x", x), ("idx", idx.astype(np.int64)), ("u", upd)], outs[0])


def gen_gather_nd(c, n, ins, outs):
    x, idx = ins
    if attrs(n).get("batch_dims", 0) != 0:
        return False
    p = {"x_dims": [int(v) for v in x.shape], "index_depth": int(idx.shape[-1])}
    return simple_case(c, "misc::gather_nd", p, [("x", x), ("idx", idx.astype(np.int64))], outs[0])


def gen_topk(c, n, ins, outs):
    x, k = ins
    a = attrs(n)
    if not a.get("sorted", 1):
        return False
    p = dict(axis3(x, a.get("axis", -1)), k=int(np.asarray(k).ravel()[0]), largest=bool(a.get("largest", 1)))
    return case(c, "misc::top_k", p, {"x": ten(x)}, {"y": want(outs[0], c), "indices": exact(outs[1])})


def gen_lppool(c, n, ins, outs):
    x = ins[0]
    y = outs[0]
    if x.dtype != np.float32:
        return False
    a = attrs(n)
    p = dict(pool_params(x, y, a, False), norm=num(a.get("p", 2)))
    return simple_case(c, "pool::lp_pool", p, [("x", x)], y)


def gen_isnan_isinf(c, n, ins, outs):
    x = ins[0]
    if x.dtype != np.float32:
        return False
    if n.op_type == "IsNaN":
        return simple_case(c, "unary::is_nan", {}, [("x", x)], outs[0])
    a = attrs(n)
    p = {"detect_negative": bool(a.get("detect_negative", 1)), "detect_positive": bool(a.get("detect_positive", 1))}
    return simple_case(c, "unary::is_inf", p, [("x", x)], outs[0])


def gen_castlike(c, n, ins, outs):
    return gen_cast(c, n, ins[:1], outs)


def gen_upsample(c, n, ins, outs):
    x, sc = ins
    y = outs[0]
    mode = attrs(n).get("mode", b"nearest").decode()
    m = {"mode": "Nearest", "nearest_mode": "Floor"} if mode == "nearest" else {"mode": "Linear"}
    p = resize_params(x, y, [float(t) for t in sc], m, "Asymmetric", [0.0] * 6, [1.0] * 6, 0.0, False)
    return simple_case(c, "resize::resize", p, [("x", x)], y)


GEN = {
    "Conv": gen_conv,
    "ConvTranspose": gen_conv_transpose,
    "MaxPool": lambda c, n, i, o: gen_pool(c, n, i, o, "max_pool"),
    "AveragePool": lambda c, n, i, o: gen_pool(c, n, i, o, "average_pool"),
    "GlobalAveragePool": lambda c, n, i, o: gen_global_pool(c, n, i, o, "global_average_pool"),
    "GlobalMaxPool": lambda c, n, i, o: gen_global_pool(c, n, i, o, "global_max_pool"),
    "Resize": gen_resize,
    "Gemm": gen_gemm,
    "MatMul": gen_matmul,
    "Softmax": lambda c, n, i, o: gen_softmax(c, n, i, o, "softmax"),
    "LogSoftmax": lambda c, n, i, o: gen_softmax(c, n, i, o, "log_softmax"),
    "Clip": gen_clip,
    "Transpose": gen_transpose,
    "Concat": gen_concat,
    "Split": gen_split,
    "Slice": gen_slice,
    "Gather": gen_gather,
    "GatherElements": gen_gather_elements,
    "Where": gen_where,
    "Cast": gen_cast,
    "Expand": gen_expand,
    "BatchNormalization": gen_batchnorm,
    "InstanceNormalization": gen_instnorm,
    "LayerNormalization": gen_layernorm,
    "LRN": gen_lrn,
    "ArgMax": lambda c, n, i, o: gen_arg(c, n, i, o, "argmax"),
    "ArgMin": lambda c, n, i, o: gen_arg(c, n, i, o, "argmin"),
    "Not": gen_not,
    "Hardmax": gen_hardmax,
    "Pad": gen_pad,
    "BitShift": gen_bitshift,
    "QuantizeLinear": gen_quantize,
    "DequantizeLinear": gen_dequantize,
    "DynamicQuantizeLinear": gen_dynquant,
    "MatMulInteger": gen_matmul_integer,
    "QLinearMatMul": gen_qlinear_matmul,
    "ConvInteger": gen_conv_integer,
    "Sum": gen_variadic,
    "Mean": gen_variadic,
    "Tile": gen_tile,
    "GroupNormalization": gen_groupnorm,
    "MeanVarianceNormalization": gen_mvn,
    "LpNormalization": gen_lpnorm,
    "RNN": gen_rnn,
    "GRU": gen_rnn,
    "LSTM": gen_rnn,
    "QLinearConv": gen_qlinear_conv,
}
for k in REDUCE:
    GEN[k] = gen_reduce
for k in list(CMP) + list(LOGIC):
    GEN[k] = gen_compare
for k in BINARY:
    GEN[k] = gen_binary
for k in [
    "Relu", "Sigmoid", "HardSwish", "Tanh", "Softplus", "Softsign", "Mish", "Erf", "Exp", "Log", "Neg", "Abs", "Sqrt",
    "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Identity", "LeakyRelu", "Elu", "Celu", "ThresholdedRelu",
    "HardSigmoid", "Selu", "Gelu", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh",
]:
    GEN[k] = gen_unary
# Registered last so they override the generic loops above.
GEN.update(
    {
        "Max": gen_binary_or_variadic,
        "Min": gen_binary_or_variadic,
        "RMSNormalization": gen_rmsnorm,
        "CumSum": gen_cumsum,
        "Trilu": gen_trilu,
        "BitwiseAnd": gen_bitwise,
        "BitwiseOr": gen_bitwise,
        "BitwiseXor": gen_bitwise,
        "BitwiseNot": gen_bitwise,
        "Shrink": gen_shrink,
        "DepthToSpace": gen_d2s,
        "SpaceToDepth": gen_d2s,
        "OneHot": gen_onehot,
        "ScatterElements": gen_scatter_elements,
        "ScatterND": gen_scatter_nd,
        "GatherND": gen_gather_nd,
        "TopK": gen_topk,
        "LpPool": gen_lppool,
        "IsNaN": gen_isnan_isinf,
        "IsInf": gen_isnan_isinf,
        "CastLike": gen_castlike,
        "Upsample": gen_upsample,
    }
)


def plain(v):
    """numpy scalars to JSON values."""
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    raise TypeError(f"not JSON: {v!r}")


def main():
    cases = node.collect_testcases(None)
    for c in sorted(cases, key=lambda c: c.name):
        if c.kind != "node" or len(c.model.graph.node) != 1:
            continue
        n = c.model.graph.node[0]
        if n.op_type not in GEN:
            continue
        ins, outs = c.data_sets[0]
        conv = lambda v: numpy_helper.to_array(v) if hasattr(v, "data_type") else np.asarray(v)  # noqa: E731
        ins = [conv(v) for v in ins]
        outs = [conv(v) for v in outs]
        # Optional inputs left empty ("") have no data: re-align by position.
        it = iter(ins)
        ins = [next(it) if name != "" else None for name in n.input]
        if sum(v.size for v in ins if v is not None) + sum(v.size for v in outs) > MAX_ELEMS:
            skipped.append((c.name, "too large to inline"))
            continue
        try:
            ok = GEN[n.op_type](c, n, ins, outs)
        except Exception as e:  # noqa: BLE001
            skipped.append((c.name, f"generator error: {e}"))
            continue
        if not ok:
            skipped.append((c.name, "not covered by these kernels"))
    line = lambda v: json.dumps(v, default=plain, allow_nan=False, separators=(",", ":"))  # noqa: E731
    w = sys.stdout.write
    w("{\n")
    w(f'"about":{line("ONNX backend node test cases for the reference kernels. GENERATED by kernels/tests/gen_onnx_cases.py; do not edit.")},\n')
    w(f'"onnx":{line(onnx.__version__)},\n')
    w(f'"count":{len(out)},\n')
    w('"skipped":[\n')
    w(",\n".join(line({"name": name, "reason": why}) for name, why in skipped))
    w('\n],\n"cases":[\n')
    w(",\n".join(line(t) for t in out))
    w("\n]\n}\n")


main()
