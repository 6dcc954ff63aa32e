#!/usr/bin/env python3
"""Generates kernels/tests/onnx_node_cases.rs from the ONNX backend node test
cases (the `onnx` Python package regenerates them with its reference
implementation). Each case becomes a Rust test with its inputs, expected
outputs and kernel parameters inline, so `cargo test` needs no data files.

Usage: python3 kernels/tests/gen_onnx_cases.py > kernels/tests/onnx_node_cases.rs && cargo fmt -p zant-kernels

The attribute -> parameter mapping here mirrors what zant's code generator
does (auto_pad, ceil_mode, sizes -> scales, ...). Cases the kernels do not
cover (other dtypes, antialias, Indices outputs, ...) are listed as skipped
in the generated file's header.
"""

import base64
import math
import sys
import warnings

import numpy as np
from onnx import helper, numpy_helper  # noqa: F401
from onnx.backend.test.case import node

warnings.filterwarnings("ignore")

MAX_ELEMS = 12000
out = []
skipped = []


def attrs(n):
    return {a.name: helper.get_attribute_value(a) for a in n.attribute}


def f32_arr(name, a):
    a = np.ascontiguousarray(a, dtype="<f4").ravel()
    if a.size <= 16:
        bits = ",".join("0x%08x" % v for v in a.view(np.uint32))
        return f"let {name}: Vec<f32> = bits(&[{bits}]);"
    enc = base64.b64encode(a.tobytes()).decode()
    return f'let {name}: Vec<f32> = b64_f32("{enc}");'


def int_arr(name, a, ty):
    a = np.asarray(a).ravel()
    return f"let {name}: Vec<{ty}> = vec![{','.join(str(int(v)) for v in a)}];"


def dims(shape):
    s = list(shape) + [1] * (6 - len(shape))
    return "[" + ", ".join(str(int(v)) for v in s) + "]"


def arr3(v):
    return "[" + ", ".join(str(int(x)) for x in v) + "]"


def pad3(v, fill):
    v = list(v)
    return [fill] * (3 - len(v)) + v


def emit(name, body, check):
    out.append(f"#[test]\nfn {name}() {{\n{body}\n{check}\n}}\n")


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


def act_none():
    return "Activation::None"


def gen_conv(c, n, ins, outs):
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
    pb, pe = resolve_pads(a, nsp, x.shape[2:], y.shape[2:], k, s, d)
    p = (
        f"let p = conv::ConvParams {{ batch: {x.shape[0]}, in_channels: {x.shape[1]}, out_channels: {w.shape[0]}, group: {g}, "
        f"in_spatial: {arr3(pad3(x.shape[2:], 1))}, out_spatial: {arr3(pad3(y.shape[2:], 1))}, kernel: {arr3(pad3(k, 1))}, "
        f"strides: {arr3(pad3(s, 1))}, dilations: {arr3(pad3(d, 1))}, pads_begin: {arr3(pad3(pb, 0))}, pads_end: {arr3(pad3(pe, 0))}, "
        f"activation: {act_none()} }};"
    )
    body = [f32_arr("x", x), f32_arr("w", w), f32_arr("want", y), p, "let mut y = vec![0.0f32; want.len()];"]
    if b is not None:
        body.append(f32_arr("b", b))
        body.append("conv::conv(&x, &w, Some(&b), &mut y, &p);")
    else:
        body.append("conv::conv(&x, &w, None, &mut y, &p);")
    emit(c.name, "\n".join(body), f"close(&y, &want, {c.rtol}, {c.atol});")
    return True


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
    p = (
        f"let p = conv::ConvTransposeParams {{ batch: {x.shape[0]}, in_channels: {x.shape[1]}, out_channels: {w.shape[1] * g}, group: {g}, "
        f"in_spatial: {arr3(pad3(x.shape[2:], 1))}, out_spatial: {arr3(pad3(y.shape[2:], 1))}, kernel: {arr3(pad3(k, 1))}, "
        f"strides: {arr3(pad3(s, 1))}, dilations: {arr3(pad3(d, 1))}, pads_begin: {arr3(pad3(pb, 0))}, pads_end: {arr3(pad3(pe, 0))}, "
        f"activation: {act_none()} }};"
    )
    body = [f32_arr("x", x), f32_arr("w", w), f32_arr("want", y), p, "let mut y = vec![0.0f32; want.len()];"]
    if b is not None:
        body.append(f32_arr("b", b))
        body.append("conv::conv_transpose(&x, &w, Some(&b), &mut y, &p);")
    else:
        body.append("conv::conv_transpose(&x, &w, None, &mut y, &p);")
    emit(c.name, "\n".join(body), f"close(&y, &want, {c.rtol}, {c.atol});")
    return True


def gen_pool(c, n, ins, outs, kind):
    x = ins[0]
    y = outs[0]
    if len(outs) != 1 or x.dtype != np.float32:
        return False
    a = attrs(n)
    nsp = x.ndim - 2
    if nsp > 3:
        return False
    k = list(a["kernel_shape"])
    s = list(a.get("strides", [1] * nsp))
    d = list(a.get("dilations", [1] * nsp))
    pb, pe = resolve_pads(a, nsp, x.shape[2:], y.shape[2:], k, s, d)
    cip = "true" if a.get("count_include_pad", 0) else "false"
    p = (
        f"let p = pool::PoolParams {{ batch: {x.shape[0]}, channels: {x.shape[1]}, "
        f"in_spatial: {arr3(pad3(x.shape[2:], 1))}, out_spatial: {arr3(pad3(y.shape[2:], 1))}, kernel: {arr3(pad3(k, 1))}, "
        f"strides: {arr3(pad3(s, 1))}, dilations: {arr3(pad3(d, 1))}, pads_begin: {arr3(pad3(pb, 0))}, pads_end: {arr3(pad3(pe, 0))}, "
        f"count_include_pad: {cip} }};"
    )
    body = [f32_arr("x", x), f32_arr("want", y), p, "let mut y = vec![0.0f32; want.len()];", f"pool::{kind}(&x, &mut y, &p);"]
    emit(c.name, "\n".join(body), f"close(&y, &want, {c.rtol}, {c.atol});")
    return True


