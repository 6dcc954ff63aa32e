//! Validation over a data set: many inputs through one firmware build, each
//! sample's outputs compared with a reference (a file of expected outputs,
//! or zant's host build of the same model), and the errors, top-1 agreement
//! and accuracy against labels reported per output.
//!
//! Samples come as a `.npy` file (its first axis is the sample axis), a raw
//! `.bin` file (the samples back to back), or a directory of per-sample
//! `.npy`/`.bin` files (sorted by name). A model with several inputs takes
//! those forms with a sample's inputs one after the other, or (clearer) a
//! directory with one `<input name>.npy` per input, whose first axis is the
//! sample axis ([`tensor_file_name`]). Expected outputs: the same forms, a
//! sample's outputs one after the other or one `<output name>.npy` each.
//! Labels: one integer class a sample, as `.npy` or text (one a line).

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use zant_codegen::ir::{DType, Graph, TensorData};
use zant_runner::{Progress, RunOptions};

use crate::{host_build, host_outputs, Built, PipelineError};

/// Where a sample came from: a file's name, or `index N` in a file of many.
pub type SampleName = String;

/// The samples of a data set, as raw little-endian bytes of the model's
/// tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    /// The file or directory they were read from.
    pub source: PathBuf,
    /// Each sample's name.
    pub names: Vec<SampleName>,
    /// Each sample's tensors (the model's inputs, or its outputs).
    pub tensors: Vec<Vec<TensorData>>,
}

impl Samples {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// No samples.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// A tensor the samples must fill: element type and shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// The tensor's name.
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Shape.
    pub shape: Vec<usize>,
}

impl Slot {
    fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    fn bytes(&self) -> usize {
        self.numel() * self.dtype.size()
    }
}

/// The model's inputs as [`Slot`]s.
pub fn input_slots(g: &Graph) -> Result<Vec<Slot>, PipelineError> {
    Ok(slots(g, &g.inputs))
}

/// The file a tensor's samples are read from in a directory of one `.npy`
/// per tensor: its name with every character but ASCII letters, digits,
/// `-`, `_` and `.` made `_`, then `.npy` (`input:0` → `input_0.npy`).
pub fn tensor_file_name(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{stem}.npy")
}

