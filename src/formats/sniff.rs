//! Placeholder for the sniff module (being written).

use std::ops::Range;

use super::{Carrier, Edit, FormatError, Plan, Result, Source};

pub fn carriers(_src: &Source) -> Result<Vec<Carrier>> {
    Err(FormatError("sniff: not implemented yet".into()))
}

pub fn plan(_src: &Source, _edit: &Edit) -> Result<Option<Plan>> {
    Err(FormatError("sniff: not implemented yet".into()))
}

pub fn payload(_src: &Source) -> Result<Vec<Range<u64>>> {
    Err(FormatError("sniff: not implemented yet".into()))
}
