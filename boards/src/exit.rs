//! What a board error means for the exit status of a command that ends with it.

use crate::BoardError;

impl BoardError {
    /// Exit status: always 2, a usage or input error (an unknown board name,
    /// a board file that does not read or check).
    pub fn exit_code(&self) -> u8 {
        2
    }
}
