//! Activations that can be fused into the producing Conv/Gemm, shared with
//! the element-wise unary operators.

use proc_macro2::TokenStream;
use quote::quote;

use crate::emit::lit_f32;

/// An activation applied to every output element: the kernels' own enum, so
/// the value codegen reasons about is the value the generated code passes.
pub use zant_kernels::reference::activation::Activation;

/// What codegen needs of an [`Activation`] besides its value: names for
/// plans and diagnostics, and the tokens that rebuild it in generated code.
pub trait ActivationExt {
    /// `Conv+Relu`-style name.
    fn suffixed(&self, base: &str) -> String;
    /// ONNX op name of the activation.
    fn op_name(&self) -> &'static str;
    /// The kernel crate's `Activation` value as a Rust expression, `k` the
    /// path of the kernels' `activation` module.
    fn tokens(&self, k: &TokenStream) -> TokenStream;
}

impl ActivationExt for Activation {
    fn suffixed(&self, base: &str) -> String {
        match self {
            Activation::None => base.to_string(),
            a => format!("{base}+{}", a.op_name()),
        }
    }

    fn op_name(&self) -> &'static str {
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
            Activation::Selu { .. } => "Selu",
            Activation::Celu { .. } => "Celu",
            Activation::ThresholdedRelu { .. } => "ThresholdedRelu",
            Activation::Softplus => "Softplus",
            Activation::Softsign => "Softsign",
            Activation::Gelu | Activation::GeluTanh => "Gelu",
            Activation::Mish => "Mish",
            Activation::Swish => "Swish",
        }
    }

    fn tokens(&self, k: &TokenStream) -> TokenStream {
        let f = lit_f32;
        match *self {
            Activation::None => quote!(#k::Activation::None),
            Activation::Relu => quote!(#k::Activation::Relu),
            Activation::LeakyRelu { alpha } => {
                let a = f(alpha);
                quote!(#k::Activation::LeakyRelu { alpha: #a })
            }
            Activation::Clip { min, max } => {
                let (a, b) = (f(min), f(max));
                quote!(#k::Activation::Clip { min: #a, max: #b })
            }
            Activation::Sigmoid => quote!(#k::Activation::Sigmoid),
            Activation::HardSigmoid { alpha, beta } => {
                let (a, b) = (f(alpha), f(beta));
                quote!(#k::Activation::HardSigmoid { alpha: #a, beta: #b })
            }
            Activation::HardSwish => quote!(#k::Activation::HardSwish),
            Activation::Tanh => quote!(#k::Activation::Tanh),
            Activation::Elu { alpha } => {
                let a = f(alpha);
                quote!(#k::Activation::Elu { alpha: #a })
            }
            Activation::Selu { alpha, gamma } => {
                let (a, g) = (f(alpha), f(gamma));
                quote!(#k::Activation::Selu { alpha: #a, gamma: #g })
            }
            Activation::Celu { alpha } => {
                let a = f(alpha);
                quote!(#k::Activation::Celu { alpha: #a })
            }
            Activation::ThresholdedRelu { alpha } => {
                let a = f(alpha);
                quote!(#k::Activation::ThresholdedRelu { alpha: #a })
            }
            Activation::Softplus => quote!(#k::Activation::Softplus),
            Activation::Softsign => quote!(#k::Activation::Softsign),
            Activation::Gelu => quote!(#k::Activation::Gelu),
            Activation::GeluTanh => quote!(#k::Activation::GeluTanh),
            Activation::Mish => quote!(#k::Activation::Mish),
            Activation::Swish => quote!(#k::Activation::Swish),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_the_kernel_variant() {
        let k = quote!(zk::activation);
        let t = Activation::HardSigmoid {
            alpha: 0.2,
            beta: 0.5,
        }
        .tokens(&k)
        .to_string();
        assert_eq!(
            t,
            "zk :: activation :: Activation :: HardSigmoid { alpha : 0.2 , beta : 0.5 }"
        );
        assert_eq!(Activation::Relu.suffixed("Conv"), "Conv+Relu");
        assert_eq!(Activation::None.suffixed("Gemm"), "Gemm");
    }
}
