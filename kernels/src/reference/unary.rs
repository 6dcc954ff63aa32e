//! Unary elementwise kernels, out of place and in place.

use super::super::math;
use super::activation::Activation;
use super::scalar::Scalar;

/// A unary `f32` operator. Activations (Relu, LeakyRelu, Sigmoid,
/// HardSigmoid, HardSwish, Tanh, Clip, Elu, Selu, Softplus, ...) are wrapped
/// in [`UnaryOp::Act`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnaryOp {
    /// Any [`Activation`] (including `Activation::None` = Identity).
    Act(Activation),
    /// Identity (copy).
    Identity,
    /// `erf(x)`.
    Erf,
    /// `e^x`.
    Exp,
    /// `ln(x)`.
    Log,
    /// `-x`.
    Neg,
    /// `|x|`.
    Abs,
    /// `sqrt(x)`.
    Sqrt,
    /// `1 / x`.
    Reciprocal,
    /// `floor(x)`.
    Floor,
    /// `ceil(x)`.
    Ceil,
    /// Round half to even (ONNX `Round`).
    Round,
    /// `sign(x)` (-1, 0, 1).
    Sign,
    /// `sin(x)`.
    Sin,
    /// `cos(x)`.
    Cos,
    /// `tan(x)`.
    Tan,
    /// `asin(x)`.
    Asin,
    /// `acos(x)`.
    Acos,
    /// `atan(x)`.
    Atan,
    /// `sinh(x)`.
    Sinh,
    /// `cosh(x)`.
    Cosh,
    /// `asinh(x)`.
    Asinh,
    /// `acosh(x)`.
    Acosh,
    /// `atanh(x)`.
    Atanh,
    /// ONNX `Shrink`: `x < -lambd ? x + bias : x > lambd ? x - bias : 0`.
    Shrink {
        /// Threshold (ONNX default 0.5).
        lambd: f32,
        /// Offset (ONNX default 0).
        bias: f32,
    },
    /// `x^exponent` with a constant exponent (a Pow with a scalar constant).
    PowConst {
        /// The exponent.
        exponent: f32,
    },
}

impl UnaryOp {
    /// Applies the operator to one value.
    #[inline]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            UnaryOp::Act(a) => a.apply(x),
            UnaryOp::Identity => x,
            UnaryOp::Erf => math::erff(x),
            UnaryOp::Exp => math::expf(x),
            UnaryOp::Log => math::logf(x),
            UnaryOp::Neg => -x,
            UnaryOp::Abs => math::fabsf(x),
            UnaryOp::Sqrt => math::sqrtf(x),
            UnaryOp::Reciprocal => 1.0 / x,
            UnaryOp::Floor => math::floorf(x),
            UnaryOp::Ceil => math::ceilf(x),
            UnaryOp::Round => math::roundf(x),
            UnaryOp::Sign => x.sign(),
            UnaryOp::Sin => math::sinf(x),
            UnaryOp::Cos => math::cosf(x),
            UnaryOp::Tan => math::tanf(x),
            UnaryOp::Asin => math::asinf(x),
            UnaryOp::Acos => math::acosf(x),
            UnaryOp::Atan => math::atanf(x),
            UnaryOp::Sinh => math::sinhf(x),
            UnaryOp::Cosh => math::coshf(x),
            UnaryOp::Asinh => math::asinhf(x),
            UnaryOp::Acosh => math::acoshf(x),
            UnaryOp::Atanh => math::atanhf(x),
            UnaryOp::Shrink { lambd, bias } => {
                if x < -lambd {
                    x + bias
                } else if x > lambd {
                    x - bias
                } else {
                    0.0
                }
            }
            UnaryOp::PowConst { exponent } => math::powf(x, exponent),
        }
    }
}

/// `y[i] = op(x[i])`. `x` and `y` have the same length.
pub fn unary(op: UnaryOp, x: &[f32], y: &mut [f32]) {
    debug_assert_eq!(x.len(), y.len());
    match op {
        UnaryOp::Identity | UnaryOp::Act(Activation::None) => y.copy_from_slice(x),
        UnaryOp::Act(Activation::Relu) => {
            for (o, &v) in y.iter_mut().zip(x) {
                *o = if v < 0.0 { 0.0 } else { v };
            }
        }
        UnaryOp::Neg => {
            for (o, &v) in y.iter_mut().zip(x) {
                *o = -v;
            }
        }
        _ => {
            for (o, &v) in y.iter_mut().zip(x) {
                *o = op.apply(v);
            }
        }
    }
}

/// `x[i] = op(x[i])` in place.
pub fn unary_inplace(op: UnaryOp, x: &mut [f32]) {
    match op {
        UnaryOp::Identity => {}
        UnaryOp::Act(a) => a.apply_slice(x),
        _ => {
            for v in x.iter_mut() {
                *v = op.apply(*v);
            }
        }
    }
}

/// A unary operator for any [`Scalar`] type (signed integers included).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GenericUnaryOp<T> {
    /// `-x` (wrapping).
    Neg,
    /// `|x|` (wrapping).
    Abs,
    /// `max(0, x)`.
    Relu,
    /// `sign(x)`.
    Sign,
    /// `min(max(x, min), max)`.
    Clip {
        /// Lower bound (`T::LOWEST` for none).
        min: T,
        /// Upper bound (`T::HIGHEST` for none).
        max: T,
    },
    /// Identity.
    Identity,
}

