//! The ONNX backend node cases that the compiler-level node tests
//! (`codegen/tests/onnx_node_tests.rs`) do not reach, run against the
//! reference kernels. The cases are data, `tests/data/onnx_node_cases.json`,
//! written by `tests/gen_onnx_cases.py` (its docstring describes the format).
//! One match arm per kernel entry point builds the kernel's own parameter
//! types from a case's `params`; every case runs and all failures are
//! reported together.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::Path;

use base64::Engine as _;
use serde::de::{DeserializeOwned, IntoDeserializer};
use serde::Deserialize;
use serde_json::Value;
use zant_kernels::reference::activation::Activation;
use zant_kernels::reference::*;

type Res<T> = Result<T, String>;
/// The outputs a kernel produced, by the names the data file gives them.
type Outs = Vec<(String, Data)>;

/// An element type of the tensors in the data file.
trait Elem: Copy + Default + PartialEq + Debug + DeserializeOwned {
    fn slice(d: &Data) -> Option<&[Self]>;
    fn wrap(v: Vec<Self>) -> Data;
    fn from_le(b: &[u8]) -> Self;
    /// Equal, or within `|got - want| <= atol + rtol * |want|` (NaN equals NaN).
    fn near(self, want: Self, tol: Option<(f64, f64)>) -> bool;
}

macro_rules! elems {
    ($($t:ident),*) => {
        /// Tensor data of one element type.
        #[allow(non_camel_case_types)]
        enum Data { $($t(Vec<$t>),)* bool(Vec<bool>) }
        $(impl Elem for $t {
            fn slice(d: &Data) -> Option<&[Self]> { match d { Data::$t(v) => Some(v), _ => None } }
            fn wrap(v: Vec<Self>) -> Data { Data::$t(v) }
            fn from_le(b: &[u8]) -> Self { <$t>::from_le_bytes(b.try_into().expect("chunk size")) }
            #[allow(clippy::eq_op)]
            fn near(self, want: Self, tol: Option<(f64, f64)>) -> bool {
                let (a, b) = (self as f64, want as f64);
                self == want
                    || tol.is_some_and(|(r, t)| (a != a && b != b) || (a - b).abs() <= t + r * b.abs())
            }
        })*
        impl Data {
            fn decode(ty: &str, v: &Value) -> Res<Data> {
                match ty {
                    $(stringify!($t) => Ok(Data::$t(decode(v)?)),)*
                    "bool" => Ok(Data::bool(decode(v)?)),
                    _ => Err(format!("unknown element type {ty:?}")),
                }
            }
            fn len(&self) -> usize { match self { $(Data::$t(v) => v.len(),)* Data::bool(v) => v.len() } }
            fn name(&self) -> &'static str {
                match self { $(Data::$t(_) => stringify!($t),)* Data::bool(_) => "bool" }
            }
        }
    };
}
elems!(f32, f64, i8, u8, i16, u16, i32, u32, i64, u64);

impl Elem for bool {
    fn slice(d: &Data) -> Option<&[Self]> {
        match d {
            Data::bool(v) => Some(v),
            _ => None,
        }
    }
    fn wrap(v: Vec<Self>) -> Data {
        Data::bool(v)
    }
    fn from_le(b: &[u8]) -> Self {
        b[0] != 0
    }
    fn near(self, want: Self, _: Option<(f64, f64)>) -> bool {
        self == want
    }
}

/// Floats are base64 of their little-endian bytes; integers and bools JSON arrays.
fn decode<E: Elem>(v: &Value) -> Res<Vec<E>> {
    let Value::String(s) = v else {
        return Vec::<E>::deserialize(v).map_err(|e| e.to_string());
    };
    let bytes = base64::engine::general_purpose::STANDARD.decode(s);
    let bytes = bytes.map_err(|e| e.to_string())?;
    let n = size_of::<E>();
    if bytes.len() % n != 0 {
        return Err(format!("{} bytes are not {n}-byte elements", bytes.len()));
    }
    Ok(bytes.chunks_exact(n).map(E::from_le).collect())
}

/// A typed tensor; expected outputs may carry a tolerance `(rtol, atol)`.
struct Tensor {
    shape: Vec<usize>,
    data: Data,
    tol: Option<(f64, f64)>,
}

fn tensor(v: &Value) -> Res<Tensor> {
    let shape: Vec<usize> = field(v, "shape")?;
    let data = Data::decode(&field::<String>(v, "type")?, &v["data"])?;
    if data.len() != shape.iter().product::<usize>() {
        return Err(format!("{} elements for shape {shape:?}", data.len()));
    }
    let tol = v
        .get("rtol")
        .map(|_| Ok::<_, String>((field(v, "rtol")?, field(v, "atol")?)));
    Ok(Tensor {
        shape,
        data,
        tol: tol.transpose()?,
    })
}

