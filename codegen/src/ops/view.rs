//! Operators that only change how a tensor is seen: Reshape, Flatten,
//! Squeeze, Unsqueeze, Identity, Dropout (inference). They are zero-copy views
//! of their input; the emitter copies only when the result must land in a
//! caller's output buffer.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;

use super::util::{axis, const_in, const_ints_opt, req};
use super::{shape_err, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::NodeCx;
use crate::ir::{numel, DType, TensorData};

/// Which view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewKind {
    /// Reshape to the constant `shape` input (or attribute before opset 5).
    Reshape {
        /// `allowzero` (opset 14): a 0 in the shape means zero, not "copy".
        allow_zero: bool,
        /// Shape attribute (opset < 5).
        attr_shape: Option<Vec<i64>>,
    },
    /// Flatten to 2-D at `axis`.
    Flatten {
        /// Split axis.
        axis: i64,
    },
    /// Remove size-1 axes.
    Squeeze {
        /// Axes attribute (opset < 13), else the `axes` input.
        axes: Option<Vec<i64>>,
    },
    /// Insert size-1 axes.
    Unsqueeze {
        /// Axes attribute (opset < 13), else the `axes` input.
        axes: Option<Vec<i64>>,
    },
    /// Identity.
    Identity,
    /// Dropout at inference: identity (the optional mask output is all true).
    Dropout,
}

/// A parsed view node.
#[derive(Debug, Clone)]
pub struct View {
    /// Which view.
    pub kind: ViewKind,
}

/// Parses `Reshape`.
pub fn parse_reshape(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    let attr_shape = if opset < 5 {
        a.ints_opt("shape")?
    } else {
        None
    };
    Ok(Arc::new(View {
        kind: ViewKind::Reshape {
            allow_zero: a.int("allowzero", 0)? != 0,
            attr_shape,
        },
    }))
}
/// Parses `Flatten`.
pub fn parse_flatten(a: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(View {
        kind: ViewKind::Flatten {
            axis: a.int("axis", 1)?,
        },
    }))
}
/// Parses `Squeeze`.
pub fn parse_squeeze(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    let axes = if opset < 13 {
        a.ints_opt("axes")?
    } else {
        None
    };
    Ok(Arc::new(View {
        kind: ViewKind::Squeeze { axes },
    }))
}
/// Parses `Unsqueeze`.
pub fn parse_unsqueeze(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    let axes = if opset < 13 {
        a.ints_opt("axes")?
    } else {
        None
    };
    Ok(Arc::new(View {
        kind: ViewKind::Unsqueeze { axes },
    }))
}
/// Parses `Identity`.
pub fn parse_identity(_: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(View {
        kind: ViewKind::Identity,
    }))
}
/// Parses `Dropout`.
pub fn parse_dropout(_: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(View {
        kind: ViewKind::Dropout,
    }))
}