impl<T: Scalar> GenericUnaryOp<T> {
    /// Applies the operator to one value.
    #[inline]
    pub fn apply(self, x: T) -> T {
        match self {
            GenericUnaryOp::Neg => x.neg(),
            GenericUnaryOp::Abs => x.abs(),
            GenericUnaryOp::Relu => {
                if x < T::ZERO {
                    T::ZERO
                } else {
                    x
                }
            }
            GenericUnaryOp::Sign => x.sign(),
            GenericUnaryOp::Clip { min, max } => {
                let v = if x < min { min } else { x };
                if v > max {
                    max
                } else {
                    v
                }
            }
            GenericUnaryOp::Identity => x,
        }
    }
}

/// `y[i] = op(x[i])` for any [`Scalar`] type.
pub fn unary_generic<T: Scalar>(op: GenericUnaryOp<T>, x: &[T], y: &mut [T]) {
    debug_assert_eq!(x.len(), y.len());
    for (o, &v) in y.iter_mut().zip(x) {
        *o = op.apply(v);
    }
}

/// `x[i] = op(x[i])` in place for any [`Scalar`] type.
pub fn unary_generic_inplace<T: Scalar>(op: GenericUnaryOp<T>, x: &mut [T]) {
    for v in x.iter_mut() {
        *v = op.apply(*v);
    }
}

/// Logical `Not` on booleans.
pub fn not(x: &[bool], y: &mut [bool]) {
    debug_assert_eq!(x.len(), y.len());
    for (o, &v) in y.iter_mut().zip(x) {
        *o = !v;
    }
}

/// `IsNaN`.
pub fn is_nan(x: &[f32], y: &mut [bool]) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o = v.is_nan();
    }
}

/// `IsInf` (`detect_negative` / `detect_positive` as in ONNX).
pub fn is_inf(x: &[f32], y: &mut [bool], detect_negative: bool, detect_positive: bool) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o = v.is_infinite() && ((v > 0.0 && detect_positive) || (v < 0.0 && detect_negative));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_ops() {
        let x = [-1.5f32, -0.5, 0.0, 0.5, 2.5, 4.0];
        let mut y = [0.0f32; 6];
        unary(UnaryOp::Round, &x, &mut y);
        assert_eq!(y, [-2.0, -0.0, 0.0, 0.0, 2.0, 4.0]);
        unary(UnaryOp::Floor, &x, &mut y);
        assert_eq!(y, [-2.0, -1.0, 0.0, 0.0, 2.0, 4.0]);
        unary(UnaryOp::Ceil, &x, &mut y);
        assert_eq!(y, [-1.0, -0.0, 0.0, 1.0, 3.0, 4.0]);
        unary(UnaryOp::Act(Activation::Relu), &x, &mut y);
        assert_eq!(y, [0.0, 0.0, 0.0, 0.5, 2.5, 4.0]);
        unary(UnaryOp::Sqrt, &[4.0, 9.0, 2.0], &mut y[..3]);
        assert_eq!(&y[..3], &[2.0, 3.0, core::f32::consts::SQRT_2]);
        unary(UnaryOp::Reciprocal, &[4.0, -0.5], &mut y[..2]);
        assert_eq!(&y[..2], &[0.25, -2.0]);
        unary(UnaryOp::Sign, &[-3.0, 0.0, 2.0], &mut y[..3]);
        assert_eq!(&y[..3], &[-1.0, 0.0, 1.0]);
        unary(UnaryOp::Exp, &[0.0, 1.0], &mut y[..2]);
        assert_eq!(&y[..2], &[1.0, core::f32::consts::E]);
        unary(UnaryOp::Log, &[1.0, core::f32::consts::E], &mut y[..2]);
        assert_eq!(&y[..2], &[0.0, 1.0]);
        unary(UnaryOp::Erf, &[0.5], &mut y[..1]);
        assert!((y[0] - 0.520_499_9).abs() < 1e-7);
        unary(UnaryOp::PowConst { exponent: 3.0 }, &[2.0], &mut y[..1]);
        assert_eq!(y[0], 8.0);
        let mut z = [-1.0f32, 3.0];
        unary_inplace(UnaryOp::Neg, &mut z);
        assert_eq!(z, [1.0, -3.0]);
        unary_inplace(
            UnaryOp::Act(Activation::Clip { min: 0.0, max: 2.0 }),
            &mut z,
        );
        assert_eq!(z, [1.0, 0.0]);
    }

    #[test]
    fn generic_ops() {
        let x = [-3i32, 0, 5];
        let mut y = [0i32; 3];
        unary_generic(GenericUnaryOp::Abs, &x, &mut y);
        assert_eq!(y, [3, 0, 5]);
        unary_generic(GenericUnaryOp::Neg, &x, &mut y);
        assert_eq!(y, [3, 0, -5]);
        unary_generic(GenericUnaryOp::Relu, &x, &mut y);
        assert_eq!(y, [0, 0, 5]);
        unary_generic(GenericUnaryOp::Clip { min: -1, max: 2 }, &x, &mut y);
        assert_eq!(y, [-1, 0, 2]);
        let mut v = [-128i8, 1];
        unary_generic_inplace(GenericUnaryOp::Abs, &mut v);
        assert_eq!(v, [-128, 1]);
        let mut b = [false; 2];
        not(&[true, false], &mut b);
        assert_eq!(b, [false, true]);
        is_inf(&[f32::INFINITY, f32::NEG_INFINITY], &mut b, false, true);
        assert_eq!(b, [true, false]);
    }
}
