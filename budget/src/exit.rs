//! What a budget error means for the exit status of a command that ends with it.

use crate::BudgetError;

impl BudgetError {
    /// Exit status: always 2, a usage or input error (a budget or baselines
    /// file that does not read or check).
    pub fn exit_code(&self) -> u8 {
        2
    }
}
