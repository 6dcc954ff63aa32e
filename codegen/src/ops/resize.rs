//! `Resize` (opsets 10–19) and `Upsample` (opsets 7–9): nearest (all
//! `nearest_mode`s), linear and cubic interpolation with the ONNX coordinate
//! transformation modes; `scales` or `sizes`, `axes` and
//! `keep_aspect_ratio_policy` (opset 18). `antialias=1` is rejected.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;
use zant_kernels::reference::resize::{CoordMode, NearestMode, ResizeMode, ResizeParams};
use zant_kernels::reference::shape::MAX_RANK;

use super::util::{const_floats_opt, const_ints_opt, expect_dtype, req};
use super::{shape_err, unsupported, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::{arr_usize, lit_f32, lit_usize, NodeCx};
use crate::ir::{numel, DType, TensorData};

/// Where the scales / sizes / roi come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// Upsample 7–8: scales attribute.
    AttrScales(Vec<f32>),
    /// Resize 10 / Upsample 9: scales at input 1.
    ScalesInput1,
    /// Resize 11+: roi at 1, scales at 2, sizes at 3.
    Full,
}

/// `keep_aspect_ratio_policy` (opset 18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AspectPolicy {
    /// Use the sizes as given.
    Stretch,
    /// Scale so that no axis exceeds its size.
    NotLarger,
    /// Scale so that no axis is smaller than its size.
    NotSmaller,
}

/// A parsed Resize / Upsample node.
#[derive(Debug, Clone)]
pub struct Resize {
    /// ONNX op type.
    pub op_type: &'static str,
    /// Interpolation.
    pub mode: ResizeMode,
    /// Coordinate transformation.
    pub coord: CoordMode,
    /// Inputs layout.
    pub source: Source,
    /// Axes the scales / sizes apply to (opset 18).
    pub axes: Option<Vec<i64>>,
    /// Aspect ratio policy for sizes.
    pub policy: AspectPolicy,
    /// Extrapolation value (tf_crop_and_resize).
    pub extrapolation_value: f32,
    /// exclude_outside.
    pub exclude_outside: bool,
}

fn attr_err(name: &str, message: String) -> OpError {
    OpError::Attribute {
        name: name.into(),
        message,
    }
}

fn parse_mode(mode: &str, nearest: NearestMode, cubic_a: f32) -> Result<ResizeMode, OpError> {
    match mode {
        "nearest" => Ok(ResizeMode::Nearest(nearest)),
        "linear" | "bilinear" | "trilinear" => Ok(ResizeMode::Linear),
        "cubic" => Ok(ResizeMode::Cubic { a: cubic_a }),
        m => Err(attr_err(
            "mode",
            format!("unknown mode `{m}` (nearest, linear, cubic)"),
        )),
    }
}

