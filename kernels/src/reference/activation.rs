//! Activation functions, fused into conv/gemm outputs and used by the unary
//! kernels.

use super::super::math;

/// A pointwise activation. Field values are the ONNX attributes (the
/// generator fills in ONNX defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// Identity.
    None,
    /// `max(0, x)`.
    Relu,
    /// `x < 0 ? alpha * x : x` (ONNX default alpha 0.01).
    LeakyRelu {
        /// Slope for negative inputs.
        alpha: f32,
    },
    /// `min(max(x, min), max)`.
    Clip {
        /// Lower bound (use `f32::NEG_INFINITY` for none).
        min: f32,
        /// Upper bound (use `f32::INFINITY` for none).
        max: f32,
    },
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `max(0, min(1, alpha * x + beta))` (ONNX defaults 0.2, 0.5).
    HardSigmoid {
        /// Slope.
        alpha: f32,
        /// Offset.
        beta: f32,
    },
    /// `x * max(0, min(1, x / 6 + 0.5))`.
    HardSwish,
    /// `tanh(x)` (single-precision [`tanhf_fast`](super::super::math::tanhf_fast), <= 2 ulp).
    Tanh,
    /// `x < 0 ? alpha * (e^x - 1) : x` (ONNX default alpha 1).
    Elu {
        /// Scale of the negative part.
        alpha: f32,
    },
    /// `x > 0 ? gamma * x : gamma * (alpha * e^x - alpha)`.
    Selu {
        /// ONNX default 1.67326319217681884765625.
        alpha: f32,
        /// ONNX default 1.05070102214813232421875.
        gamma: f32,
    },
    /// `max(0, x) + min(0, alpha * (e^(x / alpha) - 1))` (ONNX default 1).
    Celu {
        /// Scale.
        alpha: f32,
    },
    /// `x > alpha ? x : 0` (ONNX default alpha 1).
    ThresholdedRelu {
        /// Threshold.
        alpha: f32,
    },
    /// `ln(1 + e^x)`.
    Softplus,
    /// `x / (1 + |x|)`.
    Softsign,
    /// `0.5 * x * (1 + erf(x / sqrt(2)))` (ONNX `Gelu`, approximate="none").
    Gelu,
    /// `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))` (approximate="tanh").
    GeluTanh,
    /// `x * tanh(softplus(x))`.
    Mish,
    /// `x * sigmoid(x)` (SiLU / Swish).
    Swish,
}

impl Activation {
    /// Applies the activation to one value.
    #[inline]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::None => x,
            Activation::Relu => {
                if x < 0.0 {
                    0.0
                } else {
                    x
                }
            }
            Activation::LeakyRelu { alpha } => {
                if x < 0.0 {
                    alpha * x
                } else {
                    x
                }
            }
            Activation::Clip { min, max } => clip(x, min, max),
            Activation::Sigmoid => math::sigmoidf(x),
            Activation::HardSigmoid { alpha, beta } => clip(alpha * x + beta, 0.0, 1.0),
            Activation::HardSwish => x * clip(x * (1.0 / 6.0) + 0.5, 0.0, 1.0),
            Activation::Tanh => math::tanhf_fast(x),
            Activation::Elu { alpha } => {
                if x < 0.0 {
                    alpha * math::expm1f(x)
                } else {
                    x
                }
            }
            Activation::Selu { alpha, gamma } => {
                if x > 0.0 {
                    gamma * x
                } else {
                    gamma * (alpha * math::expf(x) - alpha)
                }
            }
            Activation::Celu { alpha } => {
                let pos = if x > 0.0 { x } else { 0.0 };
                let neg = alpha * math::expm1f(x / alpha);
                pos + if neg < 0.0 { neg } else { 0.0 }
            }
            Activation::ThresholdedRelu { alpha } => {
                if x > alpha {
                    x
                } else {
                    0.0
                }
            }
            Activation::Softplus => softplus(x),
            Activation::Softsign => x / (1.0 + math::fabsf(x)),
            Activation::Gelu => 0.5 * x * (1.0 + math::erff(x * core::f32::consts::FRAC_1_SQRT_2)),
            Activation::GeluTanh => {
                const K: f32 = 0.797_884_6; // sqrt(2/pi)
                0.5 * x * (1.0 + math::tanhf_fast(K * (x + 0.044_715 * x * x * x)))
            }
            Activation::Mish => x * math::tanhf_fast(softplus(x)),
            Activation::Swish => x * math::sigmoidf(x),
        }
    }

    /// Applies the activation to every element of `y` in place (no-op for
    /// [`Activation::None`]).
    #[inline]
    pub fn apply_slice(self, y: &mut [f32]) {
        match self {
            Activation::None => {}
            Activation::Relu => {
                for v in y.iter_mut() {
                    *v = if *v < 0.0 { 0.0 } else { *v };
                }
            }
            a => {
                for v in y.iter_mut() {
                    *v = a.apply(*v);
                }
            }
        }
    }
}

