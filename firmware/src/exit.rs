//! What each error means for the exit status of a command that ends with it.

use crate::FirmwareError;

impl FirmwareError {
    /// Exit status: 2 for a directory zant did not create or a board zant
    /// cannot build for, an ELF that is not the board's (the user's input), 1 when the job failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            FirmwareError::NotOurs(_)
            | FirmwareError::UnsupportedBoard { .. }
            | FirmwareError::WrongMachine { .. }
            | FirmwareError::OutsideRegions { .. } => 2,
            _ => 1,
        }
    }
}