/// Parses `Resize`.
pub fn parse_resize(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    if opset < 11 {
        // Opset 10: asymmetric coordinates, nearest rounds down.
        let mode = a.string("mode", "nearest")?;
        return Ok(Arc::new(Resize {
            op_type: "Resize",
            mode: parse_mode(&mode, NearestMode::Floor, -0.75)?,
            coord: CoordMode::Asymmetric,
            source: Source::ScalesInput1,
            axes: None,
            policy: AspectPolicy::Stretch,
            extrapolation_value: 0.0,
            exclude_outside: false,
        }));
    }
    if a.int("antialias", 0)? != 0 {
        return Err(unsupported("Resize with antialias=1"));
    }
    let nearest = match a.string("nearest_mode", "round_prefer_floor")?.as_str() {
        "round_prefer_floor" => NearestMode::RoundPreferFloor,
        "round_prefer_ceil" => NearestMode::RoundPreferCeil,
        "floor" => NearestMode::Floor,
        "ceil" => NearestMode::Ceil,
        m => return Err(attr_err("nearest_mode", format!("unknown value `{m}`"))),
    };
    let coord = match a
        .string("coordinate_transformation_mode", "half_pixel")?
        .as_str()
    {
        "half_pixel" => CoordMode::HalfPixel,
        "half_pixel_symmetric" => CoordMode::HalfPixelSymmetric,
        "pytorch_half_pixel" => CoordMode::PytorchHalfPixel,
        "align_corners" => CoordMode::AlignCorners,
        "asymmetric" => CoordMode::Asymmetric,
        "tf_half_pixel_for_nn" => CoordMode::TfHalfPixelForNn,
        "tf_crop_and_resize" => CoordMode::TfCropAndResize,
        m => {
            return Err(attr_err(
                "coordinate_transformation_mode",
                format!("unknown value `{m}`"),
            ))
        }
    };
    let policy = match a.string("keep_aspect_ratio_policy", "stretch")?.as_str() {
        "stretch" => AspectPolicy::Stretch,
        "not_larger" => AspectPolicy::NotLarger,
        "not_smaller" => AspectPolicy::NotSmaller,
        m => {
            return Err(attr_err(
                "keep_aspect_ratio_policy",
                format!("unknown value `{m}`"),
            ))
        }
    };
    let mode = a.string("mode", "nearest")?;
    Ok(Arc::new(Resize {
        op_type: "Resize",
        mode: parse_mode(&mode, nearest, a.float("cubic_coeff_a", -0.75)?)?,
        coord,
        source: Source::Full,
        axes: a.ints_opt("axes")?,
        policy,
        extrapolation_value: a.float("extrapolation_value", 0.0)?,
        exclude_outside: a.int("exclude_outside", 0)? != 0,
    }))
}

/// Parses `Upsample` (deprecated in opset 10).
pub fn parse_upsample(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    let mode = a.string("mode", "nearest")?;
    let source = if opset < 9 {
        Source::AttrScales(
            a.floats_opt("scales")?
                .ok_or_else(|| attr_err("scales", "is required".into()))?,
        )
    } else {
        Source::ScalesInput1
    };
    Ok(Arc::new(Resize {
        op_type: "Upsample",
        mode: parse_mode(&mode, NearestMode::Floor, -0.75)?,
        coord: CoordMode::Asymmetric,
        source,
        axes: None,
        policy: AspectPolicy::Stretch,
        extrapolation_value: 0.0,
        exclude_outside: false,
    }))
}

