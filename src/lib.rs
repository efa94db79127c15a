//! `noai`: write, verify, report on and remove a machine-readable "no AI training" reservation
//! inside audio files (see docs/spec.md).

pub mod formats;
pub mod policy;
pub mod write;