def gen_global_pool(c, n, ins, outs, kind):
    x = ins[0]
    if x.dtype != np.float32:
        return False
    sp = int(np.prod(x.shape[2:]))
    body = [f32_arr("x", x), f32_arr("want", outs[0]), "let mut y = vec![0.0f32; want.len()];", f"pool::{kind}(&x, &mut y, {sp});"]
    emit(c.name, "\n".join(body), f"close(&y, &want, {c.rtol}, {c.atol});")
    return True


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
        m = f"resize::ResizeMode::Nearest(resize::NearestMode::{nmap[nm]})"
    elif mode == "linear":
        m = "resize::ResizeMode::Linear"
    else:
        m = f"resize::ResizeMode::Cubic {{ a: {float(a.get('cubic_coeff_a', -0.75))!r} }}"
    fl = lambda v: "[" + ", ".join(repr(float(t)) + "f32" for t in (list(v) + [1.0] * (6 - len(v)))) + "]"  # noqa: E731
    p = (
        f"let p = resize::ResizeParams {{ rank: {r}, in_shape: {dims(x.shape)}, out_shape: {dims(y.shape)}, scales: {fl(sc)}, "
        f"mode: {m}, coord: resize::CoordMode::{cmap[cm]}, roi_start: {fl(rs)}, roi_end: {fl(re)}, "
        f"extrapolation_value: {float(a.get('extrapolation_value', 0.0))!r}, exclude_outside: {'true' if a.get('exclude_outside', 0) else 'false'} }};"
    )
    body = [f32_arr("x", x), f32_arr("want", y), p, "let mut y = vec![0.0f32; want.len()];", "resize::resize(&x, &mut y, &p);"]
    emit(c.name, "\n".join(body), f"close(&y, &want, {c.rtol}, {c.atol});")
    return True


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
    p = (
        f"let p = gemm::GemmParams {{ m: {m}, n: {nn}, k: {k}, trans_a: {'true' if ta else 'false'}, trans_b: {'true' if tb else 'false'}, "
        f"alpha: {float(a.get('alpha', 1.0))!r}, beta: {float(a.get('beta', 1.0))!r}, c_stride_m: {csm}, c_stride_n: {csn}, activation: Activation::None }};"
    )
    body = [f32_arr("a", A), f32_arr("b", B), f32_arr("want", y), p, "let mut y = vec![0.0f32; want.len()];"]
    if C is not None:
        body += [f32_arr("c", C), "gemm::gemm(&a, &b, Some(&c), &mut y, &p);"]
    else:
        body.append("gemm::gemm(&a, &b, None, &mut y, &p);")
    emit(c.name, "\n".join(body), f"close(&y, &want, {c.rtol}, {c.atol});")
    return True


def gen_matmul(c, n, ins, outs):
    A, B = ins
    y = outs[0]
    if A.dtype != np.float32:
        return False
    # 1-D operands, as the generator handles them: [K] -> [1, K] / [K, 1].
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
    p = f"let p = matmul::MatMulParams {{ m: {m}, k: {k}, n: {nn}, batch_rank: {br}, out_batch: {dims(ob)}, a_batch: {dims(ab)}, b_batch: {dims(bb)} }};"
    body = [f32_arr("a", A), f32_arr("b", B), f32_arr("want", y), p, "let mut y = vec![0.0f32; want.len()];", "matmul::matmul(&a, &b, &mut y, &p);"]
    emit(c.name, "\n".join(body), f"close(&y, &want, {c.rtol}, {c.atol});")
    return True


def gen_softmax(c, n, ins, outs, kind):
    x = ins[0]
    if x.dtype != np.float32:
        return False
    a = attrs(n)
    opset = c.model.opset_import[0].version
    axis = a.get("axis", -1 if opset >= 13 else 1) % max(x.ndim, 1)
    if opset >= 13:
        outer, ax, inner = int(np.prod(x.shape[:axis])), x.shape[axis], int(np.prod(x.shape[axis + 1:]))
    else:
        outer, ax, inner = int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis:])), 1
    p = f"let p = softmax::SoftmaxParams {{ outer: {outer}, axis_len: {ax}, inner: {inner} }};"
    body = [f32_arr("x", x), f32_arr("want", outs[0]), p, "let mut y = vec![0.0f32; want.len()];", f"softmax::{kind}(&x, &mut y, &p);"]
    emit(c.name, "\n".join(body), f"close(&y, &want, {c.rtol}, {c.atol});")
    return True


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
    if rtype(x) is None or rtype(x)[0] == "bool":
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
    p = f"let p = reduce::ReduceParams {{ rank: {x.ndim}, in_shape: {dims(x.shape)}, axes: [{', '.join('true' if v else 'false' for v in mask)}] }};"
    return simple_case(c, [("x", x)], outs[0], [p, f"reduce::reduce(reduce::ReduceOp::{REDUCE[n.op_type]}, &x, &mut y, &p);"])


BINARY = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow", "Max": "Max", "Min": "Min", "PRelu": "PRelu", "Mod": "Mod"}
INT_TYPES = {np.int8: "i8", np.uint8: "u8", np.int16: "i16", np.uint16: "u16", np.int32: "i32", np.uint32: "u32", np.int64: "i64", np.uint64: "u64"}


def gen_binary(c, n, ins, outs):
    if len(ins) != 2 or ins[0].dtype != ins[1].dtype:
        return False
    A, B = ins
    y = outs[0]
    op = BINARY[n.op_type]
    if n.op_type == "Mod" and attrs(n).get("fmod", 0):
        op = "FMod"
    if A.dtype == np.float32:
        arrs = [f32_arr("a", A), f32_arr("b", B), f32_arr("want", y)]
        zero, cmp = "0.0f32", f"close(&y, &want, {c.rtol}, {c.atol});"
    elif A.dtype == np.float64:
        arrs = [any_arr("a", A), any_arr("b", B), any_arr("want", y)]
        zero, cmp = "0.0f64", check_for(y, c)
    elif A.dtype.type in INT_TYPES:
        t = INT_TYPES[A.dtype.type]
        arrs = [int_arr("a", A, t), int_arr("b", B, t), int_arr("want", y, t)]
        zero, cmp = f"0{t}", "assert_eq!(y, want);"
    else:
        return False
    p = f"let p = binary::BroadcastParams::new(&{list(A.shape)}, &{list(B.shape)}).unwrap();"
    body = arrs + [p, f"let mut y = vec![{zero}; want.len()];", f"binary::binary(binary::BinaryOp::{op}, &a, &b, &mut y, &p);"]
    emit(c.name, "\n".join(body), cmp)
    return True


def unary_op(n):
    a = attrs(n)
    t = n.op_type
    f = lambda k, d: repr(float(a.get(k, d))) + "f32"  # noqa: E731
    simple = {
        "Relu": "Act(Activation::Relu)",
        "Sigmoid": "Act(Activation::Sigmoid)",
        "HardSwish": "Act(Activation::HardSwish)",
        "Tanh": "Act(Activation::Tanh)",
        "Softplus": "Act(Activation::Softplus)",
        "Softsign": "Act(Activation::Softsign)",
        "Mish": "Act(Activation::Mish)",
        "Erf": "Erf",
        "Exp": "Exp",
        "Log": "Log",
        "Neg": "Neg",
        "Abs": "Abs",
        "Sqrt": "Sqrt",
        "Reciprocal": "Reciprocal",
        "Floor": "Floor",
        "Ceil": "Ceil",
        "Round": "Round",
        "Sign": "Sign",
        "Identity": "Identity",
        "Sin": "Sin",
        "Cos": "Cos",
        "Tan": "Tan",
        "Asin": "Asin",
        "Acos": "Acos",
        "Atan": "Atan",
        "Sinh": "Sinh",
        "Cosh": "Cosh",
        "Asinh": "Asinh",
        "Acosh": "Acosh",
        "Atanh": "Atanh",
    }
    if t in simple:
        return simple[t]
    if t == "LeakyRelu":
        return f"Act(Activation::LeakyRelu {{ alpha: {f('alpha', 0.01)} }})"
    if t == "Elu":
        return f"Act(Activation::Elu {{ alpha: {f('alpha', 1.0)} }})"
    if t == "Celu":
        return f"Act(Activation::Celu {{ alpha: {f('alpha', 1.0)} }})"
    if t == "ThresholdedRelu":
        return f"Act(Activation::ThresholdedRelu {{ alpha: {f('alpha', 1.0)} }})"
    if t == "HardSigmoid":
        return f"Act(Activation::HardSigmoid {{ alpha: {f('alpha', 0.2)}, beta: {f('beta', 0.5)} }})"
    if t == "Selu":
        return f"Act(Activation::Selu {{ alpha: {f('alpha', 1.67326319217681884765625)}, gamma: {f('gamma', 1.05070102214813232421875)} }})"
    if t == "Gelu":
        ap = a.get("approximate", b"none").decode()
        return "Act(Activation::GeluTanh)" if ap == "tanh" else "Act(Activation::Gelu)"
    return None


