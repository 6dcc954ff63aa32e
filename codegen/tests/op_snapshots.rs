//! Emission per operator is deterministic and reviewed: each test builds a
//! one-node (or two-node) ONNX graph in memory, compiles it and snapshots
//! the generated `lib.rs`. A change to an operator's emission shows up here
//! on its own; accept it with `cargo insta review` (or INSTA_UPDATE=always).

use prost::Message;
use zant_codegen::krate::crate_files;
use zant_codegen::proto::{
    self, attribute_proto::AttributeType, tensor_shape_proto::dimension, type_proto,
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};
use zant_codegen::{load_bytes, plan, LoadOptions};

const FLOAT: i32 = proto::tensor_proto::DataType::Float as i32;
const INT64: i32 = proto::tensor_proto::DataType::Int64 as i32;

fn value(name: &str, shape: &[i64]) -> ValueInfoProto {
    let dim = shape
        .iter()
        .map(|&d| proto::tensor_shape_proto::Dimension {
            value: Some(dimension::Value::DimValue(d)),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(FLOAT),
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A float initializer with values in steps of 0.125 from -0.25 (exact in
/// `f32`, short in a snapshot).
fn weights(name: &str, shape: &[i64]) -> TensorProto {
    let n: i64 = shape.iter().product();
    TensorProto {
        name: Some(name.into()),
        dims: shape.to_vec(),
        data_type: Some(FLOAT),
        float_data: (0..n).map(|i| (i % 7) as f32 * 0.125 - 0.25).collect(),
        ..Default::default()
    }
}

fn ints_tensor(name: &str, v: &[i64]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: vec![v.len() as i64],
        data_type: Some(INT64),
        int64_data: v.to_vec(),
        ..Default::default()
    }
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Ints as i32),
        ints: v.to_vec(),
        ..Default::default()
    }
}

fn node(op: &str, inputs: &[&str], outputs: &[&str], attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        op_type: Some(op.into()),
        name: Some(format!("{}_0", op.to_lowercase())),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute,
        ..Default::default()
    }
}

/// The generated `lib.rs` of a graph, compiled twice to check determinism.
fn lib_rs(
    name: &str,
    nodes: Vec<NodeProto>,
    inputs: Vec<ValueInfoProto>,
    initializer: Vec<TensorProto>,
    output: ValueInfoProto,
) -> String {
    let m = ModelProto {
        ir_version: Some(8),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(13),
        }],
        graph: Some(GraphProto {
            name: Some(name.into()),
            node: nodes,
            input: inputs,
            initializer,
            output: vec![output],
            ..Default::default()
        }),
        ..Default::default()
    };
    let bytes = m.encode_to_vec();
    let emit = || {
        let g = load_bytes(&bytes, name, &LoadOptions::default()).unwrap();
        let (c, p) = zant_codegen::compile(&g, &plan::GreedyBySize);
        let files = crate_files(&c, &p).unwrap();
        let (_, text) = files
            .files
            .iter()
            .find(|(p, _)| p.ends_with("src/lib.rs"))
            .unwrap();
        text.clone()
    };
    let a = emit();
    assert_eq!(a, emit(), "emission must be deterministic");
    a
}

#[test]
fn conv() {
    insta::assert_snapshot!(lib_rs(
        "conv",
        vec![node(
            "Conv",
            &["x", "w", "b"],
            &["y"],
            vec![ints("kernel_shape", &[3, 3]), ints("pads", &[1, 1, 1, 1])],
        )],
        vec![value("x", &[1, 2, 5, 5])],
        vec![weights("w", &[3, 2, 3, 3]), weights("b", &[3])],
        value("y", &[1, 3, 5, 5]),
    ));
}

#[test]
fn gemm() {
    insta::assert_snapshot!(lib_rs(
        "gemm",
        vec![node("Gemm", &["x", "w", "b"], &["y"], vec![])],
        vec![value("x", &[2, 4])],
        vec![weights("w", &[4, 3]), weights("b", &[3])],
        value("y", &[2, 3]),
    ));
}

#[test]
fn max_pool() {
    insta::assert_snapshot!(lib_rs(
        "max_pool",
        vec![node(
            "MaxPool",
            &["x"],
            &["y"],
            vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])],
        )],
        vec![value("x", &[1, 2, 4, 4])],
        vec![],
        value("y", &[1, 2, 2, 2]),
    ));
}

#[test]
fn add_broadcast() {
    insta::assert_snapshot!(lib_rs(
        "add",
        vec![node("Add", &["x", "b"], &["y"], vec![])],
        vec![value("x", &[2, 3])],
        vec![weights("b", &[3])],
        value("y", &[2, 3]),
    ));
}

#[test]
fn reshape() {
    // Reshape alone is a view; the Relu after it makes the graph compute.
    insta::assert_snapshot!(lib_rs(
        "reshape",
        vec![
            node("Reshape", &["x", "shape"], &["r"], vec![]),
            node("Relu", &["r"], &["y"], vec![]),
        ],
        vec![value("x", &[2, 3, 4])],
        vec![ints_tensor("shape", &[6, 4])],
        value("y", &[6, 4]),
    ));
}