impl Resize {
    /// Resolves kernel parameters and the output shape.
    pub fn params(
        &self,
        inputs: &[Option<InputInfo<'_>>],
    ) -> Result<(ResizeParams, Vec<usize>), OpError> {
        let x = req(inputs, 0)?;
        let r = x.shape.len();
        if r > MAX_RANK || r == 0 {
            return Err(unsupported(format!(
                "{} of rank {r} (1 to {MAX_RANK})",
                self.op_type
            )));
        }
        let axes: Vec<usize> = match &self.axes {
            None => (0..r).collect(),
            Some(a) => a
                .iter()
                .map(|&v| super::util::axis(v, r))
                .collect::<Result<_, _>>()?,
        };
        let (scales_in, sizes_in, roi) = match &self.source {
            Source::AttrScales(s) => (
                Some(s.iter().map(|&v| v as f64).collect::<Vec<_>>()),
                None,
                None,
            ),
            Source::ScalesInput1 => (const_floats_opt(inputs, 1, "scales")?, None, None),
            Source::Full => (
                const_floats_opt(inputs, 2, "scales")?,
                const_ints_opt(inputs, 3, "sizes")?,
                if self.coord == CoordMode::TfCropAndResize {
                    const_floats_opt(inputs, 1, "roi")?
                } else {
                    None
                },
            ),
        };
        let scales_in = scales_in.filter(|s| !s.is_empty());
        let sizes_in = sizes_in.filter(|s| !s.is_empty());
        let mut scales = [1f32; MAX_RANK];
        let mut out: Vec<usize> = x.shape.to_vec();
        match (scales_in, sizes_in) {
            (Some(s), None) => {
                if s.len() != axes.len() {
                    return Err(shape_err(format!(
                        "scales has {} values for {} axes",
                        s.len(),
                        axes.len()
                    )));
                }
                for (&ax, &v) in axes.iter().zip(&s) {
                    if v <= 0.0 {
                        return Err(shape_err(format!("scale {v} must be positive")));
                    }
                    scales[ax] = v as f32;
                    out[ax] = (x.shape[ax] as f64 * v as f32 as f64).floor() as usize;
                }
            }
            (None, Some(sz)) => {
                if sz.len() != axes.len() || sz.iter().any(|&v| v < 0) {
                    return Err(shape_err(format!(
                        "sizes {sz:?} must have {} non-negative values",
                        axes.len()
                    )));
                }
                let ratio = |ax: usize, v: i64| v as f64 / x.shape[ax] as f64;
                let common = match self.policy {
                    AspectPolicy::Stretch => None,
                    AspectPolicy::NotLarger => Some(
                        axes.iter()
                            .zip(&sz)
                            .map(|(&a, &v)| ratio(a, v))
                            .fold(f64::INFINITY, f64::min),
                    ),
                    AspectPolicy::NotSmaller => Some(
                        axes.iter()
                            .zip(&sz)
                            .map(|(&a, &v)| ratio(a, v))
                            .fold(0.0, f64::max),
                    ),
                };
                for (&ax, &v) in axes.iter().zip(&sz) {
                    match common {
                        None => {
                            out[ax] = v as usize;
                            scales[ax] = ratio(ax, v) as f32;
                        }
                        Some(c) => {
                            out[ax] = (x.shape[ax] as f64 * c).round() as usize;
                            scales[ax] = c as f32;
                        }
                    }
                }
            }
            (Some(_), Some(_)) => {
                return Err(shape_err("only one of scales and sizes may be given"))
            }
            (None, None) => return Err(shape_err("one of scales and sizes is required")),
        }
        let mut roi_start = [0f32; MAX_RANK];
        let mut roi_end = [1f32; MAX_RANK];
        if let Some(roi) = roi.filter(|v| !v.is_empty()) {
            let n = axes.len();
            if roi.len() != 2 * n {
                return Err(shape_err(format!(
                    "roi has {} values, expected {}",
                    roi.len(),
                    2 * n
                )));
            }
            for (i, &ax) in axes.iter().enumerate() {
                roi_start[ax] = roi[i] as f32;
                roi_end[ax] = roi[n + i] as f32;
            }
        }
        let mut in_shape = [1usize; MAX_RANK];
        in_shape[..r].copy_from_slice(x.shape);
        let mut out_shape = [1usize; MAX_RANK];
        out_shape[..r].copy_from_slice(&out);
        Ok((
            ResizeParams {
                rank: r,
                in_shape,
                out_shape,
                scales,
                mode: self.mode,
                coord: self.coord,
                roi_start,
                roi_end,
                extrapolation_value: self.extrapolation_value,
                exclude_outside: self.exclude_outside,
            },
            out,
        ))
    }
}

fn f32_arr(v: &[f32]) -> TokenStream {
    let items = v.iter().map(|&x| lit_f32(x));
    quote!([#(#items),*])
}

impl Op for Resize {
    fn name(&self) -> String {
        self.op_type.into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        expect_dtype("input X", x.dtype, &[DType::F32])?;
        let (_, out) = self.params(inputs)?;
        Ok(vec![OutputInfo::new(DType::F32, out)])
    }

    fn reads_input(&self, i: usize) -> bool {
        i == 0
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let infos: Vec<Option<InputInfo<'_>>> = inputs
            .iter()
            .map(|t| {
                t.map(|t| InputInfo {
                    dtype: t.dtype,
                    shape: &t.shape,
                    data: Some(t),
                })
            })
            .collect();
        let (p, _) = self.params(&infos)?;
        let Some(Some(x)) = inputs.first() else {
            return Err(OpError::NotFoldable);
        };
        let mut y = vec![0f32; numel(&outputs[0].shape)];
        zant_kernels::reference::resize::resize(&x.as_f32(), &mut y, &p);
        Ok(vec![TensorData::from_f32(outputs[0].shape.clone(), &y)])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let (p, _) = self.params(&cx.inputs())?;
        let k = cx.kernels();
        let m = quote!(#k::resize);
        let mode = match p.mode {
            ResizeMode::Nearest(n) => {
                let n = match n {
                    NearestMode::RoundPreferFloor => quote!(RoundPreferFloor),
                    NearestMode::RoundPreferCeil => quote!(RoundPreferCeil),
                    NearestMode::Floor => quote!(Floor),
                    NearestMode::Ceil => quote!(Ceil),
                };
                quote!(#m::ResizeMode::Nearest(#m::NearestMode::#n))
            }
            ResizeMode::Linear => quote!(#m::ResizeMode::Linear),
            ResizeMode::Cubic { a } => {
                let a = lit_f32(a);
                quote!(#m::ResizeMode::Cubic { a: #a })
            }
        };
        let coord = match p.coord {
            CoordMode::HalfPixel => quote!(HalfPixel),
            CoordMode::HalfPixelSymmetric => quote!(HalfPixelSymmetric),
            CoordMode::PytorchHalfPixel => quote!(PytorchHalfPixel),
            CoordMode::AlignCorners => quote!(AlignCorners),
            CoordMode::Asymmetric => quote!(Asymmetric),
            CoordMode::TfHalfPixelForNn => quote!(TfHalfPixelForNn),
            CoordMode::TfCropAndResize => quote!(TfCropAndResize),
        };
        let r = lit_usize(p.rank);
        let (is, os) = (arr_usize(&p.in_shape), arr_usize(&p.out_shape));
        let (sc, rs, re) = (
            f32_arr(&p.scales),
            f32_arr(&p.roi_start),
            f32_arr(&p.roi_end),
        );
        let ev = lit_f32(p.extrapolation_value);
        let eo = p.exclude_outside;
        let (x, y) = (cx.x(0), cx.y(0));
        Ok(quote! {
            #m::resize(#x, #y, &#m::ResizeParams {
                rank: #r, in_shape: #is, out_shape: #os, scales: #sc, mode: #mode,
                coord: #m::CoordMode::#coord, roi_start: #rs, roi_end: #re,
                extrapolation_value: #ev, exclude_outside: #eo,
            });
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsample_nearest() {
        let op = Resize {
            op_type: "Upsample",
            mode: ResizeMode::Nearest(NearestMode::Floor),
            coord: CoordMode::Asymmetric,
            source: Source::AttrScales(vec![1.0, 1.0, 2.0, 2.0]),
            axes: None,
            policy: AspectPolicy::Stretch,
            extrapolation_value: 0.0,
            exclude_outside: false,
        };
        let x = TensorData::from_f32(vec![1, 1, 1, 2], &[1., 2.]);
        let xi = InputInfo {
            dtype: DType::F32,
            shape: &x.shape,
            data: None,
        };
        let out = op.infer(&[Some(xi)]).unwrap();
        assert_eq!(out[0].shape, vec![1, 1, 2, 4]);
        let y = op.eval(&[Some(&x)], &out).unwrap().remove(0).as_f32();
        assert_eq!(y, vec![1., 1., 2., 2., 1., 1., 2., 2.]);
    }

    #[test]
    fn resize_sizes_linear() {
        let a = Attrs::new(vec![], vec![]);
        let op = parse_resize(&a, 13).unwrap();
        let x = TensorData::from_f32(vec![1, 2], &[0., 4.]);
        let sizes = TensorData::from_i64(vec![2], &[1, 4]);
        let xi = InputInfo {
            dtype: DType::F32,
            shape: &x.shape,
            data: None,
        };
        let si = InputInfo {
            dtype: DType::I64,
            shape: &sizes.shape,
            data: Some(&sizes),
        };
        let out = op.infer(&[Some(xi), None, None, Some(si)]).unwrap();
        assert_eq!(out[0].shape, vec![1, 4]);
        // nearest, half_pixel, round_prefer_floor: sources 0,0,1,1
        let y = op
            .eval(&[Some(&x), None, None, Some(&sizes)], &out)
            .unwrap()
            .remove(0)
            .as_f32();
        assert_eq!(y, vec![0., 0., 4., 4.]);
    }
}