impl View {
    fn out_shape(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<usize>, OpError> {
        let x = req(inputs, 0)?;
        let xs = x.shape;
        let rank = xs.len();
        Ok(match &self.kind {
            ViewKind::Identity | ViewKind::Dropout => xs.to_vec(),
            ViewKind::Flatten { axis: a } => {
                let a = if *a < 0 { *a + rank as i64 } else { *a };
                if a < 0 || a > rank as i64 {
                    return Err(shape_err(format!(
                        "Flatten axis {a} out of range for rank {rank}"
                    )));
                }
                let a = a as usize;
                vec![xs[..a].iter().product(), xs[a..].iter().product()]
            }
            ViewKind::Reshape {
                allow_zero,
                attr_shape,
            } => {
                let target = match attr_shape {
                    Some(s) => s.clone(),
                    None => const_ints_opt(inputs, 1, "Reshape shape")?
                        .ok_or_else(|| shape_err("Reshape needs a shape input"))?,
                };
                let mut out = Vec::with_capacity(target.len());
                let mut infer_at = None;
                for (i, &d) in target.iter().enumerate() {
                    match d {
                        -1 => {
                            if infer_at.replace(i).is_some() {
                                return Err(shape_err("Reshape shape has more than one -1"));
                            }
                            out.push(1);
                        }
                        0 if !allow_zero => out.push(*xs.get(i).ok_or_else(|| {
                            shape_err("Reshape copies a dimension the input lacks")
                        })?),
                        d if d < 0 => return Err(shape_err(format!("Reshape shape has {d}"))),
                        d => out.push(d as usize),
                    }
                }
                let total = numel(xs);
                if let Some(i) = infer_at {
                    let rest: usize = out
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| *j != i)
                        .map(|(_, d)| *d)
                        .product();
                    if rest == 0 || !total.is_multiple_of(rest) {
                        return Err(shape_err(format!("cannot reshape {xs:?} to {target:?}")));
                    }
                    out[i] = total / rest;
                }
                if numel(&out) != total {
                    return Err(shape_err(format!(
                        "cannot reshape {xs:?} ({total} elements) to {out:?}"
                    )));
                }
                out
            }
            ViewKind::Squeeze { axes } => {
                let axes = match axes {
                    Some(a) => Some(a.clone()),
                    None => const_ints_opt(inputs, 1, "Squeeze axes")?,
                };
                match axes {
                    None => xs.iter().copied().filter(|&d| d != 1).collect(),
                    Some(axes) => {
                        let mut drop = vec![false; rank];
                        for a in axes {
                            let a = axis(a, rank)?;
                            if xs[a] != 1 {
                                return Err(shape_err(format!(
                                    "Squeeze axis {a} has size {}",
                                    xs[a]
                                )));
                            }
                            drop[a] = true;
                        }
                        xs.iter()
                            .zip(drop)
                            .filter(|(_, d)| !d)
                            .map(|(s, _)| *s)
                            .collect()
                    }
                }
            }
            ViewKind::Unsqueeze { axes } => {
                let axes = match axes {
                    Some(a) => a.clone(),
                    None => const_ints_opt(inputs, 1, "Unsqueeze axes")?
                        .ok_or_else(|| shape_err("Unsqueeze needs axes"))?,
                };
                let out_rank = rank + axes.len();
                let mut ins = vec![false; out_rank];
                for a in axes {
                    let a = axis(a, out_rank)?;
                    if ins[a] {
                        return Err(shape_err("Unsqueeze axes repeat"));
                    }
                    ins[a] = true;
                }
                let mut it = xs.iter();
                ins.iter()
                    .map(|&i| if i { 1 } else { *it.next().unwrap_or(&1) })
                    .collect()
            }
        })
    }
}

impl Op for View {
    fn name(&self) -> String {
        match self.kind {
            ViewKind::Reshape { .. } => "Reshape",
            ViewKind::Flatten { .. } => "Flatten",
            ViewKind::Squeeze { .. } => "Squeeze",
            ViewKind::Unsqueeze { .. } => "Unsqueeze",
            ViewKind::Identity => "Identity",
            ViewKind::Dropout => "Dropout",
        }
        .to_string()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        if self.kind == ViewKind::Dropout {
            // Opset 12+: training_mode input; true means random masking, which
            // has no place in an inference firmware.
            if let Some(t) = super::util::const_ints_opt(inputs, 2, "Dropout training_mode")? {
                if t.first().is_some_and(|&v| v != 0) {
                    return Err(super::unsupported(
                        "Dropout in training mode (random masking)",
                    ));
                }
            }
        }
        let shape = self.out_shape(inputs)?;
        let mut outs = vec![OutputInfo::new(x.dtype, shape)];
        if self.kind == ViewKind::Dropout {
            outs.push(OutputInfo::new(DType::Bool, x.shape.to_vec()));
        }
        Ok(outs)
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let x = const_in(inputs, 0)?;
        let mut outs = vec![x.reshaped(outputs[0].shape.clone())];
        if self.kind == ViewKind::Dropout {
            let n = numel(&outputs[1].shape);
            outs.push(TensorData::from_bool(
                outputs[1].shape.clone(),
                &vec![true; n],
            ));
        }
        Ok(outs)
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        // Reached only when the view cannot alias (its result is a graph output).
        let (x, y) = (cx.x(0), cx.y(0));
        let mut code = quote!(#y.copy_from_slice(#x););
        if self.kind == ViewKind::Dropout && cx.node().outputs.len() > 1 {
            let m = cx.y(1);
            code.extend(quote!(#m.fill(true);));
        }
        Ok(code)
    }

    fn reads_input(&self, i: usize) -> bool {
        i == 0
    }

    fn is_view(&self) -> bool {
        // Dropout's mask output is written; keep it a view only without one.
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
