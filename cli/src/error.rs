//! Library errors as CLI errors. Each library error type decides its own exit
//! status (`exit_code()`, beside the type) and carries its advice apart from
//! its message (`help()`, beside the type too); this only carries them over.

use std::error::Error;

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

/// `From<E> for CliError` for error types with an `exit_code()` method, and
/// [`help_of`] for them.
macro_rules! library_errors {
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

        /// The help of one error, when it is one of the library errors (the
        /// only ones that carry help).
        fn help_of(e: &(dyn Error + 'static)) -> Option<String> {
            $(
                if let Some(e) = e.downcast_ref::<$t>() {
                    return e.help();
                }
            )*
            None
        }
    };
}

library_errors!(
    zant_boards::BoardError,
    zant_budget::BudgetError,
    zant_codegen::krate::CrateError,
    zant_codegen::load::LoadError,
    zant_figures::FigureError,
    zant_firmware::FirmwareError,
    zant_pipeline::PipelineError,
    zant_runner::RunError,
    zant_runner::qemu::QemuError,
    zant_runner::probe::ProbeError,
    zant_runner::esp::EspError,
);

impl CliError {
    /// What to do about the error: the help of the first error in its chain
    /// that has one (a context in front keeps the help of what it wraps).
    pub fn help(&self) -> Option<String> {
        self.error.chain().find_map(help_of)
    }
}