/// Samples from a directory of one `.npy` per tensor (first axis: the
/// samples), when `dir` holds one named for any of `slots` (more than one);
/// `None` when it holds none of them.
fn per_tensor_samples(dir: &Path, slots: &[Slot]) -> Result<Option<Samples>, PipelineError> {
    if slots.len() < 2 || !dir.is_dir() {
        return Ok(None);
    }
    let files: Vec<PathBuf> = slots
        .iter()
        .map(|s| dir.join(tensor_file_name(&s.name)))
        .collect();
    if !files.iter().any(|f| f.is_file()) {
        return Ok(None);
    }
    if let Some((f, s)) = files.iter().zip(slots).find(|(f, _)| !f.is_file()) {
        return Err(bad(
            dir,
            format!(
                "no {} for tensor `{}` ({} {}); a directory of one .npy per tensor needs {}",
                f.file_name().unwrap_or_default().to_string_lossy(),
                s.name,
                s.dtype,
                crate::shape_text(&s.shape),
                files
                    .iter()
                    .map(|f| f
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let mut per: Vec<Vec<Vec<u8>>> = Vec::new();
    for (f, s) in files.iter().zip(slots) {
        let raw = npy_samples(f, std::slice::from_ref(s), false)?;
        if let Some(first) = per.first() {
            if first.len() != raw.len() {
                return Err(bad(
                    f,
                    format!(
                        "{} samples (its first axis), but {} holds {}",
                        raw.len(),
                        files[0].display(),
                        first.len()
                    ),
                ));
            }
        }
        per.push(raw);
    }
    let n = per[0].len();
    if n == 0 {
        return Err(bad(dir, "no samples (the arrays' first axis is 0)"));
    }
    let tensors = (0..n)
        .map(|i| {
            per.iter()
                .zip(slots)
                .map(|(raw, s)| TensorData {
                    dtype: s.dtype,
                    shape: s.shape.clone(),
                    bytes: raw[i].clone(),
                })
                .collect()
        })
        .collect();
    Ok(Some(Samples {
        source: dir.to_path_buf(),
        names: (0..n).map(|i| format!("index {i}")).collect(),
        tensors,
    }))
}

/// The model's outputs as [`Slot`]s.
pub fn output_slots(g: &Graph) -> Vec<Slot> {
    slots(g, &g.outputs)
}

fn slots(g: &Graph, ids: &[zant_codegen::ir::TensorId]) -> Vec<Slot> {
    ids.iter()
        .map(|&id| {
            let t = g.tensor(id);
            Slot {
                name: t.name.clone(),
                dtype: t.dtype,
                shape: t.shape.clone(),
            }
        })
        .collect()
}

fn bad(path: &Path, detail: impl Into<String>) -> PipelineError {
    PipelineError::DataSet {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, PipelineError> {
    std::fs::read(path).map_err(|source| PipelineError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// A `.npy` array: its shape and its values as `f64` (every integer and
/// float type numpy writes, either byte order; C order only).
pub fn read_npy(path: &Path) -> Result<(Vec<usize>, Vec<f64>), PipelineError> {
    let bytes = read(path)?;
    let npy =
        npyz::NpyFile::new(&bytes[..]).map_err(|e| bad(path, format!("not a .npy file: {e}")))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    if npy.order() == npyz::Order::Fortran && shape.iter().filter(|&&d| d > 1).count() > 1 {
        return Err(bad(
            path,
            "the array is in Fortran order; save it in C order (numpy.ascontiguousarray)",
        ));
    }
    let npyz::DType::Plain(ts) = npy.dtype() else {
        return Err(bad(
            path,
            "a structured or array dtype; zant reads plain numbers",
        ));
    };
    use npyz::TypeChar as C;
    let e = |err: std::io::Error| bad(path, err.to_string());
    let v: Vec<f64> = match (ts.type_char(), ts.size_field()) {
        (C::Float, 4) => npy
            .into_vec::<f32>()
            .map_err(e)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (C::Float, 8) => npy.into_vec::<f64>().map_err(e)?,
        (C::Int, 1) => npy
            .into_vec::<i8>()
            .map_err(e)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (C::Int, 2) => npy
            .into_vec::<i16>()
            .map_err(e)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (C::Int, 4) => npy
            .into_vec::<i32>()
            .map_err(e)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (C::Int, 8) => npy
            .into_vec::<i64>()
            .map_err(e)?
            .into_iter()
            .map(|v| v as f64)
            .collect(),
        (C::Uint, 1) => npy
            .into_vec::<u8>()
            .map_err(e)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (C::Uint, 2) => npy
            .into_vec::<u16>()
            .map_err(e)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (C::Uint, 4) => npy
            .into_vec::<u32>()
            .map_err(e)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (C::Uint, 8) => npy
            .into_vec::<u64>()
            .map_err(e)?
            .into_iter()
            .map(|v| v as f64)
            .collect(),
        (C::Bool, 1) => npy
            .into_vec::<bool>()
            .map_err(e)?
            .into_iter()
            .map(|b| f64::from(u8::from(b)))
            .collect(),
        _ => {
            return Err(bad(
                path,
                format!("dtype {ts} is not a plain integer or float"),
            ))
        }
    };
    Ok((shape, v))
}

/// Values in the element type `dt`, little-endian (floats rounded to the
/// type, integers checked to be whole and in range).
fn encode(dt: DType, v: &[f64]) -> Result<Vec<u8>, String> {
    fn ints<T: TryFrom<i64>, const N: usize>(
        v: &[f64],
        le: impl Fn(T) -> [u8; N],
    ) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(v.len() * N);
        for &x in v {
            let t = (x.fract() == 0.0)
                .then(|| T::try_from(x as i64).ok())
                .flatten()
                .ok_or_else(|| format!("{x} is not a value of the model's integer type"))?;
            out.extend(le(t));
        }
        Ok(out)
    }
    Ok(match dt {
        DType::F32 => v.iter().flat_map(|&x| (x as f32).to_le_bytes()).collect(),
        DType::F64 => v.iter().flat_map(|&x| x.to_le_bytes()).collect(),
        DType::I8 => ints::<i8, 1>(v, i8::to_le_bytes)?,
        DType::U8 => ints::<u8, 1>(v, u8::to_le_bytes)?,
        DType::I16 => ints::<i16, 2>(v, i16::to_le_bytes)?,
        DType::U16 => ints::<u16, 2>(v, u16::to_le_bytes)?,
        DType::I32 => ints::<i32, 4>(v, i32::to_le_bytes)?,
        DType::U32 => ints::<u32, 4>(v, u32::to_le_bytes)?,
        DType::I64 => ints::<i64, 8>(v, i64::to_le_bytes)?,
        other => return Err(format!("zant reads no .npy samples for {other} tensors")),
    })
}

/// Splits one sample's bytes among the slots.
fn split_sample(bytes: &[u8], slots: &[Slot]) -> Vec<TensorData> {
    let mut at = 0;
    slots
        .iter()
        .map(|s| {
            at += s.bytes();
            TensorData {
                dtype: s.dtype,
                shape: s.shape.clone(),
                bytes: bytes[at - s.bytes()..at].to_vec(),
            }
        })
        .collect()
}

fn describe(slots: &[Slot]) -> String {
    slots
        .iter()
        .map(|s| format!("`{}` ({} {})", s.name, s.dtype, crate::shape_text(&s.shape)))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// One `.npy` file of `count` samples (`None`: as many as its first axis
/// says; `Some(1)`: the whole array is one sample), as raw bytes per sample.
fn npy_samples(path: &Path, slots: &[Slot], one: bool) -> Result<Vec<Vec<u8>>, PipelineError> {
    let (shape, v) = read_npy(path)?;
    let per: usize = slots.iter().map(Slot::numel).sum();
    let dt = slots[0].dtype;
    if slots.iter().any(|s| s.dtype != dt) {
        return Err(bad(
            path,
            format!(
                "the tensors {} have different types; give raw .bin samples",
                describe(slots)
            ),
        ));
    }
    let n = if one {
        1
    } else {
        shape.first().copied().unwrap_or(1)
    };
    if v.len() != n * per {
        let want = if one {
            format!("{per} values ({})", describe(slots))
        } else {
            format!(
                "{n} samples (its first axis) × {per} values ({})",
                describe(slots)
            )
        };
        return Err(bad(
            path,
            format!(
                "shape [{}] holds {} values, expected {want}",
                shape
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                v.len()
            ),
        ));
    }
    v.chunks(per.max(1))
        .take(n)
        .map(|c| encode(dt, c).map_err(|e| bad(path, e)))
        .collect()
}

fn is_ext(p: &Path, ext: &str) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// Reads samples for `slots` from a `.npy` file, a `.bin` file of samples
/// back to back, a directory of one `.npy`/`.bin` file per sample (sorted
/// by name; other files are ignored), or, for several tensors, a directory
/// of one `.npy` per tensor ([`tensor_file_name`]).
pub fn read_samples(path: &Path, slots: &[Slot]) -> Result<Samples, PipelineError> {
    if let Some(s) = per_tensor_samples(path, slots)? {
        return Ok(s);
    }
    let per_bytes: usize = slots.iter().map(Slot::bytes).sum();
    let (names, raw): (Vec<String>, Vec<Vec<u8>>) = if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|source| PipelineError::Read {
                path: path.to_path_buf(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && (is_ext(p, "npy") || is_ext(p, "bin")))
            .collect();
        files.sort();
        let mut names = Vec::new();
        let mut raw = Vec::new();
        for f in files {
            let bytes = if is_ext(&f, "npy") {
                npy_samples(&f, slots, true)?.remove(0)
            } else {
                let b = read(&f)?;
                if b.len() != per_bytes {
                    return Err(bad(
                        &f,
                        format!(
                            "{} bytes, one sample of {} takes {per_bytes}",
                            b.len(),
                            describe(slots)
                        ),
                    ));
                }
                b
            };
            names.push(
                f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
            raw.push(bytes);
        }
        (names, raw)
    } else if is_ext(path, "npy") {
        let raw = npy_samples(path, slots, false)?;
        ((0..raw.len()).map(|i| format!("index {i}")).collect(), raw)
    } else {
        let b = read(path)?;
        if per_bytes == 0 || b.len() % per_bytes != 0 {
            return Err(bad(
                path,
                format!(
                    "{} bytes is not a whole number of samples of {} ({per_bytes} bytes each)",
                    b.len(),
                    describe(slots)
                ),
            ));
        }
        let raw: Vec<Vec<u8>> = b.chunks(per_bytes).map(<[u8]>::to_vec).collect();
        ((0..raw.len()).map(|i| format!("index {i}")).collect(), raw)
    };
    if raw.is_empty() {
        return Err(bad(
            path,
            "no samples (a directory needs .npy or .bin files)",
        ));
    }
    Ok(Samples {
        source: path.to_path_buf(),
        names,
        tensors: raw.iter().map(|b| split_sample(b, slots)).collect(),
    })
}

/// Reads one integer class a sample: a `.npy` array of integers, or text
/// with one integer a line (blank lines and `#` comments skipped).
pub fn read_labels(path: &Path) -> Result<Vec<i64>, PipelineError> {
    let vals: Vec<f64> = if is_ext(path, "npy") {
        read_npy(path)?.1
    } else {
        let text = String::from_utf8(read(path)?).map_err(|_| bad(path, "not UTF-8 text"))?;
        let mut v = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let l = line.split('#').next().unwrap_or("").trim();
            if l.is_empty() {
                continue;
            }
            let x: i64 = l.parse().map_err(|_| {
                bad(
                    path,
                    format!("line {}: `{l}` is not an integer class", i + 1),
                )
            })?;
            v.push(x as f64);
        }
        v
    };
    vals.iter()
        .map(|&x| {
            (x.fract() == 0.0)
                .then_some(x as i64)
                .ok_or_else(|| bad(path, format!("{x} is not an integer class")))
        })
        .collect()
}

/// The errors of one output over the data set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputErrors {
    /// Position among the model's outputs.
    pub index: usize,
    /// The output tensor's name.
    pub name: String,
    /// Its shape (one sample).
    pub shape: Vec<usize>,
    /// Largest absolute difference from the reference over every sample
    /// (infinite when one side is NaN and the other not).
    pub max_abs_error: f64,
    /// Mean absolute difference over every element of every sample.
    pub mean_abs_error: f64,
    /// Root mean square difference over every element of every sample.
    pub rmse: f64,
    /// Mean over the samples of the cosine similarity between the sample's
    /// output and its reference (1 when both are zero).
    pub cosine: f64,
    /// Share of samples whose largest output element (top-1 class) is the
    /// reference's; `None` for outputs of one element.
    pub top1_agreement: Option<f64>,
    /// Share of samples whose top-1 class is the label (with `--labels`).
    pub accuracy: Option<f64>,
    /// The same for the reference's outputs.
    pub reference_accuracy: Option<f64>,
}

/// A sample with its largest error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorstSample {
    /// Its position in the data set.
    pub index: usize,
    /// Its name (file name, or `index N`).
    pub name: String,
    /// Its largest absolute difference over all outputs.
    pub max_abs_error: f64,
    /// Whether its outputs are within the tolerance.
    pub ok: bool,
}

/// Index of the largest value (the first of equals; NaN never wins).
pub fn argmax(v: &[f64]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, &x) in v.iter().enumerate() {
        if x.is_nan() {
            continue;
        }
        if best.is_none_or(|b| x > v[b]) {
            best = Some(i);
        }
    }
    best
}

fn abs_diff(a: f64, b: f64) -> f64 {
    if a.is_nan() && b.is_nan() {
        return 0.0;
    }
    let d = (a - b).abs();
    if d.is_nan() {
        f64::INFINITY
    } else {
        d
    }
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    match (na == 0.0, nb == 0.0) {
        (true, true) => 1.0,
        (false, false) => dot / (na * nb),
        _ => 0.0,
    }
}

/// The metrics of every output: `got[s][k]` and `want[s][k]` are output `k`
/// of sample `s` as values; `labels`, one a sample, when given.
pub fn output_errors(
    slots: &[Slot],
    got: &[Vec<Vec<f64>>],
    want: &[Vec<Vec<f64>>],
    labels: Option<&[i64]>,
) -> Vec<OutputErrors> {
    let n = got.len().max(1) as f64;
    slots
        .iter()
        .enumerate()
        .map(|(k, slot)| {
            let (mut max, mut sum, mut sq, mut cos, mut elems) = (0f64, 0f64, 0f64, 0f64, 0usize);
            let (mut agree, mut right, mut ref_right) = (0usize, 0usize, 0usize);
            for (s, (g, w)) in got.iter().zip(want).enumerate() {
                let (g, w) = (&g[k], &w[k]);
                for (&a, &b) in g.iter().zip(w) {
                    let d = abs_diff(a, b);
                    max = max.max(d);
                    sum += d;
                    sq += d * d;
                }
                elems += g.len();
                cos += cosine(g, w);
                let (tg, tw) = (argmax(g), argmax(w));
                agree += usize::from(tg == tw);
                if let Some(l) = labels.and_then(|l| l.get(s)) {
                    right += usize::from(tg.map(|t| t as i64) == Some(*l));
                    ref_right += usize::from(tw.map(|t| t as i64) == Some(*l));
                }
            }
            let classes = slot.numel() > 1;
            let e = elems.max(1) as f64;
            OutputErrors {
                index: k,
                name: slot.name.clone(),
                shape: slot.shape.clone(),
                max_abs_error: max,
                mean_abs_error: sum / e,
                rmse: (sq / e).sqrt(),
                cosine: cos / n,
                top1_agreement: classes.then_some(agree as f64 / n),
                accuracy: (classes && labels.is_some()).then_some(right as f64 / n),
                reference_accuracy: (classes && labels.is_some()).then_some(ref_right as f64 / n),
            }
        })
        .collect()
}

/// The samples with the largest errors, largest first (ties in data-set
/// order), at most `k`.
pub fn worst_samples(
    names: &[SampleName],
    got: &[Vec<Vec<f64>>],
    want: &[Vec<Vec<f64>>],
    ok: impl Fn(f64) -> bool,
    k: usize,
) -> Vec<WorstSample> {
    let mut v: Vec<WorstSample> = got
        .iter()
        .zip(want)
        .enumerate()
        .map(|(i, (g, w))| {
            let m = g
                .iter()
                .flatten()
                .zip(w.iter().flatten())
                .map(|(&a, &b)| abs_diff(a, b))
                .fold(0f64, f64::max);
            WorstSample {
                index: i,
                name: names
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("index {i}")),
                max_abs_error: m,
                ok: ok(m),
            }
        })
        .collect();
    v.sort_by(|a, b| {
        b.max_abs_error
            .total_cmp(&a.max_abs_error)
            .then(a.index.cmp(&b.index))
    });
    v.truncate(k);
    v
}

/// How a data-set run is checked.
#[derive(Debug, Clone)]
pub struct ValidateCheck {
    /// Expected outputs (default: zant's host build of the same model).
    pub expects: Option<PathBuf>,
    /// Labels, one integer class a sample.
    pub labels: Option<PathBuf>,
    /// Largest absolute difference accepted on floating-point outputs
    /// (integer outputs must be equal).
    pub tolerance: f64,
}

/// Instructions (QEMU) or cycles (hardware) of the samples' inferences.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleCounts {
    /// Fewest.
    pub min: u64,
    /// Mean.
    pub mean: f64,
    /// Most.
    pub max: u64,
}

/// The result of a data-set run (the keys of `zant run --inputs … --json`).
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    /// Board.
    pub board: String,
    /// Model.
    pub model: String,
    /// Firmware ELF of the data-set build.
    pub elf: String,
    /// Flash bytes of the data-set build.
    pub flash_bytes: u64,
    /// Static RAM bytes of the data-set build (with the reserved stack).
    pub ram_bytes: u64,
    /// Where the inputs came from.
    pub inputs: String,
    /// Number of samples.
    pub samples: usize,
    /// Where the expected outputs came from.
    pub reference: String,
    /// The labels file, when given.
    pub labels: Option<String>,
    /// The tolerance checked (absolute, floating-point outputs).
    pub tolerance: f64,
    /// Per output: errors, top-1 agreement, accuracy.
    pub outputs: Vec<OutputErrors>,
    /// The samples with the largest errors, largest first (at most 5).
    pub worst: Vec<WorstSample>,
    /// Samples whose outputs exceed the tolerance.
    pub failed_samples: usize,
    /// Every sample within the tolerance.
    pub passed: bool,
    /// Guest instructions of one inference over the samples (QEMU).
    pub instructions: Option<SampleCounts>,
    /// Instructions of each sample's inference, in data-set order (QEMU).
    pub sample_instructions: Option<Vec<u64>>,
    /// Cycles of one inference over the samples, from the core's cycle
    /// counter (hardware boards).
    pub cycles: Option<SampleCounts>,
    /// Deepest stack use over all samples.
    pub stack_peak_bytes: Option<u64>,
    /// Wall-clock seconds of the reference (informative only).
    pub reference_seconds: f64,
    /// Wall-clock seconds of the run on the target (informative only).
    pub target_seconds: f64,
}

/// The reference outputs of every sample: read from `expects`, or computed
/// by zant's host build of the compiled model (one harness build, one run
/// per sample).
pub fn reference_outputs(
    b: &Built,
    inputs: &Samples,
    expects: Option<&Path>,
    progress: &dyn Progress,
) -> Result<(Vec<Vec<TensorData>>, String), PipelineError> {
    let g = &b.compiled;
    let slots = output_slots(g);
    if let Some(p) = expects {
        let want = read_samples(p, &slots)?;
        if want.len() != inputs.len() {
            return Err(bad(
                p,
                format!(
                    "{} samples of expected outputs for {} inputs",
                    want.len(),
                    inputs.len()
                ),
            ));
        }
        return Ok((want.tensors, p.display().to_string()));
    }
    progress.step("building zant's host build of the model for the reference outputs");
    let (h, work) = host_build(b)?;
    progress.step(&format!(
        "computing {} reference outputs on the host",
        inputs.len()
    ));
    let mut out = Vec::with_capacity(inputs.len());
    for (i, ins) in inputs.tensors.iter().enumerate() {
        progress.items(i as u64, inputs.len() as u64);
        let io = work.join("dataset-io").join(i.to_string());
        let o = host_outputs(&h, b, std::slice::from_ref(ins), &io).map_err(|e| match e {
            PipelineError::HostCase(e) => {
                PipelineError::HostCase(format!("sample {}: {e}", inputs.names[i]))
            }
            e => e,
        })?;
        out.push(o);
    }
    let _ = std::fs::remove_dir_all(work.join("dataset-io"));
    Ok((out, "zant host build (same model, same inputs)".into()))
}

/// Writes the samples file the data-set firmware reads (every sample's
/// inputs back to back) into `dir`; returns its path.
pub fn write_samples_file(inputs: &Samples, dir: &Path) -> Result<PathBuf, PipelineError> {
    std::fs::create_dir_all(dir).map_err(|source| PipelineError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = dir.join(zant_runner::SAMPLES_FILE);
    let bytes: Vec<u8> = inputs
        .tensors
        .iter()
        .flat_map(|s| s.iter().flat_map(|t| t.bytes.iter().copied()))
        .collect();
    std::fs::write(&path, bytes).map_err(|source| PipelineError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Runs the data set `inputs` through the data-set build `b`
/// ([`build_dataset`](crate::build_dataset)) on its target, in one run of
/// the firmware, and compares every sample's outputs with the reference.
/// Outputs over the tolerance are not an error here: see
/// [`Validation::passed`].
pub fn validate(
    b: &Built,
    inputs: &Samples,
    check: &ValidateCheck,
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<Validation, PipelineError> {
    let g = &b.compiled;
    let slots = output_slots(g);
    let labels = match &check.labels {
        Some(p) => {
            let l = read_labels(p)?;
            if l.len() != inputs.len() {
                return Err(bad(
                    p,
                    format!("{} labels for {} samples", l.len(), inputs.len()),
                ));
            }
            Some(l)
        }
        None => None,
    };
    let t0 = Instant::now();
    let (want, source) = reference_outputs(b, inputs, check.expects.as_deref(), progress)?;
    let reference_seconds = t0.elapsed().as_secs_f64();
    let file = write_samples_file(inputs, &b.dir.join("target").join("zant-dataset"))?;
    let o = zant_runner::run_dataset(&b.board, b.elf(), &file, inputs.len(), opts, progress)?;
    let values = |ts: &[Vec<u8>]| -> Vec<Vec<f64>> {
        ts.iter()
            .zip(&slots)
            .map(|(bytes, s)| {
                TensorData {
                    dtype: s.dtype,
                    shape: s.shape.clone(),
                    bytes: bytes.clone(),
                }
                .to_f64()
            })
            .collect()
    };
    let got: Vec<Vec<Vec<f64>>> = o.samples.iter().map(|s| values(&s.outputs)).collect();
    let want: Vec<Vec<Vec<f64>>> = want
        .iter()
        .map(|s| s.iter().map(TensorData::to_f64).collect())
        .collect();
    let float = slots
        .iter()
        .all(|s| matches!(s.dtype, DType::F32 | DType::F64));
    let tol = check.tolerance;
    let ok = |m: f64| if float { m <= tol } else { m == 0.0 };
    let outputs = output_errors(&slots, &got, &want, labels.as_deref());
    let all = worst_samples(&inputs.names, &got, &want, ok, usize::MAX);
    let failed_samples =
        all.iter().filter(|w| !w.ok).count() + o.samples.iter().filter(|s| !s.ok).count();
    let counts = |v: &[u64]| {
        (!v.is_empty()).then(|| SampleCounts {
            min: v.iter().copied().min().unwrap_or(0),
            mean: v.iter().sum::<u64>() as f64 / v.len() as f64,
            max: v.iter().copied().max().unwrap_or(0),
        })
    };
    let instructions = o.instructions.as_deref().and_then(counts);
    let sample_cycles: Option<Vec<u64>> = o.samples.iter().map(|s| s.cycles).collect();
    let cycles = if o.instructions.is_some() {
        None
    } else {
        sample_cycles.as_deref().and_then(counts)
    };
    let f = &b.footprint;
    Ok(Validation {
        board: b.board.name.clone(),
        model: b.graph.name.clone(),
        elf: f.elf.display().to_string(),
        flash_bytes: f.flash_bytes,
        ram_bytes: f.ram_bytes,
        inputs: inputs.source.display().to_string(),
        samples: inputs.len(),
        reference: source,
        labels: check.labels.as_ref().map(|p| p.display().to_string()),
        tolerance: tol,
        outputs,
        worst: all.into_iter().take(5).collect(),
        failed_samples,
        passed: failed_samples == 0,
        instructions,
        sample_instructions: o.instructions,
        cycles,
        stack_peak_bytes: o.stack_peak,
        reference_seconds,
        target_seconds: o.elapsed.as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(dtype: DType, shape: &[usize]) -> Slot {
        Slot {
            name: "x".into(),
            dtype,
            shape: shape.to_vec(),
        }
    }

    #[test]
    fn argmax_takes_the_first_of_equals_and_skips_nan() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), Some(1));
        assert_eq!(argmax(&[f64::NAN, -1.0]), Some(1));
        assert_eq!(argmax(&[]), None);
    }

    #[test]
    fn metrics_of_known_values() {
        let s = [slot(DType::F32, &[1, 2])];
        // Sample 0: errors 0.5 and 0 (same top-1); sample 1: errors 1 and 1
        // (top-1 flips).
        let got = vec![vec![vec![1.5, 0.0]], vec![vec![0.0, 2.0]]];
        let want = vec![vec![vec![1.0, 0.0]], vec![vec![1.0, 1.0]]];
        let e = &output_errors(&s, &got, &want, Some(&[0, 1]))[0];
        assert_eq!(e.max_abs_error, 1.0);
        assert!((e.mean_abs_error - 2.5 / 4.0).abs() < 1e-12);
        assert!((e.rmse - (2.25f64 / 4.0).sqrt()).abs() < 1e-12);
        // cos(sample 0) = 1; cos(sample 1) = 2 / (2 × √2) = 1/√2.
        assert!((e.cosine - (1.0 + 0.5f64.sqrt()) / 2.0).abs() < 1e-12);
        assert_eq!(e.top1_agreement, Some(0.5));
        assert_eq!(e.accuracy, Some(1.0));
        assert_eq!(e.reference_accuracy, Some(0.5));
        let w = worst_samples(&["a".into(), "b".into()], &got, &want, |m| m <= 0.6, 5);
        assert_eq!(
            w.iter()
                .map(|w| (w.name.as_str(), w.ok))
                .collect::<Vec<_>>(),
            vec![("b", false), ("a", true)]
        );
        // One-element outputs have no classes; NaN against a number is infinite.
        let s1 = [slot(DType::F32, &[1])];
        let e = &output_errors(&s1, &[vec![vec![f64::NAN]]], &[vec![vec![1.0]]], None)[0];
        assert_eq!((e.top1_agreement, e.accuracy), (None, None));
        assert!(e.max_abs_error.is_infinite());
        assert_eq!(cosine(&[0.0, 0.0], &[0.0, 0.0]), 1.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("zant-dataset-test-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    use npyz::WriterBuilder;

    fn write_npy<T: npyz::Serialize + npyz::AutoSerialize + Copy>(
        p: &Path,
        shape: &[u64],
        v: &[T],
    ) {
        let mut buf = Vec::new();
        {
            let mut w = npyz::WriteOptions::new()
                .default_dtype()
                .shape(shape)
                .writer(&mut buf)
                .begin_nd()
                .unwrap();
            w.extend(v.iter().copied()).unwrap();
            w.finish().unwrap();
        }
        std::fs::write(p, buf).unwrap();
    }

    #[test]
    fn npy_files_split_on_their_first_axis_and_convert_types() {
        let s = [slot(DType::F32, &[1, 3])];
        let p = tmp("x.npy");
        // float64, as numpy writes by default: rounded to the model's f32.
        write_npy(&p, &[2, 3], &[0.5f64, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let d = read_samples(&p, &s).unwrap();
        assert_eq!(d.names, vec!["index 0", "index 1"]);
        assert_eq!(d.tensors[1][0].as_f32(), vec![3.0, 4.0, 5.0]);
        // Wrong per-sample size: says what it expected.
        let e = read_samples(&p, &[slot(DType::F32, &[1, 4])]).unwrap_err();
        assert!(e.to_string().contains("expected 2 samples"), "{e}");
        // Integer models take whole numbers only.
        let e = read_samples(&p, &[slot(DType::I8, &[3])]).unwrap_err();
        assert!(e.to_string().contains("0.5 is not"), "{e}");
        // Labels as .npy of int64.
        let l = tmp("l.npy");
        write_npy(&l, &[3], &[7i64, 0, 9]);
        assert_eq!(read_labels(&l).unwrap(), vec![7, 0, 9]);
    }

    #[test]
    fn bin_files_and_directories_sorted_by_name() {
        let s = [slot(DType::U8, &[2])];
        let d = tmp("dir");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("b.bin"), [3u8, 4]).unwrap();
        std::fs::write(d.join("a.bin"), [1u8, 2]).unwrap();
        std::fs::write(d.join("notes.txt"), "ignored").unwrap();
        write_npy(&d.join("c.npy"), &[2], &[5u8, 6]);
        let x = read_samples(&d, &s).unwrap();
        assert_eq!(x.names, vec!["a.bin", "b.bin", "c.npy"]);
        assert_eq!(x.tensors[2][0].bytes, vec![5, 6]);
        std::fs::write(d.join("d.bin"), [1u8]).unwrap();
        let e = read_samples(&d, &s).unwrap_err();
        assert!(
            e.to_string().contains("d.bin") && e.to_string().contains("1 bytes"),
            "{e}"
        );
        let f = tmp("all.bin");
        std::fs::write(&f, [1u8, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!(
            read_samples(&f, &s).unwrap().names,
            vec!["index 0", "index 1", "index 2"]
        );
        std::fs::write(&f, [1u8, 2, 3]).unwrap();
        assert!(read_samples(&f, &s).is_err());
        let t = tmp("labels.txt");
        std::fs::write(&t, "# class\n3\n\n4 # four\n").unwrap();
        assert_eq!(read_labels(&t).unwrap(), vec![3, 4]);
        std::fs::write(&t, "3\nseven\n").unwrap();
        let e = read_labels(&t).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }
}
