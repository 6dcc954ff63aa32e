//! Emission: a planned [`Graph`] → `no_std` Rust source.
//!
//! Code is built as tokens (`quote!`) and formatted with `prettyplease`. The
//! output is deterministic: the same graph and plan give byte-identical files.
//! Weights become `static` arrays (they stay in flash), activations live in an
//! [`Arena`](#the-arena) laid out by the [`Plan`], and the generated code
//! calls the vendored `zant-kernels` kernels the [`KernelSet`] chose directly
//! (no run-time dispatch).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

use crate::ir::{DType, Graph, Node, TensorData, TensorId};
use crate::kernel_set::KernelSet;
use crate::ops::{InPlace, InputInfo, OpError, OutputInfo};
use crate::plan::{Plan, Storage};

/// An error while emitting code.
#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    /// A node cannot be emitted.
    #[error("node `{node}` ({op_type}): {error}")]
    Node {
        /// Node name.
        node: String,
        /// Op type.
        op_type: String,
        /// Cause.
        error: OpError,
    },
    /// The graph has a feature the emitter does not handle.
    #[error("{0}")]
    Unsupported(String),
}

/// Everything an operator needs to emit the code of one node.
#[derive(Debug)]
pub struct NodeCx<'a> {
    graph: &'a Graph,
    node: &'a Node,
    inplace: bool,
    inplace_form: Option<InPlace>,
    set: &'a KernelSet,
    chosen: RefCell<Option<String>>,
}

impl<'a> NodeCx<'a> {
    /// The node being emitted.
    pub fn node(&self) -> &Node {
        self.node
    }

    /// The kernel set of this build.
    pub fn kernel_set(&self) -> &KernelSet {
        self.set
    }

    /// Path of the reference kernel modules (`zk::reference`), which
    /// implement every operator. Records `reference` as this node's kernel
    /// unless the node names a specific one with [`kernel`](Self::kernel).
    pub fn kernels(&self) -> TokenStream {
        let mut c = self.chosen.borrow_mut();
        if c.is_none() {
            *c = Some("reference".to_string());
        }
        quote!(zk::reference)
    }

    /// The kernel function at `path` (under the vendored kernels, e.g.
    /// `fast::depthwise::depthwise`), recorded as this node's kernel.
    pub fn kernel(&self, path: &str) -> TokenStream {
        *self.chosen.borrow_mut() = Some(path.to_string());
        zk_path(path)
    }