/// `min(max(x, lo), hi)`, NaN-propagating.
#[inline(always)]
pub fn clip(x: f32, lo: f32, hi: f32) -> f32 {
    let v = if x < lo { lo } else { x };
    if v > hi {
        hi
    } else {
        v
    }
}

/// Numerically stable `ln(1 + e^x)`.
#[inline]
pub fn softplus(x: f32) -> f32 {
    if x > 0.0 {
        x + math::log1pf(math::expf(-x))
    } else {
        math::log1pf(math::expf(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() <= 1e-6 + 1e-5 * b.abs()
    }

    #[test]
    fn values() {
        // Expected values from numpy (float64 then rounded).
        let cases: &[(Activation, f32, f32)] = &[
            (Activation::Relu, -1.0, 0.0),
            (Activation::Relu, 2.0, 2.0),
            (Activation::LeakyRelu { alpha: 0.1 }, -2.0, -0.2),
            (
                Activation::Clip {
                    min: -1.0,
                    max: 1.0,
                },
                3.0,
                1.0,
            ),
            (Activation::Sigmoid, 1.0, 0.731_058_6),
            (
                Activation::HardSigmoid {
                    alpha: 0.2,
                    beta: 0.5,
                },
                1.0,
                0.7,
            ),
            (Activation::HardSwish, 1.0, 0.666_666_7),
            (Activation::HardSwish, -4.0, 0.0),
            (Activation::Tanh, 0.5, 0.462_117_16),
            (Activation::Elu { alpha: 1.0 }, -1.0, -0.632_120_56),
            (
                Activation::Selu {
                    alpha: 1.673_263_2,
                    gamma: 1.050_701,
                },
                -1.0,
                -1.111_330_7,
            ),
            (Activation::Celu { alpha: 2.0 }, -1.0, -0.786_938_7),
            (Activation::ThresholdedRelu { alpha: 1.0 }, 1.0, 0.0),
            (Activation::Softplus, 1.0, 1.313_261_7),
            (Activation::Softplus, -100.0, 3.72e-44),
            (Activation::Softplus, 100.0, 100.0),
            (Activation::Softsign, 3.0, 0.75),
            (Activation::Gelu, 1.0, 0.841_344_7),
            (Activation::GeluTanh, 1.0, 0.841_191_97),
            (Activation::Mish, 1.0, 0.865_098_4),
            (Activation::Swish, 1.0, 0.731_058_6),
        ];
        for &(a, x, want) in cases {
            let got = a.apply(x);
            assert!(close(got, want), "{a:?}({x}) = {got}, want {want}");
        }
    }

    #[test]
    fn slice_form() {
        let mut v = [-1.0f32, 0.5, 2.0];
        Activation::Relu.apply_slice(&mut v);
        assert_eq!(v, [0.0, 0.5, 2.0]);
        Activation::Clip { min: 0.0, max: 1.0 }.apply_slice(&mut v);
        assert_eq!(v, [0.0, 0.5, 1.0]);
    }
}