def gen_unary(c, n, ins, outs):
    x = ins[0]
    if x.dtype != np.float32 or len(ins) != 1:
        return False
    op = unary_op(n)
    if op is None:
        return False
    body = [f32_arr("x", x), f32_arr("want", outs[0]), "let mut y = vec![0.0f32; want.len()];", f"unary::unary(unary::UnaryOp::{op}, &x, &mut y);"]
    emit(c.name, "\n".join(body), f"close(&y, &want, {c.rtol}, {c.atol});")
    return True


def gen_clip(c, n, ins, outs):
    x = ins[0]
    if x.dtype != np.float32:
        t = rtype(x)
        if t is None or t[0] in ("bool", "f64"):
            return False
        lo = f"{int(ins[1])}{t[0]}" if len(ins) > 1 and ins[1] is not None else f"{t[0]}::MIN"
        hi = f"{int(ins[2])}{t[0]}" if len(ins) > 2 and ins[2] is not None else f"{t[0]}::MAX"
        return simple_case(c, [("x", x)], outs[0], [f"unary::unary_generic(unary::GenericUnaryOp::Clip {{ min: {lo}, max: {hi} }}, &x, &mut y);"])
    names = list(n.input)
    lo = float(ins[1]) if len(ins) > 1 and names[1] != "" else -math.inf
    hi = float(ins[2]) if len(ins) > 2 and names[2] != "" else math.inf
    _ = names
    fmt = lambda v: "f32::INFINITY" if v == math.inf else ("f32::NEG_INFINITY" if v == -math.inf else repr(v) + "f32")  # noqa: E731
    body = [
        f32_arr("x", x),
        f32_arr("want", outs[0]),
        "let mut y = vec![0.0f32; want.len()];",
        f"unary::unary(unary::UnaryOp::Act(Activation::Clip {{ min: {fmt(lo)}, max: {fmt(hi)} }}), &x, &mut y);",
    ]
    emit(c.name, "\n".join(body), f"close(&y, &want, {c.rtol}, {c.atol});")
    return True



RUST_TYPES = {
    np.float32: ("f32", "0.0f32"),
    np.float64: ("f64", "0.0f64"),
    np.int8: ("i8", "0i8"),
    np.uint8: ("u8", "0u8"),
    np.int16: ("i16", "0i16"),
    np.uint16: ("u16", "0u16"),
    np.int32: ("i32", "0i32"),
    np.uint32: ("u32", "0u32"),
    np.int64: ("i64", "0i64"),
    np.uint64: ("u64", "0u64"),
    np.bool_: ("bool", "false"),
}


def rtype(a):
    return RUST_TYPES.get(np.asarray(a).dtype.type)


def any_arr(name, a):
    """Rust `let` for an array of any supported dtype (None if unsupported)."""
    a = np.asarray(a)
    t = rtype(a)
    if t is None:
        return None
    if t[0] == "f32":
        return f32_arr(name, a)
    if t[0] == "f64":
        vals = ",".join(repr(float(v)) + "f64" if np.isfinite(v) else ("f64::NAN" if np.isnan(v) else ("f64::INFINITY" if v > 0 else "f64::NEG_INFINITY")) for v in a.ravel())
        return f"let {name}: Vec<f64> = vec![{vals}];"
    if t[0] == "bool":
        return f"let {name}: Vec<bool> = vec![{','.join('true' if v else 'false' for v in a.ravel())}];"
    return int_arr(name, a, t[0])


def check_for(a, c):
    t = rtype(a)
    if t[0] in ("f32",):
        return f"close(&y, &want, {c.rtol}, {c.atol});"
    if t[0] == "f64":
        return "for (a, b) in y.iter().zip(&want) { assert!(a == b || (a - b).abs() <= 1e-9 + 1e-6 * b.abs() || (a.is_nan() && b.is_nan()), \"{a} vs {b}\"); }"
    return "assert_eq!(y, want);"


def simple_case(c, arrays, out_arr, calls):
    """arrays: list of (name, ndarray); out_arr: expected output ndarray."""
    body = []
    for name, a in arrays:
        code = any_arr(name, a)
        if code is None:
            return False
        body.append(code)
    w = any_arr("want", out_arr)
    if w is None:
        return False
    body.append(w)
    body.append(f"let mut y = vec![{rtype(out_arr)[1]}; want.len()];")
    body += calls
    emit(c.name, "\n".join(body), check_for(out_arr, c))
    return True


def gen_transpose(c, n, ins, outs):
    x = ins[0]
    perm = list(attrs(n).get("perm", reversed(range(x.ndim))))
    p = f"let p = transpose::TransposeParams {{ rank: {x.ndim}, in_shape: {dims(x.shape)}, perm: {dims(perm)} }};"
    return simple_case(c, [("x", x)], outs[0], [p, "transpose::transpose(&x, &mut y, &p);"])


def gen_concat(c, n, ins, outs):
    axis = attrs(n)["axis"] % ins[0].ndim
    outer = int(np.prod(ins[0].shape[:axis]))
    arrays = [(f"x{i}", v) for i, v in enumerate(ins)]
    refs = ", ".join(f"&x{i}[..]" for i in range(len(ins)))
    return simple_case(c, arrays, outs[0], [f"concat::concat(&[{refs}], {outer}, &mut y);"])


def gen_split(c, n, ins, outs):
    x = ins[0]
    axis = attrs(n).get("axis", 0) % x.ndim
    outer = int(np.prod(x.shape[:axis]))
    body = [any_arr("x", x)]
    if body[0] is None:
        return False
    names = []
    for i, o in enumerate(outs):
        body.append(any_arr(f"want{i}", o))
        body.append(f"let mut y{i} = vec![{rtype(o)[1]}; want{i}.len()];")
        names.append(f"&mut y{i}[..]")
    body.append(f"concat::split(&x, {outer}, &mut [{', '.join(names)}]);")
    checks = "\n".join(f"assert_eq!(y{i}, want{i});" for i in range(len(outs)))
    emit(c.name, "\n".join(body), checks)
    return True


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
    p = f"let p = slice::SliceParams {{ rank: {r}, in_shape: {dims(x.shape)}, out_shape: {dims(od)}, starts: {dims(st)}, steps: [{', '.join(str(v) for v in sp + [1] * (6 - r))}] }};"
    return simple_case(c, [("x", x)], outs[0], [p, "slice::slice(&x, &mut y, &p);"])


def gen_gather(c, n, ins, outs):
    x, idx = ins
    axis = attrs(n).get("axis", 0) % x.ndim
    outer, al, inner = int(np.prod(x.shape[:axis])), x.shape[axis], int(np.prod(x.shape[axis + 1:]))
    p = f"let p = gather::GatherParams {{ outer: {outer}, axis_len: {al}, inner: {inner} }};"
    return simple_case(c, [("x", x), ("idx", idx.astype(np.int64))], outs[0], [p, "gather::gather(&x, &idx, &mut y, &p);"])


