//! One module per subcommand.

pub mod common;
pub mod compile;
pub mod inspect;
