//! Typed access to a node's ONNX attributes, with defaults.

use crate::ir::TensorData;
use crate::ops::OpError;
use crate::proto::attribute_proto::AttributeType;
use crate::proto::AttributeProto;

/// The attributes of one node.
#[derive(Debug, Clone, Default)]
pub struct Attrs {
    attrs: Vec<AttributeProto>,
    /// Constant tensors decoded from `t`/`tensors` attributes, by attribute name.
    tensors: Vec<(String, TensorData)>,
    /// Number of outputs the node declares (Split's equal parts need it).
    outputs: usize,
}

fn attr_err(name: &str, message: impl Into<String>) -> OpError {
    OpError::Attribute {
        name: name.to_string(),
        message: message.into(),
    }
}

impl Attrs {
    /// Wraps the attributes of a node; tensor attributes are decoded beforehand.
    pub fn new(attrs: Vec<AttributeProto>, tensors: Vec<(String, TensorData)>) -> Self {
        Attrs {
            attrs,
            tensors,
            outputs: 1,
        }
    }

    /// The same attributes for a node declaring `n` outputs.
    pub fn with_output_count(mut self, n: usize) -> Self {
        self.outputs = n;
        self
    }

    /// Number of outputs the node declares.
    pub fn output_count(&self) -> usize {
        self.outputs
    }

    fn find(&self, name: &str) -> Option<&AttributeProto> {
        self.attrs.iter().find(|a| a.name() == name)
    }

    fn kind(a: &AttributeProto) -> AttributeType {
        // Old exporters leave `type` unset; infer it from the populated field.
        match a.r#type() {
            AttributeType::Undefined => {
                if a.f.is_some() {
                    AttributeType::Float
                } else if a.i.is_some() {
                    AttributeType::Int
                } else if a.s.is_some() {
                    AttributeType::String
                } else if a.t.is_some() {
                    AttributeType::Tensor
                } else if a.g.is_some() {
                    AttributeType::Graph
                } else if !a.floats.is_empty() {
                    AttributeType::Floats
                } else if !a.ints.is_empty() {
                    AttributeType::Ints
                } else if !a.strings.is_empty() {
                    AttributeType::Strings
                } else {
                    AttributeType::Undefined
                }
            }
            t => t,
        }
    }

    /// True when the attribute is present.
    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// Names of all attributes present.
    pub fn names(&self) -> Vec<&str> {
        self.attrs.iter().map(|a| a.name()).collect()
    }

    /// An integer attribute.
    pub fn int_opt(&self, name: &str) -> Result<Option<i64>, OpError> {
        match self.find(name) {
            None => Ok(None),
            Some(a) => match Self::kind(a) {
                AttributeType::Int => Ok(Some(a.i())),
                t => Err(attr_err(name, format!("expected an int, found {t:?}"))),
            },
        }
    }

    /// An integer attribute with a default.
    pub fn int(&self, name: &str, default: i64) -> Result<i64, OpError> {
        Ok(self.int_opt(name)?.unwrap_or(default))
    }

    /// A required integer attribute.
    pub fn int_req(&self, name: &str) -> Result<i64, OpError> {
        self.int_opt(name)?
            .ok_or_else(|| attr_err(name, "required attribute is missing"))
    }

    /// A float attribute.
    pub fn float_opt(&self, name: &str) -> Result<Option<f32>, OpError> {
        match self.find(name) {
            None => Ok(None),
            Some(a) => match Self::kind(a) {
                AttributeType::Float => Ok(Some(a.f())),
                // Some exporters write integral floats as ints.
                AttributeType::Int => Ok(Some(a.i() as f32)),
                t => Err(attr_err(name, format!("expected a float, found {t:?}"))),
            },
        }
    }

    /// A float attribute with a default.
    pub fn float(&self, name: &str, default: f32) -> Result<f32, OpError> {
        Ok(self.float_opt(name)?.unwrap_or(default))
    }

    /// A list-of-ints attribute.
    pub fn ints_opt(&self, name: &str) -> Result<Option<Vec<i64>>, OpError> {
        match self.find(name) {
            None => Ok(None),
            Some(a) => match Self::kind(a) {
                AttributeType::Ints | AttributeType::Undefined => Ok(Some(a.ints.clone())),
                AttributeType::Int => Ok(Some(vec![a.i()])),
                t => Err(attr_err(name, format!("expected ints, found {t:?}"))),
            },
        }
    }

    /// A list-of-floats attribute.
    pub fn floats_opt(&self, name: &str) -> Result<Option<Vec<f32>>, OpError> {
        match self.find(name) {
            None => Ok(None),
            Some(a) => match Self::kind(a) {
                AttributeType::Floats | AttributeType::Undefined => Ok(Some(a.floats.clone())),
                AttributeType::Float => Ok(Some(vec![a.f()])),
                t => Err(attr_err(name, format!("expected floats, found {t:?}"))),
            },
        }
    }

    /// A string attribute.
    pub fn string_opt(&self, name: &str) -> Result<Option<String>, OpError> {
        match self.find(name) {
            None => Ok(None),
            Some(a) => match Self::kind(a) {
                AttributeType::String => Ok(Some(String::from_utf8_lossy(a.s()).into_owned())),
                t => Err(attr_err(name, format!("expected a string, found {t:?}"))),
            },
        }
    }

    /// A string attribute with a default.
    pub fn string(&self, name: &str, default: &str) -> Result<String, OpError> {
        Ok(self
            .string_opt(name)?
            .unwrap_or_else(|| default.to_string()))
    }

    /// A list-of-strings attribute.
    pub fn strings_opt(&self, name: &str) -> Result<Option<Vec<String>>, OpError> {
        match self.find(name) {
            None => Ok(None),
            Some(a) => Ok(Some(
                a.strings
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect(),
            )),
        }
    }

    /// A tensor attribute (already decoded).
    pub fn tensor_opt(&self, name: &str) -> Option<&TensorData> {
        self.tensors.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// Fails when an attribute holds a subgraph (If, Loop, Scan bodies).
    pub fn has_graph(&self) -> bool {
        self.attrs
            .iter()
            .any(|a| a.g.is_some() || !a.graphs.is_empty())
    }
}