def gen_gather_elements(c, n, ins, outs):
    x, idx = ins
    axis = attrs(n).get("axis", 0) % x.ndim
    if any(idx.shape[d] != x.shape[d] for d in range(x.ndim) if d != axis):
        return False
    outer, al, inner = int(np.prod(x.shape[:axis])), x.shape[axis], int(np.prod(x.shape[axis + 1:]))
    p = f"let p = gather::GatherParams {{ outer: {outer}, axis_len: {al}, inner: {inner} }};"
    return simple_case(c, [("x", x), ("idx", idx.astype(np.int64))], outs[0], [p, f"gather::gather_elements(&x, &idx, &mut y, &p, {idx.shape[axis]});"])


def padded(shape, r):
    return [1] * (r - len(shape)) + list(shape)


def gen_where(c, n, ins, outs):
    cnd, x, y = ins
    r = outs[0].ndim
    p = (
        f"let p = where_::WhereParams {{ rank: {r}, out_shape: {dims(outs[0].shape)}, cond_shape: {dims(padded(cnd.shape, r))}, "
        f"x_shape: {dims(padded(x.shape, r))}, y_shape: {dims(padded(y.shape, r))} }};"
    )
    return simple_case(c, [("cnd", cnd), ("a", x), ("b", y)], outs[0], [p, "where_::where_(&cnd, &a, &b, &mut y, &p);"])


def gen_cast(c, n, ins, outs):
    if rtype(ins[0]) is None or rtype(outs[0]) is None:
        return False
    return simple_case(c, [("x", ins[0])], outs[0], ["cast::cast(&x, &mut y);"])


def gen_expand(c, n, ins, outs):
    x = ins[0]
    r = outs[0].ndim
    p = f"let p = binary::BroadcastParams {{ rank: {r}, out_shape: {dims(outs[0].shape)}, a_shape: {dims(padded(x.shape, r))}, b_shape: {dims([])} }};"
    return simple_case(c, [("x", x)], outs[0], [p, "binary::expand(&x, &mut y, &p);"])


def gen_batchnorm(c, n, ins, outs):
    if len(outs) != 1 or ins[0].dtype != np.float32:
        return False
    x = ins[0]
    a = attrs(n)
    sp = int(np.prod(x.shape[2:]))
    p = f"let p = norm::BatchNormParams {{ batch: {x.shape[0]}, channels: {x.shape[1]}, spatial: {sp}, epsilon: {float(a.get('epsilon', 1e-5))!r} }};"
    arrays = [("x", x), ("s", ins[1]), ("bb", ins[2]), ("m", ins[3]), ("v", ins[4])]
    return simple_case(c, arrays, outs[0], [p, "norm::batch_norm(&x, &mut y, &s, &bb, &m, &v, &p);"])


def gen_instnorm(c, n, ins, outs):
    x = ins[0]
    if x.dtype != np.float32:
        return False
    sp = int(np.prod(x.shape[2:]))
    p = f"let p = norm::InstanceNormParams {{ batch: {x.shape[0]}, channels: {x.shape[1]}, spatial: {sp}, epsilon: {float(attrs(n).get('epsilon', 1e-5))!r} }};"
    return simple_case(c, [("x", x), ("s", ins[1]), ("bb", ins[2])], outs[0], [p, "norm::instance_norm(&x, &mut y, &s, &bb, &p);"])


def gen_layernorm(c, n, ins, outs):
    x = ins[0]
    if x.dtype != np.float32:
        return False
    a = attrs(n)
    axis = a.get("axis", -1) % x.ndim
    outer, inner = int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis:]))
    sc = ins[1]
    b = ins[2] if len(ins) > 2 else None
    if sc.size != inner or (b is not None and b.size != inner):
        return False
    p = f"let p = norm::LayerNormParams {{ outer: {outer}, inner: {inner}, epsilon: {float(a.get('epsilon', 1e-5))!r} }};"
    arrays = [("x", x), ("s", sc)] + ([("bb", b)] if b is not None else [])
    call = "norm::layer_norm(&x, &mut y, &s, Some(&bb), &p);" if b is not None else "norm::layer_norm(&x, &mut y, &s, None, &p);"
    return simple_case(c, arrays, outs[0], [p, call])


def gen_lrn(c, n, ins, outs):
    x = ins[0]
    a = attrs(n)
    sp = int(np.prod(x.shape[2:]))
    p = (
        f"let p = norm::LrnParams {{ batch: {x.shape[0]}, channels: {x.shape[1]}, spatial: {sp}, size: {a['size']}, "
        f"alpha: {float(a.get('alpha', 1e-4))!r}, beta: {float(a.get('beta', 0.75))!r}, bias: {float(a.get('bias', 1.0))!r} }};"
    )
    return simple_case(c, [("x", x)], outs[0], [p, "norm::lrn(&x, &mut y, &p);"])


def gen_arg(c, n, ins, outs, kind):
    x = ins[0]
    a = attrs(n)
    axis = a.get("axis", 0) % x.ndim
    outer, al, inner = int(np.prod(x.shape[:axis])), x.shape[axis], int(np.prod(x.shape[axis + 1:]))
    p = f"let p = reduce::ArgParams {{ outer: {outer}, axis_len: {al}, inner: {inner}, select_last_index: {'true' if a.get('select_last_index', 0) else 'false'} }};"
    return simple_case(c, [("x", x)], outs[0], [p, f"reduce::{kind}(&x, &mut y, &p);"])


CMP = {"Equal": "Equal", "Less": "Less", "LessOrEqual": "LessOrEqual", "Greater": "Greater", "GreaterOrEqual": "GreaterOrEqual"}
LOGIC = {"And": "And", "Or": "Or", "Xor": "Xor"}


def gen_compare(c, n, ins, outs):
    A, B = ins
    p = f"let p = binary::BroadcastParams::new(&{list(A.shape)}, &{list(B.shape)}).unwrap();"
    if n.op_type in CMP:
        call = f"binary::compare(binary::CompareOp::{CMP[n.op_type]}, &a, &b, &mut y, &p);"
    else:
        call = f"binary::logical(binary::LogicalOp::{LOGIC[n.op_type]}, &a, &b, &mut y, &p);"
    return simple_case(c, [("a", A), ("b", B)], outs[0], [p, call])


def gen_not(c, n, ins, outs):
    return simple_case(c, [("x", ins[0])], outs[0], ["unary::not(&x, &mut y);"])


def gen_hardmax(c, n, ins, outs):
    x = ins[0]
    axis = attrs(n).get("axis", -1) % x.ndim
    outer, ax, inner = int(np.prod(x.shape[:axis])), x.shape[axis], int(np.prod(x.shape[axis + 1:]))
    p = f"let p = softmax::SoftmaxParams {{ outer: {outer}, axis_len: {ax}, inner: {inner} }};"
    return simple_case(c, [("x", x)], outs[0], [p, "softmax::hardmax(&x, &mut y, &p);"])


def gen_pad(c, n, ins, outs):
    x = ins[0]
    r = x.ndim
    pads = [int(v) for v in ins[1]]
    cv = ins[2] if len(ins) > 2 and ins[2] is not None else None
    axes = [int(v) % r for v in ins[3]] if len(ins) > 3 and ins[3] is not None else list(range(r))
    m = len(axes)
    pb = [0] * r
    for i, ax in enumerate(axes):
        pb[ax] = pads[i]
    mode = attrs(n).get("mode", b"constant").decode()
    mm = {"constant": "Constant", "reflect": "Reflect", "edge": "Edge", "wrap": "Wrap"}[mode]
    t = rtype(x)
    if t is None:
        return False
    if cv is not None and np.asarray(cv).size > 0:
        v = np.asarray(cv).ravel()[0]
        val = (repr(float(v)) + "f32") if t[0] == "f32" else f"{int(v)}{t[0]}"
    else:
        val = t[1]
    p = f"let p = pad::PadParams {{ rank: {r}, in_shape: {dims(x.shape)}, out_shape: {dims(outs[0].shape)}, pads_begin: [{', '.join(str(v) for v in pb + [0] * (6 - r))}], mode: pad::PadMode::{mm} }};"
    _ = m
    return simple_case(c, [("x", x)], outs[0], [p, f"pad::pad(&x, &mut y, {val}, &p);"])