/// Field `k` of a JSON object as any type serde reads; the strings "inf",
/// "-inf" and "nan" stand for those float values.
fn field<D: DeserializeOwned>(p: &Value, k: &str) -> Res<D> {
    let v = &p[k];
    let nonfinite = v
        .as_str()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|f| !f.is_finite());
    let r = match nonfinite {
        Some(f) => D::deserialize(f.into_deserializer())
            .map_err(|e: serde::de::value::Error| e.to_string()),
        None => D::deserialize(v).map_err(|e| e.to_string()),
    };
    r.map_err(|e| format!("{k}: {e}"))
}

/// The value among `all` whose kernel-side `Debug` name is `name`.
fn pick<T: Debug + Copy>(name: &str, all: &[T]) -> Res<T> {
    let found = all.iter().copied().find(|v| format!("{v:?}") == name);
    found.ok_or_else(|| format!("unknown variant {name:?}, expected one of {all:?}"))
}

/// The unit variant of kernel enum `$e` that the string field `$k` names.
macro_rules! variant {
    ($p:expr, $k:literal, $e:ty: [$($v:ident),+ $(,)?]) => {
        pick(&field::<String>($p, $k)?, &[$(<$e>::$v),+]).map_err(|e| format!("{}: {e}", $k))?
    };
}

/// A kernel parameter struct from the JSON fields of the same names; the
/// fields after `;` are given explicitly.
macro_rules! build {
    ($p:expr => $($ty:ident)::+ { $($f:ident),* $(; $($g:ident: $e:expr),*)? }) => {
        $($ty)::+ { $($f: field($p, stringify!($f))?,)* $($($g: $e,)*)? }
    };
}

/// Runs `$body` with the type alias `$T` set to the element type named `$ty`.
macro_rules! typed {
    ($ty:expr, [$($t:ident),+], $T:ident => $body:expr) => {
        match $ty {
            $(stringify!($t) => { type $T = $t; $body })+
            other => return Err(format!("element type {other} is not supported here")),
        }
    };
    ($ty:expr, num, $T:ident => $body:expr) => {
        typed!($ty, [f32, f64, i8, u8, i16, u16, i32, u32, i64, u64], $T => $body)
    };
    ($ty:expr, any, $T:ident => $body:expr) => {
        typed!($ty, [f32, f64, i8, u8, i16, u16, i32, u32, i64, u64, bool], $T => $body)
    };
    ($ty:expr, int, $T:ident => $body:expr) => {
        typed!($ty, [i8, u8, i16, u16, i32, u32, i64, u64], $T => $body)
    };
}

/// One case of the data file.
struct Case {
    name: String,
    kernel: String,
    params: Value,
    inputs: BTreeMap<String, Tensor>,
    outputs: BTreeMap<String, Tensor>,
}

impl Case {
    fn parse(v: &Value) -> Res<Case> {
        let tensors = |k: &str| -> Res<BTreeMap<String, Tensor>> {
            let map: BTreeMap<String, Value> = field(v, k)?;
            let t = |(n, t): (&String, &Value)| -> Res<(String, Tensor)> {
                Ok((n.clone(), tensor(t).map_err(|e| format!("{k}.{n}: {e}"))?))
            };
            map.iter().map(t).collect()
        };
        let (name, kernel, params) = (field(v, "name")?, field(v, "kernel")?, v["params"].clone());
        Ok(Case {
            name,
            kernel,
            params,
            inputs: tensors("inputs")?,
            outputs: tensors("outputs")?,
        })
    }
    fn input(&self, k: &str) -> Res<&Tensor> {
        self.inputs.get(k).ok_or_else(|| format!("no input {k:?}"))
    }
    fn get<E: Elem>(&self, k: &str) -> Res<&[E]> {
        let t = self.input(k)?;
        let want = std::any::type_name::<E>();
        E::slice(&t.data).ok_or_else(|| format!("input {k} is {}, expected {want}", t.data.name()))
    }
    fn opt<E: Elem>(&self, k: &str) -> Res<Option<&[E]>> {
        self.inputs.contains_key(k).then(|| self.get(k)).transpose()
    }
    /// Inputs `{prefix}0`, `{prefix}1`, ...
    fn many<E: Elem>(&self, prefix: &str) -> Res<Vec<&[E]>> {
        let names = (0..).map(|i| format!("{prefix}{i}"));
        names
            .take_while(|k| self.inputs.contains_key(k))
            .map(|k| self.get(&k))
            .collect()
    }
    /// The element type of input `k`, or else of expected output `k`.
    fn ty(&self, k: &str) -> Res<&'static str> {
        let t = self.inputs.get(k).or(self.outputs.get(k));
        Ok(t.ok_or_else(|| format!("no tensor {k:?}"))?.data.name())
    }
    /// A zeroed buffer as long as the expected output `k`.
    fn zeros<E: Elem>(&self, k: &str) -> Res<Vec<E>> {
        let t = self
            .outputs
            .get(k)
            .ok_or_else(|| format!("no expected output {k:?}"))?;
        Ok(vec![E::default(); t.data.len()])
    }
    /// Broadcasting of inputs `a` and `b`.
    fn bcast(&self) -> Res<binary::BroadcastParams> {
        let (a, b) = (&self.input("a")?.shape, &self.input("b")?.shape);
        binary::BroadcastParams::new(a, b)
            .ok_or_else(|| format!("shapes {a:?}, {b:?} do not broadcast"))
    }
}

