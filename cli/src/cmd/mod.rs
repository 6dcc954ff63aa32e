//! One module per subcommand.

pub mod boards;
pub mod budget;
pub mod build;
pub mod compile;
pub mod deploy;
pub mod doctor;
pub mod inspect;
pub mod run;
pub mod size;