def gen_bitshift(c, n, ins, outs):
    A, B = ins
    d = attrs(n)["direction"].decode()
    p = f"let p = binary::BroadcastParams::new(&{list(A.shape)}, &{list(B.shape)}).unwrap();"
    dd = "Left" if d == "LEFT" else "Right"
    return simple_case(c, [("a", A), ("b", B)], outs[0], [p, f"binary::bit_shift(binary::ShiftDirection::{dd}, &a, &b, &mut y, &p);"])


QTYPES = ("i8", "u8", "i16", "u16")


def quant_params(x, scale, a):
    axis = a.get("axis", 1) % max(x.ndim, 1)
    bs = a.get("block_size", 0)
    if scale.size == 1 and bs == 0:
        return f"quant::QuantParams::per_tensor({x.size})"
    outer, al, inner = int(np.prod(x.shape[:axis])), x.shape[axis], int(np.prod(x.shape[axis + 1:]))
    return f"quant::QuantParams {{ outer: {outer}, axis_len: {al}, inner: {inner}, block_size: {bs} }}"


def gen_quantize(c, n, ins, outs):
    x, sc = ins[0], ins[1]
    zp = ins[2] if len(ins) > 2 else None
    a = attrs(n)
    y = outs[0]
    if x.dtype != np.float32 or sc.dtype != np.float32 or rtype(y) is None or rtype(y)[0] not in QTYPES:
        return False
    if a.get("saturate", 1) != 1:
        return False
    arrays = [("x", x), ("sc", sc)] + ([("zp", zp)] if zp is not None else [])
    zarg = "Some(&zp)" if zp is not None else "None"
    return simple_case(c, arrays, y, [f"let p = {quant_params(x, sc, a)};", f"quant::quantize_linear(&x, &sc, {zarg}, &mut y, &p);"])


def gen_dequantize(c, n, ins, outs):
    x, sc = ins[0], ins[1]
    zp = ins[2] if len(ins) > 2 else None
    a = attrs(n)
    y = outs[0]
    t = rtype(x)
    if t is None or sc.dtype != np.float32 or y.dtype != np.float32:
        return False
    p = f"let p = {quant_params(x, sc, a)};"
    if t[0] == "i32":
        return simple_case(c, [("x", x), ("sc", sc)], y, [p, "quant::dequantize_linear_i32(&x, &sc, &mut y, &p);"])
    if t[0] not in QTYPES:
        return False
    arrays = [("x", x), ("sc", sc)] + ([("zp", zp)] if zp is not None else [])
    zarg = "Some(&zp)" if zp is not None else "None"
    return simple_case(c, arrays, y, [p, f"quant::dequantize_linear(&x, &sc, {zarg}, &mut y, &p);"])


def gen_dynquant(c, n, ins, outs):
    x = ins[0]
    y, ys, yz = outs
    body = [any_arr("x", x), any_arr("want", y), "let mut y = vec![0u8; want.len()];", "let (s, z) = quant::dynamic_quantize_linear(&x, &mut y);"]
    check = f"assert_eq!(y, want);\nassert_eq!(z, {int(yz)}u8);\nassert!((s - f32::from_bits(0x{np.float32(ys).view(np.uint32):08x})).abs() <= 1e-7 * s.abs());"
    emit(c.name, "\n".join(body), check)
    return True


def mm_params(A, B, y):
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
    return f"matmul::MatMulParams {{ m: {m}, k: {k}, n: {nn}, batch_rank: {br}, out_batch: {dims(ob)}, a_batch: {dims(ab)}, b_batch: {dims(bb)} }}"


def gen_matmul_integer(c, n, ins, outs):
    A, B = ins[0], ins[1]
    az = ins[2] if len(ins) > 2 and ins[2] is not None else np.array(0)
    bz = ins[3] if len(ins) > 3 and ins[3] is not None else np.array(0)
    if az.size != 1 or bz.size != 1 or rtype(A)[0] not in QTYPES or rtype(B)[0] not in QTYPES:
        return False
    return simple_case(c, [("a", A), ("b", B)], outs[0], [f"let p = {mm_params(A, B, outs[0])};", f"quant::matmul_integer(&a, &b, {int(az.ravel()[0])}, {int(bz.ravel()[0])}, &mut y, &p);"])


def gen_qlinear_matmul(c, n, ins, outs):
    A, As, Az, B, Bs, Bz, Ys, Yz = ins
    if any(v.size != 1 for v in (As, Az, Bs, Bz, Ys, Yz)) or As.dtype != np.float32:
        return False
    if rtype(A)[0] not in QTYPES or rtype(B)[0] not in QTYPES or rtype(outs[0])[0] not in QTYPES:
        return False
    f = lambda v: "f32::from_bits(0x%08x)" % np.asarray(v, dtype=np.float32).ravel().view(np.uint32)[0]  # noqa: E731
    i = lambda v: str(int(np.asarray(v).ravel()[0]))  # noqa: E731
    q = (
        f"let q = quant::QLinearMatMulParams {{ mm: {mm_params(A, B, outs[0])}, a_scale: {f(As)}, a_zero_point: {i(Az)}, "
        f"b_scale: {f(Bs)}, b_zero_point: {i(Bz)}, y_scale: {f(Ys)}, y_zero_point: {i(Yz)} }};"
    )
    return simple_case(c, [("a", A), ("b", B)], outs[0], [q, "quant::qlinear_matmul(&a, &b, &mut y, &q);"])


def conv_params(x, w, y, a):
    nsp = x.ndim - 2
    k = list(a.get("kernel_shape", w.shape[2:]))
    s = list(a.get("strides", [1] * nsp))
    d = list(a.get("dilations", [1] * nsp))
    g = a.get("group", 1)
    pb, pe = resolve_pads(a, nsp, x.shape[2:], y.shape[2:], k, s, d)
    return (
        f"conv::ConvParams {{ batch: {x.shape[0]}, in_channels: {x.shape[1]}, out_channels: {w.shape[0]}, group: {g}, "
        f"in_spatial: {arr3(pad3(x.shape[2:], 1))}, out_spatial: {arr3(pad3(y.shape[2:], 1))}, kernel: {arr3(pad3(k, 1))}, "
        f"strides: {arr3(pad3(s, 1))}, dilations: {arr3(pad3(d, 1))}, pads_begin: {arr3(pad3(pb, 0))}, pads_end: {arr3(pad3(pe, 0))}, "
        f"activation: Activation::None }}"
    )


def gen_conv_integer(c, n, ins, outs):
    x, w = ins[0], ins[1]
    xz = ins[2] if len(ins) > 2 and ins[2] is not None else np.array(0)
    wz = ins[3] if len(ins) > 3 and ins[3] is not None else np.array([0])
    if rtype(x)[0] not in QTYPES or rtype(w)[0] not in QTYPES or xz.size != 1:
        return False
    wzs = "vec![" + ", ".join(str(int(v)) for v in np.asarray(wz).ravel()) + "]"
    return simple_case(
        c,
        [("x", x), ("w", w)],
        outs[0],
        [f"let p = {conv_params(x, w, outs[0], attrs(n))};", f"let wz: Vec<i32> = {wzs};", f"quant::conv_integer(&x, {int(xz.ravel()[0])}, &w, &wz, &mut y, &p);"],
    )