    /// The kernel function at `path` instantiated with the micro-kernel of
    /// the kernel set (`fast::conv::conv::<zk::micro::Portable>`), recorded
    /// as this node's kernel.
    pub fn micro_kernel(&self, path: &str) -> TokenStream {
        let micro = self.set.micro();
        *self.chosen.borrow_mut() = Some(format!(
            "{path}<{}>",
            micro.rsplit("::").next().unwrap_or(micro)
        ));
        let f = zk_path(path);
        let m = zk_path(micro);
        quote!(#f::<#m>)
    }

    /// The integer kernel at `path` instantiated with the kernel set's dual
    /// multiply-accumulate ([`KernelSet::qmac`]):
    /// `qfast::conv::conv::<zk::arm::dsp::Dsp, _, _>`, recorded as this
    /// node's kernel (`qfast::conv::conv<Dsp>`).
    pub fn qmac_kernel(&self, path: &str) -> TokenStream {
        let mac = self.set.qmac();
        *self.chosen.borrow_mut() = Some(format!(
            "{path}<{}>",
            mac.rsplit("::").next().unwrap_or(mac)
        ));
        let f = zk_path(path);
        let m = zk_path(mac);
        quote!(#f::<#m, _, _>)
    }

    /// The `i8` matrix product at `path` instantiated with the kernel set's
    /// 8-bit dot product ([`KernelSet::dot8`]) and dual multiply-accumulate:
    /// `qfast::conv8::conv::<zk::arm::mve_int::HeliumDot, zk::arm::dsp::Dsp,
    /// _, _>`, recorded as this node's kernel (`qfast::conv8::conv<HeliumDot>`).
    /// On a set without an 8-bit dot product (the host build of a graph
    /// compiled for Helium, the reference of `bench` and `deploy`) the
    /// plain-Rust twin `qfast::conv8::PortableDot`, which gives the same
    /// results.
    pub fn dot8_kernel(&self, path: &str) -> TokenStream {
        let dot = self.set.dot8().unwrap_or("qfast::conv8::PortableDot");
        *self.chosen.borrow_mut() = Some(format!(
            "{path}<{}>",
            dot.rsplit("::").next().unwrap_or(dot)
        ));
        let f = zk_path(path);
        let d = zk_path(dot);
        let m = zk_path(self.set.qmac());
        quote!(#f::<#d, #m, _, _>)
    }

    /// Path of the kernel math module.
    pub fn math(&self) -> TokenStream {
        quote!(zk::math)
    }

    /// Type and shape (and data, for constants) of input `i`, if present.
    pub fn input(&self, i: usize) -> Option<InputInfo<'a>> {
        self.node.input(i).map(|id| self.graph.input_info(id))
    }

    /// All inputs, as given to [`Op::infer`](crate::ops::Op::infer).
    pub fn inputs(&self) -> Vec<Option<InputInfo<'a>>> {
        self.graph.input_infos(self.node)
    }

    /// Type and shape of output `i`.
    pub fn output(&self, i: usize) -> OutputInfo {
        let t = self.graph.tensor(self.node.outputs[i]);
        OutputInfo::new(t.dtype, t.shape.clone())
    }

    /// All outputs.
    pub fn outputs(&self) -> Vec<OutputInfo> {
        (0..self.node.outputs.len())
            .map(|i| self.output(i))
            .collect()
    }

    /// The `&[T]` binding of input `i` (`x0`, `x1`, …). Not bound for the
    /// input overwritten by an in-place node.
    pub fn x(&self, i: usize) -> TokenStream {
        let id = format_ident!("x{}", i);
        quote!(#id)
    }

    /// `Some(x{i})` or `None` for an optional input.
    pub fn x_opt(&self, i: usize) -> TokenStream {
        if self.node.input(i).is_some() {
            let x = self.x(i);
            quote!(Some(#x))
        } else {
            quote!(None)
        }
    }

    /// The `&mut [T]` binding of output `i` (`y0`, …). For an in-place node,
    /// `y0` holds the input's values on entry.
    pub fn y(&self, i: usize) -> TokenStream {
        let id = format_ident!("y{}", i);
        quote!(#id)
    }

    /// True when output 0 is computed in place over input
    /// [`Op::inplace_input`](crate::ops::Op::inplace_input), or over the input
    /// of the form [`inplace_form`](Self::inplace_form) names.
    pub fn inplace(&self) -> bool {
        self.inplace
    }

    /// The in-place form the planner took for this node, if any (one of
    /// [`Op::inplace_forms`](crate::ops::Op::inplace_forms)). Its input is
    /// not bound; `y0` holds that input's values on entry and spans the larger
    /// of the input and output 0.
    pub fn inplace_form(&self) -> Option<InPlace> {
        self.inplace_form
    }

    /// The `&mut [T]` binding of the in-place scratch (`s0`, elements of
    /// output 0's type), bound when the form taken has a scratch.
    pub fn scratch(&self) -> TokenStream {
        quote!(s0)
    }
}

/// `zk::<path>` as a path expression.
fn zk_path(path: &str) -> TokenStream {
    let p: syn::Path = syn::parse_str(&format!("zk::{path}"))
        .unwrap_or_else(|_| panic!("kernel path `{path}` is a Rust path"));
    quote!(#p)
}

/// A `usize` literal.
pub fn lit_usize(v: usize) -> Literal {
    Literal::usize_unsuffixed(v)
}

/// An `f32` expression that reproduces `v` bit for bit (non-finite values too).
pub fn lit_f32(v: f32) -> TokenStream {
    if v.is_finite() {
        let l = Literal::f32_unsuffixed(v);
        quote!(#l)
    } else if v.is_nan() {
        quote!(f32::NAN)
    } else if v > 0.0 {
        quote!(f32::INFINITY)
    } else {
        quote!(f32::NEG_INFINITY)
    }
}

/// `[a, b, c]` of `usize` literals.
pub fn arr_usize(v: &[usize]) -> TokenStream {
    let items = v.iter().map(|&x| lit_usize(x));
    quote!([#(#items),*])
}

/// `[a, b, c]` of `usize` literals padded with `fill` to `n` entries.
pub fn arr_usize_n(v: &[usize], n: usize, fill: usize) -> TokenStream {
    let mut a = v.to_vec();
    a.resize(n.max(v.len()), fill);
    arr_usize(&a)
}

/// The Rust element type of a dtype.
pub fn rust_type(dt: DType) -> TokenStream {
    let id = Ident::new(dt.rust_name(), Span::call_site());
    quote!(#id)
}

fn data_literals(d: &TensorData) -> Vec<TokenStream> {
    match d.dtype {
        DType::F32 => d.as_f32().into_iter().map(lit_f32).collect(),
        DType::F64 => d
            .as_f64_exact()
            .into_iter()
            .map(|v| {
                if v.is_finite() {
                    let l = Literal::f64_unsuffixed(v);
                    quote!(#l)
                } else {
                    let b = Literal::u64_suffixed(v.to_bits());
                    quote!(f64::from_bits(#b))
                }
            })
            .collect(),
        DType::Bool => d
            .bytes
            .iter()
            .map(|&b| if b != 0 { quote!(true) } else { quote!(false) })
            .collect(),
        DType::F16 | DType::U16 => d
            .as_u16()
            .into_iter()
            .map(|v| {
                let l = Literal::u16_unsuffixed(v);
                quote!(#l)
            })
            .collect(),
        _ => d
            .to_i64()
            .unwrap_or_default()
            .into_iter()
            .map(|v| {
                let l = Literal::i64_unsuffixed(v);
                quote!(#l)
            })
            .collect(),
    }
}

/// Makes a Rust identifier (snake_case) from an ONNX name: the shared
/// [`snake_case`](zant_common::names::snake_case), prefixed with `t_` where
/// that is not a usable identifier.
pub fn sanitize(name: &str) -> String {
    let s = zant_common::names::snake_case(name);
    let bad = s.is_empty()
        || s.starts_with(|c: char| c.is_ascii_digit())
        || syn::parse_str::<Ident>(&s).is_err()
        || s == "arena"
        || s == "self"
        || (s.len() > 1
            && s[1..].chars().all(|c| c.is_ascii_digit())
            && matches!(&s[..1], "r" | "x" | "y"));
    if bad {
        format!("t_{s}")
    } else {
        s
    }
}

pub use zant_common::surface::{IoSpec, NodeKernel, Surface};

/// The generated module body and its surface.
#[derive(Debug)]
pub struct EmittedModel {
    /// Items of the model module (weights, arena, `predict_in`, `predict`).
    pub tokens: TokenStream,
    /// Inputs, outputs and sizes.
    pub surface: Surface,
    /// The kernel each node calls, in execution order.
    pub kernels: Vec<NodeKernel>,
    /// Profiling builds: the nodes a marker precedes, in call order (one
    /// more marker follows the last); empty otherwise.
    pub profile_marks: Vec<String>,
}

fn unique_idents(names: &[&str], taken: &mut HashSet<String>) -> Vec<String> {
    names
        .iter()
        .map(|n| {
            let base = sanitize(n);
            let mut s = base.clone();
            let mut k = 1;
            while !taken.insert(s.clone()) {
                k += 1;
                s = format!("{base}_{k}");
            }
            s
        })
        .collect()
}

/// Emits the items of one model with the portable kernel set; see
/// [`emit_model_with`].
pub fn emit_model(graph: &Graph, plan: &Plan) -> Result<EmittedModel, EmitError> {
    emit_model_with(graph, plan, &KernelSet::portable())
}

/// Emits the items of one model: weights, the arena type, `predict_in` and
/// `predict`, calling the kernel variants of `set`. The items expect the
/// vendored kernels as `zk` in scope (`mod zk;` at a crate root,
/// `use crate::zk;` in a nested module).
pub fn emit_model_with(
    graph: &Graph,
    plan: &Plan,
    set: &KernelSet,
) -> Result<EmittedModel, EmitError> {
    emit_model_profiled(graph, plan, set, false)
}

/// Name of the profile marker function a profiling build calls before each
/// node and after the last one (the firmware defines it).
pub const PROFILE_MARK: &str = "zant_profile_mark";

/// [`emit_model_with`], and with `profile` a profiling build: `run` calls
/// the firmware's `extern "C" fn zant_profile_mark(node: u32)` before each
/// node that runs code (with its index in the graph) and once after the last
/// (with the node count), so a counter read at each call splits the
/// inference exactly between the nodes. [`EmittedModel::profile_marks`] names
/// the nodes in call order. Without `profile` the output is unchanged.
pub fn emit_model_profiled(
    graph: &Graph,
    plan: &Plan,
    set: &KernelSet,
    profile: bool,
) -> Result<EmittedModel, EmitError> {
    let mut taken: HashSet<String> = ["arena", "r0", "zk"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let in_names: Vec<&str> = graph
        .inputs
        .iter()
        .map(|&i| graph.tensor(i).name.as_str())
        .collect();
    let out_names: Vec<&str> = graph
        .outputs
        .iter()
        .map(|&i| graph.tensor(i).name.as_str())
        .collect();
    let in_idents = unique_idents(&in_names, &mut taken);
    let out_idents = unique_idents(&out_names, &mut taken);
    let spec = |ids: &[TensorId], idents: &[String]| -> Vec<IoSpec> {
        ids.iter()
            .zip(idents)
            .map(|(&id, ident)| {
                let t = graph.tensor(id);
                IoSpec {
                    name: t.name.clone(),
                    ident: ident.clone(),
                    elem: t.dtype.rust_name().to_string(),
                    len: t.numel(),
                    shape: t.shape.clone(),
                }
            })
            .collect()
    };
    for &id in graph.inputs.iter().chain(&graph.outputs) {
        let t = graph.tensor(id);
        if t.dtype == DType::F16 {
            return Err(EmitError::Unsupported(format!(
                "tensor `{}` is float16; zant computes float16 models only after conversion to float32",
                t.name
            )));
        }
    }
    let weights = emit_weights(graph, plan);
    let in_params: Vec<Ident> = in_idents.iter().map(|s| format_ident!("{}", s)).collect();
    let out_params: Vec<Ident> = out_idents.iter().map(|s| format_ident!("{}", s)).collect();
    let nodes = emit_nodes(graph, plan, set, &weights, &in_params, &out_params, profile)?;
    let mut tokens = emit_scaffold(
        graph,
        plan,
        &weights.items,
        &nodes.body,
        &in_params,
        &out_params,
    );
    if profile {
        let n = lit_usize(nodes.marks.len() + 1);
        tokens.extend(quote! {
            extern "C" {
                /// Profile marker, defined by the firmware: called before each
                /// node with its index and after the last with the node count.
                fn zant_profile_mark(node: u32);
            }

            /// Calls of `zant_profile_mark` in one inference (profiling build).
            pub const PROFILE_MARKS: usize = #n;
        });
    }
    Ok(EmittedModel {
        tokens,
        surface: Surface {
            inputs: spec(&graph.inputs, &in_idents),
            outputs: spec(&graph.outputs, &out_idents),
            arena_bytes: plan.arena_bytes(),
            weight_bytes: weights.bytes,
        },
        kernels: nodes.kernels,
        profile_marks: nodes.marks,
    })
}

/// The kernel each node of a compiled graph calls with the kernel set `set`
/// (what `zant inspect --board` shows).
pub fn node_kernels(
    graph: &Graph,
    plan: &Plan,
    set: &KernelSet,
) -> Result<Vec<NodeKernel>, EmitError> {
    Ok(emit_model_with(graph, plan, set)?.kernels)
}

/// The `static` weight arrays of a model.
struct Weights {
    /// Static of each constant tensor (by root tensor index).
    idents: BTreeMap<usize, Ident>,
    /// The `static` items.
    items: Vec<TokenStream>,
    /// Bytes of constant data.
    bytes: usize,
}

/// Constants read by nodes or returned as outputs become statics; when the
/// plan spreads the weights over several flash regions, each static gets its
/// region's linker section (on the target only; the host build ignores it).
fn emit_weights(graph: &Graph, plan: &Plan) -> Weights {
    let mut weight_idents: BTreeMap<usize, Ident> = BTreeMap::new();
    let mut weights = Vec::new();
    let mut weight_bytes = 0;
    let split = plan.weights.is_split();
    for id in crate::plan::weight_tensors(graph, plan) {
        let t = graph.tensor(id);
        let Some(d) = &t.data else { continue };
        let ident = format_ident!("ZANT_W_{}", weight_idents.len());
        let ty = rust_type(d.dtype);
        let n = lit_usize(d.numel());
        let vals = data_literals(d);
        let doc = format!(" `{}`: {} {:?}", t.name, d.dtype, d.shape);
        weight_bytes += d.bytes.len();
        let section = plan
            .weights
            .region_of
            .get(&id.0)
            .and_then(|&r| plan.weights.regions.get(r))
            .filter(|_| split)
            .map(|r| {
                let s = crate::plan::weights_section(&r.region);
                quote! { #[cfg_attr(target_os = "none", link_section = #s)] }
            });
        weights.push(quote! {
            #[doc = #doc]
            #section
            static #ident: [#ty; #n] = [#(#vals),*];
        });
        weight_idents.insert(id.0, ident);
    }
    Weights {
        idents: weight_idents,
        items: weights,
        bytes: weight_bytes,
    }
}

/// The node bodies of `run` and the kernel each node calls.
struct Nodes {
    body: Vec<TokenStream>,
    kernels: Vec<NodeKernel>,
    /// Profiling builds: the nodes a marker precedes, in order.
    marks: Vec<String>,
}

/// One block per node: bindings of its inputs and outputs, then its call.
fn emit_nodes(
    graph: &Graph,
    plan: &Plan,
    set: &KernelSet,
    weights: &Weights,
    in_params: &[Ident],
    out_params: &[Ident],
    profile: bool,
) -> Result<Nodes, EmitError> {
    let weight_idents = &weights.idents;
    let read_expr = |id: TensorId| -> TokenStream {
        let t = graph.tensor(id);
        let ty = rust_type(t.dtype);
        let len = lit_usize(t.numel());
        match plan.storage[id.0] {
            Some(Storage::Input(k)) => {
                let p = &in_params[k];
                quote!(&#p[..])
            }
            Some(Storage::Output(k)) => {
                let p = &out_params[k];
                quote!(&#p[..])
            }
            Some(Storage::Const) => {
                let w = &weight_idents[&plan.root[id.0].0];
                quote!(&#w[..])
            }
            Some(Storage::Arena { region, offset }) => {
                let off = lit_usize(offset);
                let r = format_ident!("r{}", region);
                quote!(unsafe { arena_slice::<#ty>(#r, #off, #len) })
            }
            None => quote!(&[]),
        }
    };
    let write_expr = |id: TensorId| -> Result<TokenStream, EmitError> {
        let t = graph.tensor(id);
        let ty = rust_type(t.dtype);
        let len = lit_usize(t.numel());
        match plan.storage[id.0] {
            Some(Storage::Output(k)) => {
                let p = &out_params[k];
                Ok(quote!(&mut #p[..]))
            }
            Some(Storage::Arena { region, offset }) => {
                let off = lit_usize(offset);
                let r = format_ident!("r{}", region);
                Ok(quote!(unsafe { arena_slice_mut::<#ty>(#r, #off, #len) }))
            }
            _ => Err(EmitError::Unsupported(format!(
                "tensor `{}` is written but has no writable storage",
                t.name
            ))),
        }
    };

    let mut body = Vec::new();
    let mut kernels = Vec::new();
    let mut marks = Vec::new();
    let mark = |i: usize| -> TokenStream {
        let i = Literal::u32_unsuffixed(i as u32);
        quote! {
            // SAFETY: the firmware's marker only reads a counter and stores it
            // in its own table; it touches nothing of the model.
            unsafe { zant_profile_mark(#i) };
        }
    };
    for (step, node) in graph.nodes.iter().enumerate() {
        if plan.aliased_view[step] {
            kernels.push(NodeKernel {
                node: node.name.clone(),
                kernel: "view".to_string(),
                absorbs: node.op.absorbs(),
            });
            continue;
        }
        let inplace = plan.inplace[step];
        let form = if inplace {
            plan.inplace_form[step]
        } else {
            None
        };
        let cx = NodeCx {
            graph,
            node,
            inplace,
            inplace_form: form,
            set,
            chosen: RefCell::new(None),
        };
        let call = node.op.emit(&cx).map_err(|error| EmitError::Node {
            node: node.name.clone(),
            op_type: node.op_type.clone(),
            error,
        })?;
        kernels.push(NodeKernel {
            node: node.name.clone(),
            kernel: cx.chosen.take().unwrap_or_else(|| "inline".to_string()),
            absorbs: node.op.absorbs(),
        });
        let skip_input = form.map(|f| f.input);
        let mut binds = Vec::new();
        for (i, inp) in node.inputs.iter().enumerate() {
            if let Some(id) = inp {
                if Some(i) == skip_input || !node.op.reads_input(i) {
                    continue;
                }
                let x = format_ident!("x{}", i);
                let e = read_expr(*id);
                let ty = rust_type(graph.tensor(*id).dtype);
                binds.push(quote!(let #x: &[#ty] = #e;));
            }
        }
        for (i, id) in node.outputs.iter().enumerate() {
            let y = format_ident!("y{}", i);
            let ty = rust_type(graph.tensor(*id).dtype);
            // In place: `y0` spans the input it is written over when that is larger.
            let over = form
                .filter(|_| i == 0)
                .and_then(|f| node.input(f.input))
                .filter(|x| graph.tensor(*x).numel() > graph.tensor(*id).numel());
            let e = match over {
                Some(x) => write_expr(x)?,
                None => write_expr(*id)?,
            };
            binds.push(quote!(let #y: &mut [#ty] = #e;));
        }
        if let (Some(f), Some(Storage::Arena { region, offset })) = (form, plan.scratch[step]) {
            let t = graph.tensor(node.outputs[0]);
            let ty = rust_type(t.dtype);
            let len = lit_usize(f.scratch / t.dtype.size());
            let off = lit_usize(offset);
            let r = format_ident!("r{}", region);
            binds.push(
                quote!(let s0: &mut [#ty] = unsafe { arena_slice_mut::<#ty>(#r, #off, #len) };),
            );
        }
        let doc = format!("{} `{}`", node.op.name(), node.name);
        if profile {
            marks.push(node.name.clone());
            body.push(mark(step));
        }
        body.push(quote! {
            {
                let _node = #doc;
                #(#binds)*
                #call
            }
        });
    }
    if profile {
        body.push(mark(graph.nodes.len()));
    }
    // Outputs that no node writes: constants, inputs, or tensors listed twice.
    for (k, &id) in graph.outputs.iter().enumerate() {
        if plan.storage[id.0] != Some(Storage::Output(k)) {
            let p = &out_params[k];
            let e = read_expr(id);
            body.push(quote!(#p.copy_from_slice(#e);));
        }
    }
    Ok(Nodes {
        body,
        kernels,
        marks,
    })
}

/// The arena type, region statics, weights, `run`, `predict_in` and `predict`.
fn emit_scaffold(
    graph: &Graph,
    plan: &Plan,
    weights: &[TokenStream],
    body: &[TokenStream],
    in_params: &[Ident],
    out_params: &[Ident],
) -> TokenStream {
    let arena_bytes = plan.arena_bytes();
    let arena_n = lit_usize(arena_bytes);
    let region_fields: Vec<Ident> = (0..plan.regions.len())
        .map(|r| format_ident!("r{}", r))
        .collect();
    let region_consts: Vec<Ident> = (0..plan.regions.len())
        .map(|r| format_ident!("ARENA_R{}_BYTES", r))
        .collect();
    let region_sizes: Vec<Literal> = plan.regions.iter().map(|r| lit_usize(r.bytes)).collect();
    let region_statics: Vec<Ident> = (0..plan.regions.len())
        .map(|r| format_ident!("ZANT_ARENA_R{}", r))
        .collect();
    let region_sections: Vec<String> = plan
        .regions
        .iter()
        .map(|r| arena_section(&r.region))
        .collect();
    let region_docs: Vec<String> = plan
        .regions
        .iter()
        .map(|r| format!(" Arena bytes in memory region `{}`.", r.region))
        .collect();
    let in_sig: Vec<TokenStream> = graph
        .inputs
        .iter()
        .zip(in_params)
        .map(|(&id, p)| {
            let t = graph.tensor(id);
            let ty = rust_type(t.dtype);
            let n = lit_usize(t.numel());
            quote!(#p: &[#ty; #n])
        })
        .collect();
    let out_sig: Vec<TokenStream> = graph
        .outputs
        .iter()
        .zip(out_params)
        .map(|(&id, p)| {
            let t = graph.tensor(id);
            let ty = rust_type(t.dtype);
            let n = lit_usize(t.numel());
            quote!(#p: &mut [#ty; #n])
        })
        .collect();

    let io_consts = io_constants(graph);
    let tokens = quote! {
        #io_consts

        /// Bytes of activation memory the model needs (the planned arena, all regions).
        pub const ARENA_BYTES: usize = #arena_n;
        #(
            #[doc = #region_docs]
            pub const #region_consts: usize = #region_sizes;
        )*

        #[repr(C, align(8))]
        struct Region<const N: usize>([u8; N]);

        /// Working memory of one inference. Place it where you want (a `static`,
        /// a specific RAM region); its contents need no initialisation.
        #[repr(C)]
        pub struct Arena {
            #(#region_fields: Region<#region_consts>,)*
        }

        impl Arena {
            /// A zeroed arena.
            pub const fn new() -> Self {
                Arena { #(#region_fields: Region([0; #region_consts]),)* }
            }
        }

        impl Default for Arena {
            fn default() -> Self {
                Self::new()
            }
        }

        impl core::fmt::Debug for Arena {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "Arena({} bytes)", ARENA_BYTES)
            }
        }

        /// Borrows `len` elements of `T` at byte offset `off` of an arena region.
        ///
        /// # Safety
        ///
        /// `off` is a multiple of `align_of::<T>()` (the planner aligns every
        /// buffer to 8 bytes and regions are 8-aligned), `off + len * size_of::<T>()`
        /// is within the region `base` points to (the planner sized the region
        /// for every buffer), the caller holds the region exclusively (it comes
        /// from `&mut Arena`), and no other slice alive at the same time
        /// overlaps this one mutably (the plan gives tensors that are live at the
        /// same time disjoint byte ranges; an in-place node binds only its output).
        /// Every byte pattern of the region is a valid `T` because it was written as `T`
        /// by the node producing the tensor, or zeroed by `Arena::new`.
        #[allow(dead_code)]
        #[inline(always)]
        unsafe fn arena_slice<'a, T>(base: *mut u8, off: usize, len: usize) -> &'a [T] {
            // SAFETY: guaranteed by the caller, see above.
            unsafe { core::slice::from_raw_parts(base.add(off).cast::<T>(), len) }
        }

        /// Mutable form of [`arena_slice`]; same contract.
        #[allow(dead_code)]
        #[inline(always)]
        unsafe fn arena_slice_mut<'a, T>(base: *mut u8, off: usize, len: usize) -> &'a mut [T] {
            // SAFETY: guaranteed by the caller, see `arena_slice`.
            unsafe { core::slice::from_raw_parts_mut(base.add(off).cast::<T>(), len) }
        }

        #(#weights)*

        /// Runs one inference over raw arena regions.
        ///
        /// # Safety
        ///
        /// Each region pointer points to a writable block of that region's
        /// size (`ARENA_R*_BYTES`), 8-byte aligned, that nothing else reads
        /// or writes during the call. Every `unsafe` block in the body then
        /// borrows a range of a region through [`arena_slice`] /
        /// [`arena_slice_mut`], whose contract the memory plan guarantees
        /// (aligned, in bounds, disjoint while live).
        #[allow(unused_variables, clippy::too_many_arguments)]
        #[inline(never)]
        unsafe fn run(#(#region_fields: *mut u8,)* #(#in_sig,)* #(#out_sig),*) {
            #(#body)*
        }

        /// Runs one inference using the caller's arena.
        #[allow(clippy::too_many_arguments)]
        pub fn predict_in(arena: &mut Arena, #(#in_sig,)* #(#out_sig),*) {
            // SAFETY: the regions of `arena` are borrowed exclusively for the
            // call, 8-aligned (`Region` is `align(8)`) and sized by the plan.
            unsafe { run(#(arena.#region_fields.0.as_mut_ptr(),)* #(#in_params,)* #(#out_params),*) }
        }

        #[cfg(target_has_atomic = "8")]
        mod static_arena {
            use core::cell::UnsafeCell;
            use core::sync::atomic::AtomicBool;

            /// One arena region in a static.
            pub(super) struct RegionCell<const N: usize>(pub(super) UnsafeCell<super::Region<N>>);

            // SAFETY: the cells are only accessed inside `predict`, while
            // `BUSY` is held, so there is never more than one user.
            unsafe impl<const N: usize> Sync for RegionCell<N> {}

            /// Held while `predict` runs.
            pub(super) static BUSY: AtomicBool = AtomicBool::new(false);

            #(
                #[cfg_attr(target_os = "none", link_section = #region_sections)]
                pub(super) static #region_statics: RegionCell<{ super::#region_consts }> =
                    RegionCell(UnsafeCell::new(super::Region([0; super::#region_consts])));
            )*
        }

        /// `predict` was called while another call was running (from an interrupt
        /// or another thread). Use [`predict_in`] with an arena of your own there.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct Busy;

        /// Runs one inference in the crate's own static arena.
        #[cfg(target_has_atomic = "8")]
        #[allow(clippy::too_many_arguments)]
        pub fn predict(#(#in_sig,)* #(#out_sig),*) -> Result<(), Busy> {
            use core::sync::atomic::Ordering;
            if static_arena::BUSY.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
                return Err(Busy);
            }
            // SAFETY: `BUSY` was false and is now ours: no other reference to
            // the static regions exists until it is cleared; the statics are
            // `Region`s, so 8-aligned and of the planned sizes.
            unsafe { run(#(static_arena::#region_statics.0.get().cast::<u8>(),)* #(#in_params,)* #(#out_params),*) };
            static_arena::BUSY.store(false, Ordering::Release);
            Ok(())
        }
    };
    tokens
}

// Linker section of the static arena of a memory region
// (`.bss.zant_arena.dtcm`); firmware linker scripts place it in that region.
pub use zant_common::names::arena_section;

fn io_constants(graph: &Graph) -> TokenStream {
    let mut items = Vec::new();
    let single_in = graph.inputs.len() == 1;
    let single_out = graph.outputs.len() == 1;
    for (kind, ids, single) in [
        ("INPUT", &graph.inputs, single_in),
        ("OUTPUT", &graph.outputs, single_out),
    ] {
        for (k, &id) in ids.iter().enumerate() {
            let t = graph.tensor(id);
            let prefix = if single {
                kind.to_string()
            } else {
                format!("{kind}{k}")
            };
            let shape_id = format_ident!("{}_SHAPE", prefix);
            let len_id = format_ident!("{}_LEN", prefix);
            let name_id = format_ident!("{}_NAME", prefix);
            let rank = lit_usize(t.shape.len());
            let shape = arr_usize(&t.shape);
            let len = lit_usize(t.numel());
            let name = &t.name;
            let d1 = format!(" Shape of `{}`.", t.name);
            let d2 = format!(" Element count of `{}`.", t.name);
            let d3 = format!(" ONNX name of {} {}.", kind.to_lowercase(), k);
            items.push(quote! {
                #[doc = #d1]
                pub const #shape_id: [usize; #rank] = #shape;
                #[doc = #d2]
                pub const #len_id: usize = #len;
                #[doc = #d3]
                pub const #name_id: &str = #name;
            });
        }
    }
    quote!(#(#items)*)
}

/// Formats a token stream as a Rust file.
pub fn format_file(tokens: TokenStream) -> Result<String, EmitError> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| {
        EmitError::Unsupported(format!(
            "internal error: generated code does not parse: {e}"
        ))
    })?;
    Ok(prettyplease::unparse(&file))
}
