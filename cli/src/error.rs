//! Library errors as CLI errors. Each library error type decides its own exit
//! status (`exit_code()`, beside the type); this only carries it over.

use crate::out::CliError;

impl CliError {
    /// The same error with `context` in front (`cannot load model …`).
    pub fn context(self, context: impl std::fmt::Display + Send + Sync + 'static) -> CliError {
        CliError {
            code: self.code,
            error: self.error.context(context),
        }
    }
}

/// `From<E> for CliError` for error types with an `exit_code()` method.
macro_rules! exit_coded {
    ($($t:ty),* $(,)?) => {
        $(
            impl From<$t> for CliError {
                fn from(e: $t) -> Self {
                    CliError {
                        code: e.exit_code(),
                        error: e.into(),
                    }
                }
            }
        )*
    };
}

exit_coded!(
    zant_boards::BoardError,
    zant_budget::BudgetError,
    zant_codegen::krate::CrateError,
    zant_codegen::load::LoadError,
    zant_firmware::FirmwareError,
    zant_pipeline::PipelineError,
    zant_runner::RunError,
);