def gen_qlinear_conv(c, n, ins, outs):
    x, xs, xz, w, ws, wz, ys, yz = ins[:8]
    b = ins[8] if len(ins) > 8 else None
    if rtype(x)[0] not in QTYPES or rtype(w)[0] not in QTYPES or xs.dtype != np.float32:
        return False
    f = lambda v: "f32::from_bits(0x%08x)" % np.asarray(v, dtype=np.float32).ravel().view(np.uint32)[0]  # noqa: E731
    i = lambda v: str(int(np.asarray(v).ravel()[0]))  # noqa: E731
    q = (
        f"let q = quant::QLinearConvParams {{ conv: {conv_params(x, w, outs[0], attrs(n))}, x_scale: {f(xs)}, x_zero_point: {i(xz)}, "
        f"y_scale: {f(ys)}, y_zero_point: {i(yz)} }};"
    )
    wzs = "vec![" + ", ".join(str(int(v)) for v in np.asarray(wz).ravel()) + "]"
    arrays = [("x", x), ("w", w), ("ws", np.asarray(ws, dtype=np.float32).ravel())] + ([("bias", b)] if b is not None else [])
    barg = "Some(&bias)" if b is not None else "None"
    return simple_case(c, arrays, outs[0], [q, f"let wz: Vec<i32> = {wzs};", f"quant::qlinear_conv(&x, &w, &ws, &wz, {barg}, &mut y, &q);"])


def gen_variadic(c, n, ins, outs):
    y = outs[0]
    r = y.ndim
    t = rtype(y)
    if t is None or t[0] == "bool" or any(rtype(v) != t for v in ins):
        return False
    arrays = [(f"x{i}", v) for i, v in enumerate(ins)]
    shapes = ", ".join(dims(padded(v.shape, r)) for v in ins)
    refs = ", ".join(f"&x{i}[..]" for i in range(len(ins)))
    call = f"binary::variadic(binary::VariadicOp::{n.op_type}, &[{refs}], &[{shapes}], {r}, &{dims(y.shape)}, &mut y);"
    return simple_case(c, arrays, y, [call])


def gen_binary_or_variadic(c, n, ins, outs):
    if len(ins) == 2 and ins[0].dtype == ins[1].dtype and gen_binary(c, n, ins, outs):
        return True
    return gen_variadic(c, n, ins, outs)


def gen_tile(c, n, ins, outs):
    x, rep = ins
    p = f"let p = transpose::TileParams {{ rank: {x.ndim}, in_shape: {dims(x.shape)}, repeats: {dims(rep)} }};"
    return simple_case(c, [("x", x)], outs[0], [p, "transpose::tile(&x, &mut y, &p);"])


def gen_groupnorm(c, n, ins, outs):
    x, sc, b = ins
    a = attrs(n)
    g = a["num_groups"]
    C = x.shape[1]
    if sc.size == g and g != C:
        sc, b = np.repeat(sc, C // g), np.repeat(b, C // g)
    sp = int(np.prod(x.shape[2:]))
    p = f"let p = norm::GroupNormParams {{ batch: {x.shape[0]}, channels: {C}, groups: {g}, spatial: {sp}, epsilon: {float(a.get('epsilon', 1e-5))!r} }};"
    return simple_case(c, [("x", x), ("s", sc), ("bb", b)], outs[0], [p, "norm::group_norm(&x, &mut y, &s, &bb, &p);"])


def gen_mvn(c, n, ins, outs):
    x = ins[0]
    axes = [v % x.ndim for v in attrs(n).get("axes", [0, 2, 3])]
    mask = ", ".join("true" if d in axes else "false" for d in range(6))
    p = f"let p = norm::MvnParams {{ rank: {x.ndim}, shape: {dims(x.shape)}, axes: [{mask}] }};"
    return simple_case(c, [("x", x)], outs[0], [p, "norm::mean_variance_norm(&x, &mut y, &p);"])


def gen_lpnorm(c, n, ins, outs):
    x = ins[0]
    a = attrs(n)
    axis = a.get("axis", -1) % x.ndim
    outer, al, inner = int(np.prod(x.shape[:axis])), x.shape[axis], int(np.prod(x.shape[axis + 1:]))
    p = f"let p = norm::LpNormParams {{ outer: {outer}, axis_len: {al}, inner: {inner}, p: {a.get('p', 2)} }};"
    return simple_case(c, [("x", x)], outs[0], [p, "norm::lp_norm(&x, &mut y, &p);"])


def gen_rnn(c, n, ins, outs):
    a = attrs(n)
    if a.get("layout", 0) != 0:
        return False
    t = n.op_type
    x, w, r = ins[0], ins[1], ins[2]
    get = lambda i: ins[i] if len(ins) > i and ins[i] is not None else None  # noqa: E731
    b, sl, ih = get(3), get(4), get(5)
    ic, pp = (get(6), get(7)) if t == "LSTM" else (None, None)
    hn = a["hidden_size"]
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
        m = {
            "Sigmoid": "Activation::Sigmoid",
            "Tanh": "Activation::Tanh",
            "Relu": "Activation::Relu",
            "Softsign": "Activation::Softsign",
            "Softplus": "Activation::Softplus",
            "LeakyRelu": f"Activation::LeakyRelu {{ alpha: {al if al is not None else 0.01}f32 }}",
            "ThresholdedRelu": f"Activation::ThresholdedRelu {{ alpha: {al if al is not None else 1.0}f32 }}",
            "HardSigmoid": f"Activation::HardSigmoid {{ alpha: {al if al is not None else 0.2}f32, beta: {be if be is not None else 0.5}f32 }}",
            "Elu": f"Activation::Elu {{ alpha: {al if al is not None else 1.0}f32 }}",
        }.get(name)
        if m is None:
            return False
        rs_acts.append(m)
    groups = [rs_acts[i * per:(i + 1) * per] for i in range(dirs)]
    groups = [g + ["Activation::None"] * (3 - len(g)) for g in groups]
    if dirs == 1:
        groups.append(groups[0])
    acts_s = "[" + ", ".join("[" + ", ".join(g) + "]" for g in groups) + "]"
    kind = {"RNN": "RnnKind::Rnn", "GRU": f"RnnKind::Gru {{ linear_before_reset: {'true' if a.get('linear_before_reset', 0) else 'false'} }}", "LSTM": f"RnnKind::Lstm {{ input_forget: {'true' if a.get('input_forget', 0) else 'false'} }}"}[t]
    dirn = {"forward": "Forward", "reverse": "Reverse", "bidirectional": "Bidirectional"}[direction]
    clip = a.get("clip", None)
    clip_s = f"{float(clip)!r}f32" if clip is not None else "f32::INFINITY"
    seq, bn, isz = x.shape
    p = (
        f"let p = rnn::RnnParams {{ kind: rnn::{kind}, direction: rnn::RnnDirection::{dirn}, seq_len: {seq}, batch: {bn}, "
        f"input_size: {isz}, hidden: {hn}, clip: {clip_s}, activations: {acts_s} }};"
    )
    body = [f32_arr("x", x), f32_arr("w", w), f32_arr("r", r), p]
    opt = lambda v, nm: (body.append(f32_arr(nm, v)) or f"Some(&{nm}[..])") if v is not None else "None"  # noqa: E731
    bs, ihs, ics, pps = opt(b, "bias"), opt(ih, "ih"), opt(ic, "ic"), opt(pp, "pp")
    if sl is not None:
        body.append(f"let sl: Vec<i32> = vec![{', '.join(str(int(v)) for v in sl)}];")
        sls = "Some(&sl[..])"
    else:
        sls = "None"
    body.append(f"let inp = rnn::RnnInputs {{ x: &x, w: &w, r: &r, b: {bs}, sequence_lens: {sls}, initial_h: {ihs}, initial_c: {ics}, peepholes: {pps} }};")
    body.append(f"let mut y = vec![0.0f32; {seq * dirs * bn * hn}];")
    body.append(f"let mut yh = vec![0.0f32; {dirs * bn * hn}];")
    body.append(f"let mut yc = vec![0.0f32; {dirs * bn * hn}];")
    body.append(f"let mut scratch = vec![0.0f32; {2 * bn * hn}];")
    body.append("rnn::rnn(&inp, Some(&mut y), &mut yh, Some(&mut yc), &mut scratch, &p);")
    checks = []
    names = list(n.output)
    targets = {0: "y", 1: "yh", 2: "yc"}
    it = iter(outs)
    for i, name in enumerate(names):
        if name == "":
            continue
        o = next(it)
        body.append(f32_arr(f"want{i}", o))
        checks.append(f"close(&{targets[i]}, &want{i}, {c.rtol}, {c.atol});")
    emit(c.name, "\n".join(body), "\n".join(checks))
    return True


def axis3(x, axis):
    axis %= max(x.ndim, 1)
    return int(np.prod(x.shape[:axis])), x.shape[axis], int(np.prod(x.shape[axis + 1:]))


def gen_rmsnorm(c, n, ins, outs):
    x, sc = ins[0], ins[1]
    if x.dtype != np.float32:
        return False
    a = attrs(n)
    axis = a.get("axis", -1) % x.ndim
    outer, inner = int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis:]))
    if sc.size != inner:
        sc = np.broadcast_to(sc, x.shape[axis:]).ravel()
    p = f"let p = norm::LayerNormParams {{ outer: {outer}, inner: {inner}, epsilon: {float(a.get('epsilon', 1e-5))!r} }};"
    return simple_case(c, [("x", x), ("s", sc)], outs[0], [p, "norm::rms_norm(&x, &mut y, &s, &p);"])