/// Output `y` of `f(y)`.
fn out<Y: Elem>(c: &Case, f: impl FnOnce(&mut [Y])) -> Res<Outs> {
    let mut y = c.zeros("y")?;
    f(&mut y);
    Ok(vec![("y".into(), Y::wrap(y))])
}

/// Output `y` of `f(x, y)`.
fn xy<X: Elem, Y: Elem>(c: &Case, f: impl FnOnce(&[X], &mut [Y])) -> Res<Outs> {
    let x = c.get("x")?;
    out(c, |y| f(x, y))
}

/// Output `y` of `f(x, y, &q)`.
fn xyq<X: Elem, Y: Elem, Q>(c: &Case, q: Q, f: impl FnOnce(&[X], &mut [Y], &Q)) -> Res<Outs> {
    xy(c, |x, y| f(x, y, &q))
}

/// Output `y` of `f(a, b, y)`.
fn ab<A: Elem, Y: Elem>(c: &Case, f: impl FnOnce(&[A], &[A], &mut [Y])) -> Res<Outs> {
    let (a, b) = (c.get("a")?, c.get("b")?);
    out(c, |y| f(a, b, y))
}

fn activation(p: &Value) -> Res<Activation> {
    use Activation as A;
    Ok(match field::<String>(p, "act")?.as_str() {
        "LeakyRelu" => build!(p => A::LeakyRelu { alpha }),
        "Clip" => build!(p => A::Clip { min, max }),
        "HardSigmoid" => build!(p => A::HardSigmoid { alpha, beta }),
        "Elu" => build!(p => A::Elu { alpha }),
        "Selu" => build!(p => A::Selu { alpha, gamma }),
        "Celu" => build!(p => A::Celu { alpha }),
        "ThresholdedRelu" => build!(p => A::ThresholdedRelu { alpha }),
        _ => variant!(p, "act", A: [None, Relu, Sigmoid, HardSwish, Tanh, Softplus, Softsign, Gelu,
            GeluTanh, Mish, Swish]),
    })
}

fn unary_op(p: &Value) -> Res<unary::UnaryOp> {
    use unary::UnaryOp as U;
    Ok(match field::<String>(p, "op")?.as_str() {
        "Act" => U::Act(activation(p)?),
        "Shrink" => build!(p => U::Shrink { lambd, bias }),
        "PowConst" => build!(p => U::PowConst { exponent }),
        _ => {
            variant!(p, "op", U: [Identity, Erf, Exp, Log, Neg, Abs, Sqrt, Reciprocal, Floor, Ceil,
            Round, Sign, Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh])
        }
    })
}

fn conv_params(p: &Value) -> Res<conv::ConvParams> {
    Ok(
        build!(p => conv::ConvParams { batch, in_channels, out_channels, group, in_spatial,
        out_spatial, kernel, strides, dilations, pads_begin, pads_end; activation: Activation::None }),
    )
}

fn pool_params(p: &Value) -> Res<pool::PoolParams> {
    Ok(
        build!(p => pool::PoolParams { batch, channels, in_spatial, out_spatial, kernel, strides,
        dilations, pads_begin, pads_end, count_include_pad }),
    )
}

fn mm_params(p: &Value) -> Res<matmul::MatMulParams> {
    Ok(build!(p => matmul::MatMulParams { m, k, n, batch_rank, out_batch, a_batch, b_batch }))
}

fn resize_params(p: &Value) -> Res<resize::ResizeParams> {
    use resize::{CoordMode as C, NearestMode as N, ResizeMode as M};
    let mode = match field::<String>(p, "mode")?.as_str() {
        "Nearest" => M::Nearest(
            variant!(p, "nearest_mode", N: [RoundPreferFloor, RoundPreferCeil,
            Floor, Ceil]),
        ),
        "Cubic" => M::Cubic {
            a: field(p, "cubic_a")?,
        },
        _ => variant!(p, "mode", M: [Linear]),
    };
    let coord = variant!(p, "coord", C: [HalfPixel, HalfPixelSymmetric, PytorchHalfPixel,
        AlignCorners, Asymmetric, TfHalfPixelForNn, TfCropAndResize]);
    Ok(
        build!(p => resize::ResizeParams { rank, in_shape, out_shape, scales, roi_start, roi_end,
        extrapolation_value, exclude_outside; mode: mode, coord: coord }),
    )
}

