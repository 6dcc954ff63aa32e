//! Activations that can be fused into the producing Conv/Gemm, shared with
//! the element-wise unary operators.

use proc_macro2::TokenStream;
use quote::quote;

use crate::emit::lit_f32;

/// An activation applied to every output element.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Activation {
    /// Identity.
    #[default]
    None,
    /// max(x, 0).
    Relu,
    /// x < 0 ? alpha·x : x.
    LeakyRelu {
        /// Slope for negative inputs.
        alpha: f32,
    },
    /// min(max(x, min), max).
    Clip {
        /// Lower bound.
        min: f32,
        /// Upper bound.
        max: f32,
    },
    /// 1 / (1 + e^-x).
    Sigmoid,
    /// max(0, min(1, alpha·x + beta)).
    HardSigmoid {
        /// Slope.
        alpha: f32,
        /// Offset.
        beta: f32,
    },
    /// x · HardSigmoid(x) with alpha = 1/6, beta = 0.5.
    HardSwish,
    /// tanh(x).
    Tanh,
    /// x < 0 ? alpha·(e^x − 1) : x.
    Elu {
        /// Scale of the negative part.
        alpha: f32,
    },
}

impl Activation {
    /// `Conv+Relu`-style name.
    pub fn suffixed(&self, base: &str) -> String {
        match self {
            Activation::None => base.to_string(),
            a => format!("{base}+{}", a.op_name()),
        }
    }

    /// ONNX op name of the activation.
    pub fn op_name(&self) -> &'static str {
        match self {
            Activation::None => "Identity",
            Activation::Relu => "Relu",
            Activation::LeakyRelu { .. } => "LeakyRelu",
            Activation::Clip { .. } => "Clip",
            Activation::Sigmoid => "Sigmoid",
            Activation::HardSigmoid { .. } => "HardSigmoid",
            Activation::HardSwish => "HardSwish",
            Activation::Tanh => "Tanh",
            Activation::Elu { .. } => "Elu",
        }
    }

    /// The kernel crate's value, for host evaluation.
    pub fn kernel(&self) -> zant_kernels::reference::activation::Activation {
        use zant_kernels::reference::activation::Activation as K;
        match *self {
            Activation::None => K::None,
            Activation::Relu => K::Relu,
            Activation::LeakyRelu { alpha } => K::LeakyRelu { alpha },
            Activation::Clip { min, max } => K::Clip { min, max },
            Activation::Sigmoid => K::Sigmoid,
            Activation::HardSigmoid { alpha, beta } => K::HardSigmoid { alpha, beta },
            Activation::HardSwish => K::HardSwish,
            Activation::Tanh => K::Tanh,
            Activation::Elu { alpha } => K::Elu { alpha },
        }
    }

    /// The kernel crate's `Activation` value as a Rust expression.
    pub fn tokens(&self, k: &TokenStream) -> TokenStream {
        match *self {
            Activation::None => quote!(#k::Activation::None),
            Activation::Relu => quote!(#k::Activation::Relu),
            Activation::LeakyRelu { alpha } => {
                let a = lit_f32(alpha);
                quote!(#k::Activation::LeakyRelu { alpha: #a })
            }
            Activation::Clip { min, max } => {
                let (a, b) = (lit_f32(min), lit_f32(max));
                quote!(#k::Activation::Clip { min: #a, max: #b })
            }
            Activation::Sigmoid => quote!(#k::Activation::Sigmoid),
            Activation::HardSigmoid { alpha, beta } => {
                let (a, b) = (lit_f32(alpha), lit_f32(beta));
                quote!(#k::Activation::HardSigmoid { alpha: #a, beta: #b })
            }
            Activation::HardSwish => quote!(#k::Activation::HardSwish),
            Activation::Tanh => quote!(#k::Activation::Tanh),
            Activation::Elu { alpha } => {
                let a = lit_f32(alpha);
                quote!(#k::Activation::Elu { alpha: #a })
            }
        }
    }
}