def gen_cumsum(c, n, ins, outs):
    x, ax = ins
    a = attrs(n)
    o, l, i = axis3(x, int(np.asarray(ax).ravel()[0]))
    ex, rv = ("true" if a.get("exclusive", 0) else "false"), ("true" if a.get("reverse", 0) else "false")
    return simple_case(c, [("x", x)], outs[0], [f"let p = misc::AxisParams {{ outer: {o}, axis_len: {l}, inner: {i} }};", f"misc::cumsum(&x, &mut y, &p, {ex}, {rv});"])


def gen_trilu(c, n, ins, outs):
    x = ins[0]
    k = int(np.asarray(ins[1]).ravel()[0]) if len(ins) > 1 and ins[1] is not None else 0
    up = "true" if attrs(n).get("upper", 1) else "false"
    rows, cols = x.shape[-2:]
    batch = int(np.prod(x.shape[:-2]))
    return simple_case(c, [("x", x)], outs[0], [f"misc::trilu(&x, &mut y, {batch}, {rows}, {cols}, {k}, {up});"])


def gen_bitwise(c, n, ins, outs):
    if n.op_type == "BitwiseNot":
        return simple_case(c, [("x", ins[0])], outs[0], ["misc::bitwise_not(&x, &mut y);"])
    A, B = ins
    op = {"BitwiseAnd": "And", "BitwiseOr": "Or", "BitwiseXor": "Xor"}[n.op_type]
    p = f"let p = binary::BroadcastParams::new(&{list(A.shape)}, &{list(B.shape)}).unwrap();"
    return simple_case(c, [("a", A), ("b", B)], outs[0], [p, f"misc::bitwise(misc::BitwiseOp::{op}, &a, &b, &mut y, &p);"])


def gen_shrink(c, n, ins, outs):
    x = ins[0]
    if x.dtype != np.float32:
        return False
    a = attrs(n)
    return simple_case(c, [("x", x)], outs[0], [f"unary::unary(unary::UnaryOp::Shrink {{ lambd: {float(a.get('lambd', 0.5))!r}, bias: {float(a.get('bias', 0.0))!r} }}, &x, &mut y);"])


def gen_d2s(c, n, ins, outs):
    x = ins[0]
    a = attrs(n)
    crd = "true" if a.get("mode", b"DCR").decode() == "CRD" else "false"
    p = f"let p = misc::SpaceDepthParams {{ batch: {x.shape[0]}, channels: {x.shape[1]}, height: {x.shape[2]}, width: {x.shape[3]}, block: {a['blocksize']}, crd: {crd} }};"
    f = "depth_to_space" if n.op_type == "DepthToSpace" else "space_to_depth"
    return simple_case(c, [("x", x)], outs[0], [p, f"misc::{f}(&x, &mut y, &p);"])


def gen_onehot(c, n, ins, outs):
    idx, depth, vals = ins
    d = int(np.asarray(depth).ravel()[0])
    axis = attrs(n).get("axis", -1)
    r = idx.ndim + 1
    axis %= r
    outer, inner = int(np.prod(idx.shape[:axis])), int(np.prod(idx.shape[axis:]))
    t = rtype(outs[0])
    if t is None or t[0] not in ("f32", "i32", "i64"):
        return False
    off, on = vals.ravel()[0], vals.ravel()[1]
    lit = (lambda v: repr(float(v)) + "f32") if t[0] == "f32" else (lambda v: f"{int(v)}{t[0]}")
    return simple_case(c, [("idx", np.asarray(idx).astype(np.int64))], outs[0], [f"misc::one_hot(&idx, &mut y, {outer}, {d}, {inner}, {lit(off)}, {lit(on)});"])


def red_name(n):
    r = attrs(n).get("reduction", b"none").decode()
    return {"none": "None", "add": "Add", "mul": "Mul", "max": "Max", "min": "Min"}[r]


def gen_scatter_elements(c, n, ins, outs):
    x, idx, upd = ins
    axis = attrs(n).get("axis", 0) % x.ndim
    if any(idx.shape[d] != x.shape[d] for d in range(x.ndim) if d != axis) or rtype(x)[0] == "bool":
        return False
    o, l, i = axis3(x, axis)
    p = f"let p = misc::AxisParams {{ outer: {o}, axis_len: {l}, inner: {i} }};"
    return simple_case(c, [("x", x), ("idx", idx.astype(np.int64)), ("u", upd)], outs[0], [p, f"misc::scatter_elements(&x, &idx, &u, &mut y, &p, {idx.shape[axis]}, misc::ScatterReduction::{red_name(n)});"])


def gen_scatter_nd(c, n, ins, outs):
    x, idx, upd = ins
    if rtype(x)[0] == "bool":
        return False
    xd = "&[" + ", ".join(str(v) for v in x.shape) + "]"
    return simple_case(c, [("x", x), ("idx", idx.astype(np.int64)), ("u", upd)], outs[0], [f"misc::scatter_nd(&x, &idx, &u, &mut y, {xd}, {idx.shape[-1]}, misc::ScatterReduction::{red_name(n)});"])