fn run_rnn(c: &Case, p: &Value) -> Res<Outs> {
    use rnn::{RnnDirection as D, RnnKind as K};
    let kind = match field::<String>(p, "kind")?.as_str() {
        "Gru" => build!(p => K::Gru { linear_before_reset }),
        "Lstm" => build!(p => K::Lstm { input_forget }),
        _ => variant!(p, "kind", K: [Rnn]),
    };
    let mut activations = [[Activation::None; 3]; 2];
    for (d, group) in field::<[[Value; 3]; 2]>(p, "activations")?
        .iter()
        .enumerate()
    {
        for (i, a) in group.iter().enumerate() {
            activations[d][i] = activation(a)?;
        }
    }
    let direction = variant!(p, "direction", D: [Forward, Reverse, Bidirectional]);
    let q = build!(p => rnn::RnnParams { seq_len, batch, input_size, hidden, clip; kind: kind,
        direction: direction, activations: activations });
    let (x, w, r, b) = (c.get("x")?, c.get("w")?, c.get("r")?, c.opt("b")?);
    let (sequence_lens, initial_h) = (c.opt("sequence_lens")?, c.opt("initial_h")?);
    let (initial_c, peepholes) = (c.opt("initial_c")?, c.opt("p")?);
    let inp = rnn::RnnInputs {
        x,
        w,
        r,
        b,
        sequence_lens,
        initial_h,
        initial_c,
        peepholes,
    };
    let state = (if direction == D::Bidirectional { 2 } else { 1 }) * q.batch * q.hidden;
    let (mut y, mut y_h, mut y_c) = (
        vec![0.0; q.seq_len * state],
        vec![0.0; state],
        vec![0.0; state],
    );
    let mut scratch = vec![0.0; 2 * q.batch * q.hidden];
    rnn::rnn(
        &inp,
        Some(&mut y),
        &mut y_h,
        Some(&mut y_c),
        &mut scratch,
        &q,
    );
    let outs = [("y", y), ("y_h", y_h), ("y_c", y_c)];
    Ok(outs
        .into_iter()
        .map(|(n, v)| (n.to_string(), Data::f32(v)))
        .collect())
}

