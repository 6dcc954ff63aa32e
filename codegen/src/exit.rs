//! What each error means for the exit status of a command that ends with it.

use crate::krate::CrateError;
use crate::load::LoadError;

impl LoadError {
    /// Exit status: 1 when the model uses operators zant does not support
    /// (the job cannot be done), 2 when the file or options are wrong.
    pub fn exit_code(&self) -> u8 {
        match self {
            LoadError::Unsupported(_) => 1,
            _ => 2,
        }
    }
}

impl CrateError {
    /// Exit status: 2 for a directory zant did not create or an invalid
    /// package name, 1 when emitting
    /// or writing the crate failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            CrateError::NotOurs(_) | CrateError::BadName { .. } => 2,
            CrateError::Emit(_) | CrateError::Io { .. } => 1,
        }
    }
}