def gen_gather_nd(c, n, ins, outs):
    x, idx = ins
    if attrs(n).get("batch_dims", 0) != 0:
        return False
    xd = "&[" + ", ".join(str(v) for v in x.shape) + "]"
    return simple_case(c, [("x", x), ("idx", idx.astype(np.int64))], outs[0], [f"misc::gather_nd(&x, &idx, &mut y, {xd}, {idx.shape[-1]});"])


def gen_topk(c, n, ins, outs):
    x, k = ins
    a = attrs(n)
    if not a.get("sorted", 1):
        return False
    kk = int(np.asarray(k).ravel()[0])
    o, l, i = axis3(x, a.get("axis", -1))
    body = [any_arr("x", x), any_arr("want", outs[0]), any_arr("want_i", outs[1])]
    if None in body:
        return False
    body += [
        f"let p = misc::AxisParams {{ outer: {o}, axis_len: {l}, inner: {i} }};",
        f"let mut y = vec![{rtype(outs[0])[1]}; want.len()];",
        "let mut yi = vec![0i64; want_i.len()];",
        f"misc::top_k(&x, &mut y, &mut yi, &p, {kk}, {'true' if a.get('largest', 1) else 'false'});",
    ]
    emit(c.name, "\n".join(body), check_for(outs[0], c) + "\nassert_eq!(yi, want_i);")
    return True


def gen_lppool(c, n, ins, outs):
    x = ins[0]
    y = outs[0]
    if x.dtype != np.float32:
        return False
    a = attrs(n)
    nsp = x.ndim - 2
    k = list(a["kernel_shape"])
    s = list(a.get("strides", [1] * nsp))
    d = list(a.get("dilations", [1] * nsp))
    pb, pe = resolve_pads(a, nsp, x.shape[2:], y.shape[2:], k, s, d)
    p = (
        f"let p = pool::PoolParams {{ batch: {x.shape[0]}, channels: {x.shape[1]}, "
        f"in_spatial: {arr3(pad3(x.shape[2:], 1))}, out_spatial: {arr3(pad3(y.shape[2:], 1))}, kernel: {arr3(pad3(k, 1))}, "
        f"strides: {arr3(pad3(s, 1))}, dilations: {arr3(pad3(d, 1))}, pads_begin: {arr3(pad3(pb, 0))}, pads_end: {arr3(pad3(pe, 0))}, "
        f"count_include_pad: false }};"
    )
    return simple_case(c, [("x", x)], y, [p, f"pool::lp_pool(&x, &mut y, &p, {float(a.get('p', 2))!r});"])


def gen_isnan_isinf(c, n, ins, outs):
    x = ins[0]
    if x.dtype != np.float32:
        return False
    if n.op_type == "IsNaN":
        return simple_case(c, [("x", x)], outs[0], ["unary::is_nan(&x, &mut y);"])
    a = attrs(n)
    dn, dp = ("true" if a.get("detect_negative", 1) else "false"), ("true" if a.get("detect_positive", 1) else "false")
    return simple_case(c, [("x", x)], outs[0], [f"unary::is_inf(&x, &mut y, {dn}, {dp});"])


def gen_castlike(c, n, ins, outs):
    return gen_cast(c, n, ins[:1], outs)

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
}
for k in REDUCE:
    GEN[k] = gen_reduce
GEN.update(
    {
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
        "Max": gen_binary_or_variadic,
        "Min": gen_binary_or_variadic,
        "Tile": gen_tile,
        "GroupNormalization": gen_groupnorm,
        "MeanVarianceNormalization": gen_mvn,
        "LpNormalization": gen_lpnorm,
        "RNN": gen_rnn,
        "GRU": gen_rnn,
        "LSTM": gen_rnn,
        "QLinearConv": gen_qlinear_conv,
    }
)
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


def gen_upsample(c, n, ins, outs):
    x, sc = ins
    y = outs[0]
    mode = attrs(n).get("mode", b"nearest").decode()
    m = "resize::ResizeMode::Nearest(resize::NearestMode::Floor)" if mode == "nearest" else "resize::ResizeMode::Linear"
    fl = "[" + ", ".join(repr(float(t)) + "f32" for t in (list(sc) + [1.0] * (6 - len(sc)))) + "]"
    p = (
        f"let p = resize::ResizeParams {{ rank: {x.ndim}, in_shape: {dims(x.shape)}, out_shape: {dims(y.shape)}, scales: {fl}, "
        f"mode: {m}, coord: resize::CoordMode::Asymmetric, roi_start: [0.0; 6], roi_end: [1.0; 6], extrapolation_value: 0.0, exclude_outside: false }};"
    )
    return simple_case(c, [("x", x)], y, [p, "resize::resize(&x, &mut y, &p);"])

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


def main():
    cases = node.collect_testcases(None)
    count = 0
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
            ok = False
            skipped.append((c.name, f"generator error: {e}"))
            continue
        if ok:
            count += 1
        else:
            skipped.append((c.name, "not covered by these kernels"))
    w = sys.stdout.write
    w("//! ONNX backend node test cases, inlined. GENERATED by gen_onnx_cases.py — do not edit.\n")
    w(f"//! {count} cases. Skipped:\n")
    for name, why in skipped:
        w(f"//! - {name}: {why}\n")
    w("\n#![allow(clippy::all, clippy::pedantic, unused_imports, non_snake_case)]\n")
    w("use zant_kernels::reference::*;\nuse zant_kernels::reference::activation::Activation;\nuse zant_kernels::reference::rnn::RnnKind;\n\n")
    w("fn bits(b: &[u32]) -> Vec<f32> {\n    b.iter().map(|&v| f32::from_bits(v)).collect()\n}\n\n")
    w(
        "/// Decodes base64 (standard alphabet, padded) little-endian f32 data.\n"
        "fn b64_f32(s: &str) -> Vec<f32> {\n"
        "    let val = |c: u8| -> u32 { match c { b'A'..=b'Z' => (c - b'A') as u32, b'a'..=b'z' => (c - b'a' + 26) as u32, b'0'..=b'9' => (c - b'0' + 52) as u32, b'+' => 62, b'/' => 63, _ => 0 } };\n"
        "    let mut bytes = Vec::new();\n"
        "    for chunk in s.as_bytes().chunks(4) {\n"
        "        let n = chunk.iter().fold(0u32, |acc, &c| (acc << 6) | val(c));\n"
        "        let pad = chunk.iter().filter(|&&c| c == b'=').count();\n"
        "        let b = [(n >> 16) as u8, (n >> 8) as u8, n as u8];\n"
        "        bytes.extend_from_slice(&b[..3 - pad]);\n"
        "    }\n"
        "    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()\n"
        "}\n\n"
    )
    w(
        "fn close(y: &[f32], want: &[f32], rtol: f64, atol: f64) {\n"
        "    assert_eq!(y.len(), want.len());\n"
        "    for (i, (&a, &b)) in y.iter().zip(want).enumerate() {\n"
        "        if a.is_nan() && b.is_nan() { continue; }\n"
        "        if a == b { continue; }\n"
        "        let (a64, b64) = (a as f64, b as f64);\n"
        "        assert!((a64 - b64).abs() <= atol + rtol * b64.abs(), \"element {i}: got {a}, want {b}\");\n"
        "    }\n}\n\n"
    )
    for t in out:
        w(t)
        w("\n")


main()
