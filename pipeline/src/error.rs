//! The pipeline's error: each cause kept as a typed source, and the exit
//! status a command ending with it should have.

use std::path::PathBuf;

use zant_codegen::hostrun::HostRunError;
use zant_codegen::ir::DType;
use zant_codegen::krate::CrateError;
use zant_codegen::load::LoadError;
use zant_codegen::plan::PlanError;
use zant_firmware::FirmwareError;
use zant_runner::esp::EspError;
use zant_runner::RunError;

/// What can go wrong between a model file and a checked run on the target.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A profiling run gave no usable per-node figures.
    #[error("no per-layer profile: {0}")]
    Profile(String),
    /// The model could not be imported.
    #[error("cannot load model {}", path.display())]
    Load {
        /// The model file.
        path: PathBuf,
        /// Why.
        #[source]
        source: LoadError,
    },
    /// No planner of that name.
    #[error("unknown planner `{name}` (known: {})", known.join(", "))]
    UnknownPlanner {
        /// The name asked for.
        name: String,
        /// The planners zant has.
        known: Vec<String>,
    },
    /// The activation arena does not fit the board's arena regions.
    #[error("model `{model}` does not fit board `{board}`: {source}")]
    DoesNotFit {
        /// Model (file stem).
        model: String,
        /// Board.
        board: String,
        /// The planner's account.
        #[source]
        source: PlanError,
    },
    /// Rendering, building or measuring the firmware failed.
    #[error(transparent)]
    Firmware(#[from] FirmwareError),
    /// Writing the model crate failed.
    #[error(transparent)]
    Crate(#[from] CrateError),
    /// A directory could not be created.
    #[error("cannot create {}: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// One input file was given for a model with several inputs.
    #[error("--input feeds one input tensor, but the model has {inputs} inputs (a data set of several inputs: --inputs DIR with one <input name>.npy per input)")]
    InputCount {
        /// The model's inputs.
        inputs: usize,
    },
    /// An input or expected-outputs file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The input file's size is not the input tensor's.
    #[error("{} has {got} bytes but input `{name}` ({dtype} {}) needs {want}", path.display(), crate::shape_text(shape))]
    InputSize {
        /// The file.
        path: PathBuf,
        /// Its bytes.
        got: usize,
        /// The input's name.
        name: String,
        /// Its element type.
        dtype: DType,
        /// Its shape.
        shape: Vec<usize>,
        /// The bytes it takes.
        want: usize,
    },
    /// A data-set file (inputs, expected outputs, labels) does not fit the
    /// model.
    #[error("{}: {detail}", path.display())]
    DataSet {
        /// The file or directory.
        path: PathBuf,
        /// What does not fit, and what was expected.
        detail: String,
    },
    /// The expected-outputs file's size is not the outputs'.
    #[error("{} has {got} bytes; the model's outputs take {want}", path.display())]
    ExpectSize {
        /// The file.
        path: PathBuf,
        /// Its bytes.
        got: usize,
        /// The bytes the outputs take.
        want: usize,
    },
    /// espflash could not make the flash image.
    #[error(transparent)]
    FlashImage(EspError),
    /// The application image is larger than its flash partition.
    #[error("the application image ({app} B) does not fit its flash partition ({partition} B) by {} B", app - partition)]
    ImageTooBig {
        /// Bytes of the application image.
        app: u64,
        /// Bytes of the partition.
        partition: u64,
    },
    /// The weights (and the least code) cannot fit the board's flash: found
    /// before the cross-compile.
    #[error("the model's weights ({weights} B) and at least {code} B of code need {} B, but {what} has {capacity} B: {} B too many", weights + code, weights + code - capacity)]
    FlashTooSmall {
        /// Board.
        board: String,
        /// The region or limit that is too small.
        what: String,
        /// Its bytes.
        capacity: u64,
        /// Bytes of the weights.
        weights: u64,
        /// The code estimate.
        code: u64,
        /// Other flash regions of the board that could hold the weights.
        elsewhere: Vec<String>,
    },
    /// The weights fit the board's weights regions in all but not one by one:
    /// a weight finds no region with room left (found before the
    /// cross-compile).
    #[error("the model's weights do not fit board `{board}` ({code} B of the first region kept for code): {source}")]
    WeightsDoNotFit {
        /// Board.
        board: String,
        /// Bytes of the first region kept for the code.
        code: u64,
        /// The placement's account.
        #[source]
        source: zant_codegen::plan::WeightsError,
    },
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The firmware is over the board's own size limits.
    #[error("the firmware exceeds the size budget of board `{board}`: {}", over.join("; "))]
    OverLimits {
        /// Board.
        board: String,
        /// Each limit passed, with its figures.
        over: Vec<String>,
    },
    /// The host build of the reference failed.
    #[error("host reference build failed: {source}")]
    HostBuild {
        /// Why.
        #[source]
        source: HostRunError,
    },
    /// The host reference run failed.
    #[error("host reference run failed: {source}")]
    HostRun {
        /// Why.
        #[source]
        source: HostRunError,
    },
    /// The model failed at run time on the host.
    #[error("host reference run failed: {0}")]
    HostCase(String),
    /// The host reference gave no result.
    #[error("host reference produced nothing")]
    HostNothing,
    /// Running on the target failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The firmware reported another number of outputs than the model has.
    #[error("the firmware reported {got} output tensors, the model has {want}")]
    OutputCount {
        /// Tensors reported.
        got: usize,
        /// The model's outputs.
        want: usize,
    },
}

fn flash_help(elsewhere: &[String]) -> String {
    if elsewhere.is_empty() {
        "choose a board with more flash, or make the weights smaller (an int8 model's are a quarter of float32's)".into()
    } else {
        format!(
            "the weights would fit in {} of this board: set `placement.weights` in a board file of your own",
            elsewhere.join(" or ")
        )
    }
}

impl PipelineError {
    /// What to do about the error, kept apart from its message (`None`
    /// when zant has no advice for it).
    pub fn help(&self) -> Option<String> {
        match self {
            PipelineError::Firmware(e) => e.help(),
            PipelineError::Crate(e) => e.help(),
            PipelineError::FlashImage(e) => e.help(),
            PipelineError::Run(e) => e.help(),
            PipelineError::FlashTooSmall { elsewhere, .. } => Some(flash_help(elsewhere)),
            PipelineError::WeightsDoNotFit { .. } => Some("list another flash region in `placement.weights` (a board file of your own), or make the weights smaller (an int8 model's are a quarter of float32's)".into()),
            _ => None,
        }
    }
}

impl PipelineError {
    /// Exit status of a command that ends with this error: 2 for a usage or
    /// input error (bad file, unknown name, missing tool), 1 when the job
    /// failed (does not fit, build failed, target fault).
    pub fn exit_code(&self) -> u8 {
        match self {
            PipelineError::Load { source, .. } => source.exit_code(),
            PipelineError::Firmware(e) => e.exit_code(),
            PipelineError::Crate(e) => e.exit_code(),
            PipelineError::Run(e) => e.exit_code(),
            PipelineError::UnknownPlanner { .. }
            | PipelineError::InputCount { .. }
            | PipelineError::Read { .. }
            | PipelineError::InputSize { .. }
            | PipelineError::ExpectSize { .. }
            | PipelineError::DataSet { .. } => 2,
            PipelineError::DoesNotFit { .. }
            | PipelineError::FlashTooSmall { .. }
            | PipelineError::WeightsDoNotFit { .. }
            | PipelineError::CreateDir { .. }
            | PipelineError::FlashImage(_)
            | PipelineError::ImageTooBig { .. }
            | PipelineError::Write { .. }
            | PipelineError::OverLimits { .. }
            | PipelineError::HostBuild { .. }
            | PipelineError::HostRun { .. }
            | PipelineError::HostCase(_)
            | PipelineError::HostNothing
            | PipelineError::OutputCount { .. }
            | PipelineError::Profile(_) => 1,
        }
    }
}
