//! One module per subcommand.

pub mod boards;
pub mod common;
pub mod compile;
pub mod inspect;