/// Runs the kernel a case names and returns its outputs.
fn run(c: &Case) -> Res<Outs> {
    let p = &c.params;
    let axis = || Ok::<_, String>(build!(p => misc::AxisParams { outer, axis_len, inner }));
    let quant =
        || Ok::<_, String>(build!(p => quant::QuantParams { outer, axis_len, inner, block_size }));
    let scatter = || {
        Ok::<_, String>(
            variant!(p, "reduction", misc::ScatterReduction: [None, Add, Mul, Max, Min]),
        )
    };
    let softmax =
        || Ok::<_, String>(build!(p => softmax::SoftmaxParams { outer, axis_len, inner }));
    let k = c.kernel.as_str();
    match k {
        "conv::conv" => {
            let (q, x, w, b) = (conv_params(p)?, c.get("x")?, c.get("w")?, c.opt("b")?);
            out(c, |y| conv::conv(x, w, b, y, &q))
        }
        "conv::conv_transpose" => {
            let q = build!(p => conv::ConvTransposeParams { batch, in_channels, out_channels, group,
                in_spatial, out_spatial, kernel, strides, dilations, pads_begin, pads_end;
                activation: Activation::None });
            let (x, w, b) = (c.get("x")?, c.get("w")?, c.opt("b")?);
            out(c, |y| conv::conv_transpose(x, w, b, y, &q))
        }
        "pool::max_pool" => xyq(c, pool_params(p)?, pool::max_pool),
        "pool::average_pool" => xyq(c, pool_params(p)?, pool::average_pool),
        "pool::lp_pool" => {
            let (q, norm) = (pool_params(p)?, field(p, "norm")?);
            xy(c, |x, y| pool::lp_pool(x, y, &q, norm))
        }
        "pool::global_average_pool" => {
            let s = field(p, "spatial")?;
            xy(c, |x, y| pool::global_average_pool(x, y, s))
        }
        "pool::global_max_pool" => {
            let s = field(p, "spatial")?;
            xy(c, |x, y| pool::global_max_pool(x, y, s))
        }
        "resize::resize" => xyq(c, resize_params(p)?, resize::resize),
        "gemm::gemm" => {
            let q = build!(p => gemm::GemmParams { m, n, k, trans_a, trans_b, alpha, beta, c_stride_m,
                c_stride_n; activation: Activation::None });
            let cc = c.opt("c")?;
            ab(c, |a, b, y| gemm::gemm(a, b, cc, y, &q))
        }
        "matmul::matmul" => {
            let q = mm_params(p)?;
            ab(c, |a, b, y| matmul::matmul(a, b, y, &q))
        }
        "softmax::softmax" => xyq(c, softmax()?, softmax::softmax),
        "softmax::log_softmax" => xyq(c, softmax()?, softmax::log_softmax),
        "softmax::hardmax" => xyq(c, softmax()?, softmax::hardmax),
        "reduce::reduce" => {
            let op = variant!(p, "op", reduce::ReduceOp: [Sum, Mean, Max, Min, Prod, SumSquare, L1, L2,
                LogSum, LogSumExp]);
            let q = build!(p => reduce::ReduceParams { rank, in_shape, axes });
            typed!(c.ty("x")?, num, T => xy::<T, T>(c, |x, y| reduce::reduce(op, x, y, &q)))
        }
        "reduce::argmax" | "reduce::argmin" => {
            let q = build!(p => reduce::ArgParams { outer, axis_len, inner, select_last_index });
            typed!(c.ty("x")?, any, T => {
                let f = if k == "reduce::argmax" { reduce::argmax::<T> } else { reduce::argmin::<T> };
                xy::<T, i64>(c, |x, y| f(x, y, &q))
            })
        }
        "binary::binary" => {
            let (op, q) = (
                variant!(p, "op", binary::BinaryOp: [Add, Sub, Mul, Div, Pow, Max, Min, Mod,
                FMod, PRelu]),
                c.bcast()?,
            );
            typed!(c.ty("a")?, num, T => ab::<T, T>(c, |a, b, y| binary::binary(op, a, b, y, &q)))
        }
        "binary::compare" => {
            let (op, q) = (
                variant!(p, "op", binary::CompareOp: [Equal, Less, LessOrEqual, Greater,
                GreaterOrEqual]),
                c.bcast()?,
            );
            typed!(c.ty("a")?, any, T => ab::<T, bool>(c, |a, b, y| binary::compare(op, a, b, y, &q)))
        }
        "binary::logical" => {
            let (op, q) = (
                variant!(p, "op", binary::LogicalOp: [And, Or, Xor]),
                c.bcast()?,
            );
            ab(c, |a, b, y| binary::logical(op, a, b, y, &q))
        }
        "binary::bit_shift" => {
            let (dir, q) = (
                variant!(p, "direction", binary::ShiftDirection: [Left, Right]),
                c.bcast()?,
            );
            typed!(c.ty("a")?, int, T => ab::<T, T>(c, |a, b, y| binary::bit_shift(dir, a, b, y, &q)))
        }
        "binary::expand" => {
            let q = build!(p => binary::BroadcastParams { rank, out_shape, a_shape, b_shape });
            typed!(c.ty("x")?, any, T => xy::<T, T>(c, |x, y| binary::expand(x, y, &q)))
        }
        "binary::variadic" => {
            let op = variant!(p, "op", binary::VariadicOp: [Sum, Mean, Max, Min]);
            let shapes: Vec<_> = field(p, "shapes")?;
            let (r, s) = (field(p, "rank")?, field(p, "out_shape")?);
            typed!(c.ty("x0")?, num, T => {
                let xs = c.many::<T>("x")?;
                out(c, |y| binary::variadic(op, &xs, &shapes, r, &s, y))
            })
        }
        "misc::bitwise" => {
            let (op, q) = (
                variant!(p, "op", misc::BitwiseOp: [And, Or, Xor]),
                c.bcast()?,
            );
            typed!(c.ty("a")?, int, T => ab::<T, T>(c, |a, b, y| misc::bitwise(op, a, b, y, &q)))
        }
        "misc::bitwise_not" => typed!(c.ty("x")?, int, T => xy::<T, T>(c, misc::bitwise_not)),
        "cast::cast" => {
            typed!(c.ty("x")?, any, S => typed!(c.ty("y")?, any, D => xy::<S, D>(c, cast::cast)))
        }
        "concat::concat" => {
            let outer = field(p, "outer")?;
            typed!(c.ty("x0")?, any, T => {
                let xs = c.many::<T>("x")?;
                out(c, |y| concat::concat(&xs, outer, y))
            })
        }
        "concat::split" => typed!(c.ty("x")?, any, T => {
            let names: Vec<String> = (0..c.outputs.len()).map(|i| format!("y{i}")).collect();
            let mut ys = names.iter().map(|n| c.zeros::<T>(n)).collect::<Res<Vec<_>>>()?;
            let mut refs: Vec<&mut [T]> = ys.iter_mut().map(|v| &mut v[..]).collect();
            concat::split(c.get("x")?, field(p, "outer")?, &mut refs);
            Ok(names.into_iter().zip(ys).map(|(n, v)| (n, T::wrap(v))).collect())
        }),
        "slice::slice" => {
            let q = build!(p => slice::SliceParams { rank, in_shape, out_shape, starts, steps });
            typed!(c.ty("x")?, any, T => xy::<T, T>(c, |x, y| slice::slice(x, y, &q)))
        }
        "gather::gather" | "gather::gather_elements" => {
            let q = build!(p => gather::GatherParams { outer, axis_len, inner });
            let idx = c.get("idx")?;
            let elements = (k == "gather::gather_elements")
                .then(|| field(p, "idx_axis_len"))
                .transpose()?;
            typed!(c.ty("x")?, any, T => xy::<T, T>(c, |x, y| match elements {
                Some(n) => gather::gather_elements(x, idx, y, &q, n),
                None => gather::gather(x, idx, y, &q),
            }))
        }
        "where_::where_" => {
            let q =
                build!(p => where_::WhereParams { rank, out_shape, cond_shape, x_shape, y_shape });
            let cond = c.get("cnd")?;
            typed!(c.ty("a")?, any, T => ab::<T, T>(c, |a, b, y| where_::where_(cond, a, b, y, &q)))
        }
        "transpose::transpose" => {
            let q = build!(p => transpose::TransposeParams { rank, in_shape, perm });
            typed!(c.ty("x")?, any, T => xy::<T, T>(c, |x, y| transpose::transpose(x, y, &q)))
        }
        "transpose::tile" => {
            let q = build!(p => transpose::TileParams { rank, in_shape, repeats });
            typed!(c.ty("x")?, any, T => xy::<T, T>(c, |x, y| transpose::tile(x, y, &q)))
        }
        "norm::batch_norm" => {
            let q = build!(p => norm::BatchNormParams { batch, channels, spatial, epsilon });
            let (s, b, m, v) = (c.get("s")?, c.get("bb")?, c.get("m")?, c.get("v")?);
            xy(c, |x, y| norm::batch_norm(x, y, s, b, m, v, &q))
        }
        "norm::instance_norm" => {
            let q = build!(p => norm::InstanceNormParams { batch, channels, spatial, epsilon });
            let (s, b) = (c.get("s")?, c.get("bb")?);
            xy(c, |x, y| norm::instance_norm(x, y, s, b, &q))
        }
        "norm::group_norm" => {
            let q =
                build!(p => norm::GroupNormParams { batch, channels, groups, spatial, epsilon });
            let (s, b) = (c.get("s")?, c.get("bb")?);
            xy(c, |x, y| norm::group_norm(x, y, s, b, &q))
        }
        "norm::layer_norm" | "norm::rms_norm" => {
            let q = build!(p => norm::LayerNormParams { outer, inner, epsilon });
            let (s, b) = (c.get("s")?, c.opt("bb")?);
            match k {
                "norm::layer_norm" => xy(c, |x, y| norm::layer_norm(x, y, s, b, &q)),
                _ => xy(c, |x, y| norm::rms_norm(x, y, s, &q)),
            }
        }
        "norm::lrn" => {
            let q =
                build!(p => norm::LrnParams { batch, channels, spatial, size, alpha, beta, bias });
            xyq(c, q, norm::lrn)
        }
        "norm::mean_variance_norm" => xyq(
            c,
            build!(p => norm::MvnParams { rank, shape, axes }),
            norm::mean_variance_norm,
        ),
        "norm::lp_norm" => xyq(
            c,
            build!(p => norm::LpNormParams { outer, axis_len, inner, p }),
            norm::lp_norm,
        ),
        "unary::unary" => {
            let op = unary_op(p)?;
            xy(c, |x, y| unary::unary(op, x, y))
        }
        "unary::unary_generic" => typed!(c.ty("x")?, num, T => {
            use unary::GenericUnaryOp as G;
            let op = match field::<String>(p, "op")?.as_str() {
                "Clip" => build!(p => G::Clip { min, max }),
                _ => variant!(p, "op", G<T>: [Neg, Abs, Relu, Sign, Identity]),
            };
            xy::<T, T>(c, |x, y| unary::unary_generic(op, x, y))
        }),
        "unary::not" => xy(c, unary::not),
        "unary::is_nan" => xy(c, unary::is_nan),
        "unary::is_inf" => {
            let (neg, pos) = (field(p, "detect_negative")?, field(p, "detect_positive")?);
            xy(c, |x, y| unary::is_inf(x, y, neg, pos))
        }
        "pad::pad" => {
            let mode = variant!(p, "mode", pad::PadMode: [Constant, Reflect, Edge, Wrap]);
            let q =
                build!(p => pad::PadParams { rank, in_shape, out_shape, pads_begin; mode: mode });
            typed!(c.ty("x")?, any, T => {
                let v = field(p, "value")?;
                xy::<T, T>(c, |x, y| pad::pad(x, y, v, &q))
            })
        }
        "quant::quantize_linear" => {
            let (q, sc) = (quant()?, c.get("sc")?);
            typed!(c.ty("y")?, [i8, u8, i16, u16], Q => {
                let zp = c.opt::<Q>("zp")?;
                xy(c, |x, y| quant::quantize_linear(x, sc, zp, y, &q))
            })
        }
        "quant::dequantize_linear" => {
            let (q, sc) = (quant()?, c.get("sc")?);
            typed!(c.ty("x")?, [i8, u8, i16, u16], Q => {
                let zp = c.opt::<Q>("zp")?;
                xy::<Q, f32>(c, |x, y| quant::dequantize_linear(x, sc, zp, y, &q))
            })
        }
        "quant::dequantize_linear_i32" => {
            let (q, sc) = (quant()?, c.get("sc")?);
            xy(c, |x, y| quant::dequantize_linear_i32(x, sc, y, &q))
        }
        "quant::dynamic_quantize_linear" => {
            let mut y = c.zeros("y")?;
            let (scale, zero) = quant::dynamic_quantize_linear(c.get("x")?, &mut y);
            let (scale, zero) = (Data::f32(vec![scale]), Data::u8(vec![zero]));
            Ok(vec![
                ("y".into(), Data::u8(y)),
                ("y_scale".into(), scale),
                ("y_zero_point".into(), zero),
            ])
        }
        "quant::matmul_integer" => {
            let q = mm_params(p)?;
            let (az, bz) = (field(p, "a_zero_point")?, field(p, "b_zero_point")?);
            typed!(c.ty("a")?, [i8, u8], A => typed!(c.ty("b")?, [i8, u8], B => {
                let (a, b) = (c.get::<A>("a")?, c.get::<B>("b")?);
                out(c, |y| quant::matmul_integer(a, b, az, bz, y, &q))
            }))
        }
        "quant::qlinear_matmul" => {
            let q = build!(p => quant::QLinearMatMulParams { a_scale, a_zero_point, b_scale,
                b_zero_point, y_scale, y_zero_point; mm: mm_params(&p["mm"])? });
            typed!(c.ty("a")?, [i8, u8], A => typed!(c.ty("b")?, [i8, u8], B =>
            typed!(c.ty("y")?, [i8, u8], Y => {
                let (a, b) = (c.get::<A>("a")?, c.get::<B>("b")?);
                out::<Y>(c, |y| quant::qlinear_matmul(a, b, y, &q))
            })))
        }
        "quant::conv_integer" => {
            let (q, xz, wz) = (conv_params(p)?, field(p, "x_zero_point")?, c.get("wz")?);
            typed!(c.ty("x")?, [i8, u8], X => typed!(c.ty("w")?, [i8, u8], W => {
                let (x, w) = (c.get::<X>("x")?, c.get::<W>("w")?);
                out(c, |y| quant::conv_integer(x, xz, w, wz, y, &q))
            }))
        }
        "quant::qlinear_conv" => {
            let q = build!(p => quant::QLinearConvParams { x_scale, x_zero_point, y_scale,
                y_zero_point; conv: conv_params(&p["conv"])? });
            let (ws, wz, bias) = (c.get("ws")?, c.get("wz")?, c.opt("bias")?);
            typed!(c.ty("x")?, [i8, u8], X => typed!(c.ty("w")?, [i8, u8], W =>
            typed!(c.ty("y")?, [i8, u8], Y => {
                let (x, w) = (c.get::<X>("x")?, c.get::<W>("w")?);
                out::<Y>(c, |y| quant::qlinear_conv(x, w, ws, wz, bias, y, &q))
            })))
        }
        "misc::cumsum" => {
            let (q, ex, rev) = (axis()?, field(p, "exclusive")?, field(p, "reverse")?);
            typed!(c.ty("x")?, num, T => xy::<T, T>(c, |x, y| misc::cumsum(x, y, &q, ex, rev)))
        }
        "misc::trilu" => {
            let (b, r, cols) = (field(p, "batch")?, field(p, "rows")?, field(p, "cols")?);
            let (diag, up) = (field(p, "k")?, field(p, "upper")?);
            typed!(c.ty("x")?, any, T => xy::<T, T>(c, |x, y| misc::trilu(x, y, b, r, cols, diag, up)))
        }
        "misc::depth_to_space" | "misc::space_to_depth" => {
            let q =
                build!(p => misc::SpaceDepthParams { batch, channels, height, width, block, crd });
            typed!(c.ty("x")?, any, T => {
                let f = if k.ends_with("depth_to_space") { misc::depth_to_space::<T> } else { misc::space_to_depth::<T> };
                xy::<T, T>(c, |x, y| f(x, y, &q))
            })
        }
        "misc::one_hot" => {
            let (o, d, i) = (field(p, "outer")?, field(p, "depth")?, field(p, "inner")?);
            let idx = c.get("idx")?;
            typed!(c.ty("y")?, any, T => {
                let (off, on) = (field(p, "off")?, field(p, "on")?);
                out::<T>(c, |y| misc::one_hot(idx, y, o, d, i, off, on))
            })
        }
        "misc::scatter_elements" => {
            let (q, n) = (axis()?, field(p, "idx_axis_len")?);
            let (red, idx) = (scatter()?, c.get("idx")?);
            typed!(c.ty("x")?, num, T => {
                let u = c.get::<T>("u")?;
                xy::<T, T>(c, |x, y| misc::scatter_elements(x, idx, u, y, &q, n, red))
            })
        }
        "misc::scatter_nd" => {
            let (dims, depth): (Vec<usize>, _) = (field(p, "x_dims")?, field(p, "index_depth")?);
            let (red, idx) = (scatter()?, c.get("idx")?);
            typed!(c.ty("x")?, num, T => {
                let u = c.get::<T>("u")?;
                xy::<T, T>(c, |x, y| misc::scatter_nd(x, idx, u, y, &dims, depth, red))
            })
        }
        "misc::gather_nd" => {
            let (dims, depth): (Vec<usize>, _) = (field(p, "x_dims")?, field(p, "index_depth")?);
            let idx = c.get("idx")?;
            typed!(c.ty("x")?, any, T => xy::<T, T>(c, |x, y| misc::gather_nd(x, idx, y, &dims, depth)))
        }
        "misc::top_k" => {
            let (q, n, largest) = (axis()?, field(p, "k")?, field(p, "largest")?);
            typed!(c.ty("x")?, any, T => {
                let (mut y, mut i) = (c.zeros::<T>("y")?, c.zeros::<i64>("indices")?);
                misc::top_k(c.get("x")?, &mut y, &mut i, &q, n, largest);
                Ok(vec![("y".into(), T::wrap(y)), ("indices".into(), Data::i64(i))])
            })
        }
        "rnn::rnn" => run_rnn(c, p),
        other => Err(format!("unknown kernel entry point {other:?}")),
    }
}

