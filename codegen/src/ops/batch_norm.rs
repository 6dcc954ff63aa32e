//! `BatchNormalization` (inference form), and [`fold_batch_norm`], the pass
//! folding it into a preceding Conv or Gemm with constant weights.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;
use zant_kernels::reference::norm::BatchNormParams;

use super::conv::Conv;
use super::gemm::Gemm;
use super::util::{expect_dtype, req};
use super::{shape_err, unsupported, Activation, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::{lit_f32, lit_usize, NodeCx};
use crate::ir::{DType, Graph, Node, Tensor, TensorData, TensorId};

/// A parsed BatchNormalization node (inference).
#[derive(Debug, Clone)]
pub struct BatchNorm {
    /// Added to the variance.
    pub epsilon: f32,
}

/// Parses `BatchNormalization` (opsets 1–15). Training mode (`training_mode=1`
/// from opset 14, or the running-statistics outputs) is rejected.
pub fn parse(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    if opset >= 14 && a.int("training_mode", 0)? != 0 {
        return Err(unsupported(
            "BatchNormalization with training_mode=1 (zant runs inference only; export the model in eval mode)",
        ));
    }
    if opset < 9 && a.int("spatial", 1)? == 0 {
        return Err(unsupported(
            "BatchNormalization with spatial=0 (per-element statistics); only spatial=1 is supported",
        ));
    }
    Ok(Arc::new(BatchNorm {
        epsilon: a.float("epsilon", 1e-5)?,
    }))
}

impl BatchNorm {
    /// Kernel parameters for an input of shape `x`.
    pub fn params(&self, x: &[usize]) -> Result<BatchNormParams, OpError> {
        if x.len() < 2 {
            return Err(shape_err(format!(
                "BatchNormalization input must be [N, C, ...], got shape {x:?}"
            )));
        }
        Ok(BatchNormParams {
            batch: x[0],
            channels: x[1],
            spatial: x[2..].iter().product(),
            epsilon: self.epsilon,
        })
    }
}

impl Op for BatchNorm {
    fn name(&self) -> String {
        "BatchNormalization".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        expect_dtype("input X", x.dtype, &[DType::F32])?;
        let p = self.params(x.shape)?;
        for (i, what) in [(1, "scale"), (2, "B"), (3, "input_mean"), (4, "input_var")] {
            let t = req(inputs, i)?;
            expect_dtype(what, t.dtype, &[DType::F32])?;
            if t.shape != [p.channels] {
                return Err(shape_err(format!(
                    "{what} must have shape [{}] (one value per channel), got {:?}",
                    p.channels, t.shape
                )));
            }
        }
        if inputs.len() > 5 {
            return Err(unsupported("BatchNormalization with extra inputs"));
        }
        Ok(vec![OutputInfo::new(DType::F32, x.shape.to_vec())])
    }

    fn macs(&self, inputs: &[Option<InputInfo<'_>>], _outputs: &[OutputInfo]) -> u64 {
        inputs
            .first()
            .copied()
            .flatten()
            .map(|x| x.shape.iter().product::<usize>() as u64)
            .unwrap_or(0)
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let mut v = Vec::new();
        for i in 0..5 {
            match inputs.get(i).copied().flatten() {
                Some(t) => v.push(t),
                None => return Err(OpError::NotFoldable),
            }
        }
        let p = self.params(&v[0].shape)?;
        let x = v[0].as_f32();
        let mut y = vec![0f32; x.len()];
        zant_kernels::reference::norm::batch_norm(
            &x,
            &mut y,
            &v[1].as_f32(),
            &v[2].as_f32(),
            &v[3].as_f32(),
            &v[4].as_f32(),
            &p,
        );
        Ok(vec![TensorData::from_f32(outputs[0].shape.clone(), &y)])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let p = self.params(req(&ins, 0)?.shape)?;
        let k = cx.kernels();
        let [b, c, s] = [p.batch, p.channels, p.spatial].map(lit_usize);
        let eps = lit_f32(p.epsilon);
        let [x, sc, bi, me, va] = [0, 1, 2, 3, 4].map(|i| cx.x(i));
        let y = cx.y(0);
        Ok(quote! {
            #k::norm::batch_norm(#x, #y, #sc, #bi, #me, #va, &#k::norm::BatchNormParams {
                batch: #b, channels: #c, spatial: #s, epsilon: #eps,
            });
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Per-channel affine form of a constant BatchNormalization: `y = a·x + b`.
fn affine(graph: &Graph, node: &Node, bn: &BatchNorm) -> Option<(Vec<f32>, Vec<f32>)> {
    let mut v = Vec::new();
    for i in 1..5 {
        let t = graph.tensor(node.input(i)?);
        if t.dtype != DType::F32 {
            return None;
        }
        v.push(t.data.as_ref()?.as_f32());
    }
    let c = v[0].len();
    if v.iter().any(|x| x.len() != c) {
        return None;
    }
    let a: Vec<f32> = (0..c)
        .map(|i| v[0][i] / (v[3][i] + bn.epsilon).sqrt())
        .collect();
    let b: Vec<f32> = (0..c).map(|i| v[1][i] - v[2][i] * a[i]).collect();
    Some((a, b))
}

fn add_const(tensors: &mut Vec<Tensor>, name: String, data: TensorData) -> TensorId {
    tensors.push(Tensor {
        name,
        dtype: DType::F32,
        shape: data.shape.clone(),
        data: Some(Arc::new(data)),
    });
    TensorId(tensors.len() - 1)
}

/// Folds a Conv with constant weights (and bias) into new weights and bias.
fn fold_conv(
    graph: &Graph,
    tensors: &mut Vec<Tensor>,
    conv: &Node,
    a: &[f32],
    b: &[f32],
) -> Option<Vec<Option<TensorId>>> {
    let w = graph.tensor(conv.input(1)?);
    let wd = w.data.as_ref()?;
    if w.dtype != DType::F32 || w.shape.first() != Some(&a.len()) {
        return None;
    }
    let per = w.numel() / a.len().max(1);
    let mut wv = wd.as_f32();
    for (i, v) in wv.iter_mut().enumerate() {
        *v *= a[i / per.max(1)];
    }
    let bias: Vec<f32> = match conv.input(2) {
        Some(t) => {
            let bt = graph.tensor(t);
            let bv = bt.data.as_ref()?.as_f32();
            if bt.dtype != DType::F32 || bv.len() != a.len() {
                return None;
            }
            (0..a.len()).map(|i| bv[i] * a[i] + b[i]).collect()
        }
        None => b.to_vec(),
    };
    let wn = add_const(
        tensors,
        format!("{}.bn_folded_weight", w.name),
        TensorData::from_f32(w.shape.clone(), &wv),
    );
    let bn = add_const(
        tensors,
        format!("{}.bn_folded_bias", conv.name),
        TensorData::from_f32(vec![a.len()], &bias),
    );
    Some(vec![conv.inputs[0], Some(wn), Some(bn)])
}

/// Folds a Gemm with constant B (and C of shape [N], [1, N], [1] or scalar).
fn fold_gemm(
    graph: &Graph,
    tensors: &mut Vec<Tensor>,
    node: &Node,
    gemm: &Gemm,
    a: &[f32],
    b: &[f32],
) -> Option<(Vec<Option<TensorId>>, Gemm)> {
    let bt = graph.tensor(node.input(1)?);
    if bt.dtype != DType::F32 || bt.shape.len() != 2 {
        return None;
    }
    let n = if gemm.trans_b {
        bt.shape[0]
    } else {
        bt.shape[1]
    };
    if n != a.len() {
        return None;
    }
    let mut bv = bt.data.as_ref()?.as_f32();
    let cols = bt.shape[1];
    for (i, v) in bv.iter_mut().enumerate() {
        let ch = if gemm.trans_b { i / cols } else { i % cols };
        *v *= a[ch];
    }
    let c: Vec<f32> = match node.input(2) {
        Some(t) => {
            let ct = graph.tensor(t);
            let cv = ct.data.as_ref()?.as_f32();
            if ct.dtype != DType::F32 || ct.shape.iter().rev().skip(1).any(|&d| d != 1) {
                return None;
            }
            match cv.len() {
                1 => (0..n).map(|i| gemm.beta * cv[0] * a[i] + b[i]).collect(),
                l if l == n => (0..n).map(|i| gemm.beta * cv[i] * a[i] + b[i]).collect(),
                _ => return None,
            }
        }
        None => b.to_vec(),
    };
    let bn_b = add_const(
        tensors,
        format!("{}.bn_folded_weight", bt.name),
        TensorData::from_f32(bt.shape.clone(), &bv),
    );
    let bn_c = add_const(
        tensors,
        format!("{}.bn_folded_bias", node.name),
        TensorData::from_f32(vec![n], &c),
    );
    let mut g = gemm.clone();
    g.beta = 1.0;
    Some((vec![node.inputs[0], Some(bn_b), Some(bn_c)], g))
}

/// Folds every inference `BatchNormalization` whose input comes from a Conv
/// (constant weights) or a Gemm (constant B) used by nothing else into that
/// node's weights and bias, removing the BatchNormalization. Nodes with an
/// activation already fused, non-constant statistics or other shapes are left as they are.
pub fn fold_batch_norm(graph: &Graph) -> Graph {
    let consumers = graph.consumers();
    let producers = graph.producers();
    let mut tensors = graph.tensors.clone();
    let mut replace: Vec<Option<Node>> = vec![None; graph.nodes.len()];
    let mut drop = vec![false; graph.nodes.len()];
    for (j, node) in graph.nodes.iter().enumerate() {
        let Some(bn) = node.op.as_any().downcast_ref::<BatchNorm>() else {
            continue;
        };
        if node.outputs.len() != 1 {
            continue;
        }
        let Some(x) = node.input(0) else { continue };
        let Some(i) = producers[x.0] else { continue };
        if graph.outputs.contains(&x) || consumers[x.0].len() != 1 || replace[i].is_some() {
            continue;
        }
        let prev = &graph.nodes[i];
        if prev.outputs.len() != 1 {
            continue;
        }
        let Some((a, b)) = affine(graph, node, bn) else {
            continue;
        };
        let folded = if let Some(conv) = prev.op.as_any().downcast_ref::<Conv>() {
            if conv.activation != Activation::None {
                continue;
            }
            fold_conv(graph, &mut tensors, prev, &a, &b).map(|ins| (ins, prev.op.clone()))
        } else if let Some(gemm) = prev.op.as_any().downcast_ref::<Gemm>() {
            if gemm.activation != Activation::None {
                continue;
            }
            fold_gemm(graph, &mut tensors, prev, gemm, &a, &b)
                .map(|(ins, g)| (ins, Arc::new(g) as Arc<dyn Op>))
        } else {
            None
        };
        if let Some((inputs, op)) = folded {
            replace[i] = Some(Node {
                name: prev.name.clone(),
                op_type: prev.op_type.clone(),
                opset: prev.opset,
                inputs,
                outputs: node.outputs.clone(),
                op,
            });
            drop[j] = true;
        }
    }
    let nodes = graph
        .nodes
        .iter()
        .enumerate()
        .filter(|(j, _)| !drop[*j])
        .map(|(i, n)| replace[i].clone().unwrap_or_else(|| n.clone()))
        .collect();
    Graph {
        tensors,
        nodes,
        ..graph.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(shape: Vec<usize>, v: &[f32]) -> TensorData {
        TensorData::from_f32(shape, v)
    }

    #[test]
    fn eval_and_training_rejected() {
        let op = BatchNorm { epsilon: 0.0 };
        let x = f(vec![1, 2, 2], &[1., 2., 3., 4.]);
        let s = f(vec![2], &[1., 2.]);
        let b = f(vec![2], &[0., 1.]);
        let m = f(vec![2], &[1., 3.]);
        let v = f(vec![2], &[1., 4.]);
        let all = [&x, &s, &b, &m, &v];
        let infos: Vec<_> = all
            .iter()
            .map(|t| {
                Some(InputInfo {
                    dtype: DType::F32,
                    shape: &t.shape,
                    data: Some(*t),
                })
            })
            .collect();
        let out = op.infer(&infos).unwrap();
        let y = op.eval(&all.map(Some), &out).unwrap().remove(0).as_f32();
        assert_eq!(y, vec![0., 1., 1., 2.]);
        let attrs = Attrs::new(vec![], vec![]);
        assert!(parse(&attrs, 15).is_ok());
    }

    #[test]
    fn conv_fold_math() {
        let conv = Node {
            name: "c".into(),
            op_type: "Conv".into(),
            opset: 13,
            inputs: vec![Some(TensorId(0)), Some(TensorId(1)), None],
            outputs: vec![TensorId(2)],
            op: Arc::new(BatchNorm { epsilon: 0.0 }),
        };
        let t = |name: &str, shape: Vec<usize>, d: Option<TensorData>| Tensor {
            name: name.into(),
            dtype: DType::F32,
            shape,
            data: d.map(Arc::new),
        };
        let graph = Graph {
            name: "g".into(),
            model_hash: String::new(),
            opset: 13,
            tensors: vec![
                t("x", vec![1, 1, 1, 1], None),
                t("w", vec![2, 1, 1, 1], Some(f(vec![2, 1, 1, 1], &[1., 2.]))),
                t("y", vec![1, 2, 1, 1], None),
            ],
            nodes: vec![conv.clone()],
            inputs: vec![TensorId(0)],
            outputs: vec![TensorId(2)],
        };
        let mut tensors = graph.tensors.clone();
        let ins = fold_conv(&graph, &mut tensors, &conv, &[2., 3.], &[1., -1.]).unwrap();
        let w = tensors[ins[1].unwrap().0].data.as_ref().unwrap().as_f32();
        let b = tensors[ins[2].unwrap().0].data.as_ref().unwrap().as_f32();
        assert_eq!(w, vec![2., 6.]);
        assert_eq!(b, vec![1., -1.]);
    }

    /// Evaluates a graph node by node on the host.
    fn run(g: &Graph, x: &TensorData) -> Vec<f32> {
        let mut vals: Vec<Option<TensorData>> = g
            .tensors
            .iter()
            .map(|t| t.data.as_deref().cloned())
            .collect();
        vals[g.inputs[0].0] = Some(x.clone());
        for n in &g.nodes {
            let ins: Vec<Option<&TensorData>> = n
                .inputs
                .iter()
                .map(|i| i.and_then(|i| vals[i.0].as_ref()))
                .collect();
            let outs: Vec<OutputInfo> = n
                .outputs
                .iter()
                .map(|o| OutputInfo::new(DType::F32, g.tensor(*o).shape.clone()))
                .collect();
            let r = n.op.eval(&ins, &outs).unwrap();
            for (o, v) in n.outputs.iter().zip(r) {
                vals[o.0] = Some(v);
            }
        }
        vals[g.outputs[0].0].as_ref().unwrap().as_f32()
    }

    #[test]
    fn fold_conv_graph_matches() {
        let t = |name: &str, shape: Vec<usize>, d: Option<Vec<f32>>| Tensor {
            name: name.into(),
            dtype: DType::F32,
            data: d.map(|v| Arc::new(f(shape.clone(), &v))),
            shape,
        };
        let conv_op = super::super::conv::parse(&Attrs::new(vec![], vec![]), 13).unwrap();
        let graph = Graph {
            name: "g".into(),
            model_hash: String::new(),
            opset: 13,
            tensors: vec![
                t("x", vec![1, 1, 2, 2], None),
                t("w", vec![2, 1, 1, 1], Some(vec![1., -2.])),
                t("b", vec![2], Some(vec![0.5, 1.])),
                t("c", vec![1, 2, 2, 2], None),
                t("s", vec![2], Some(vec![2., 3.])),
                t("bb", vec![2], Some(vec![1., -1.])),
                t("m", vec![2], Some(vec![0.25, 2.])),
                t("v", vec![2], Some(vec![4., 1.])),
                t("y", vec![1, 2, 2, 2], None),
            ],
            nodes: vec![
                Node {
                    name: "conv".into(),
                    op_type: "Conv".into(),
                    opset: 13,
                    inputs: vec![Some(TensorId(0)), Some(TensorId(1)), Some(TensorId(2))],
                    outputs: vec![TensorId(3)],
                    op: conv_op,
                },
                Node {
                    name: "bn".into(),
                    op_type: "BatchNormalization".into(),
                    opset: 13,
                    inputs: (4..8).map(|i| Some(TensorId(i))).fold(
                        vec![Some(TensorId(3))],
                        |mut v, i| {
                            v.push(i);
                            v
                        },
                    ),
                    outputs: vec![TensorId(8)],
                    op: Arc::new(BatchNorm { epsilon: 1e-5 }),
                },
            ],
            inputs: vec![TensorId(0)],
            outputs: vec![TensorId(8)],
        };
        let folded = fold_batch_norm(&graph);
        assert_eq!(folded.nodes.len(), 1);
        let x = f(vec![1, 1, 2, 2], &[1., 2., -3., 0.5]);
        let (a, b) = (run(&graph, &x), run(&folded, &x));
        for (p, q) in a.iter().zip(&b) {
            assert!((p - q).abs() < 1e-5, "{a:?} vs {b:?}");
        }
    }
}