/// Compares the produced outputs with the expected ones; one line per problem.
fn check(c: &Case, got: &Outs, problems: &mut Vec<String>) {
    for (name, want) in &c.outputs {
        let Some((_, got)) = got.iter().find(|(n, _)| n == name) else {
            problems.push(format!("{}: the kernel produced no output {name}", c.name));
            continue;
        };
        macro_rules! cmp {
            ($($t:ident),*) => {
                match got {
                    $(Data::$t(g) if want.data.name() == stringify!($t) => compare(c, name, g, want, problems),)*
                    _ => problems.push(format!("{}: output {name} is {}, expected {}", c.name,
                        got.name(), want.data.name())),
                }
            };
        }
        cmp!(f32, f64, i8, u8, i16, u16, i32, u32, i64, u64, bool);
    }
}

fn compare<E: Elem>(c: &Case, out: &str, got: &[E], want: &Tensor, problems: &mut Vec<String>) {
    let (name, tol) = (&c.name, want.tol);
    let Some(want) = E::slice(&want.data).filter(|w| w.len() == got.len()) else {
        let (n, w) = (got.len(), want.data.len());
        return problems.push(format!(
            "{name}: output {out} has {n} elements, expected {w}"
        ));
    };
    let mut bad = got
        .iter()
        .zip(want)
        .enumerate()
        .filter(|(_, (g, w))| !g.near(**w, tol));
    let within = tol.map_or("exactly".into(), |(r, a)| {
        format!("within rtol {r}, atol {a}")
    });
    for (i, (g, w)) in bad.by_ref().take(5) {
        problems.push(format!(
            "{name}: output {out} element {i}: got {g:?}, want {w:?} {within}"
        ));
    }
    let more = bad.count();
    if more > 0 {
        problems.push(format!("{name}: output {out}: {more} more elements differ"));
    }
}

#[test]
fn onnx_node_cases() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/onnx_node_cases.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cases = doc["cases"].as_array().expect("a `cases` array");
    let count = doc["count"].as_u64();
    assert_eq!(
        count,
        Some(cases.len() as u64),
        "`count` disagrees with the cases"
    );
    let (mut problems, mut failed) = (Vec::new(), 0);
    for v in cases {
        let before = problems.len();
        match Case::parse(v) {
            Ok(c) => match run(&c) {
                Ok(got) => check(&c, &got, &mut problems),
                Err(e) => problems.push(format!("{} ({}): {e}", c.name, c.kernel)),
            },
            Err(e) => problems.push(format!(
                "{}: bad record: {e}",
                v["name"].as_str().unwrap_or("?")
            )),
        }
        failed += usize::from(problems.len() > before);
    }
    let n = cases.len();
    println!(
        "{n} ONNX node cases: {} passed, {failed} failed",
        n - failed
    );
    assert!(
        problems.is_empty(),
        "{failed} of {n} cases failed:\n{}",
        problems.join("\n")
    );
}
