//! Carrying out a plan's bytes: a rewrite's parts into any writer (the write layer's temp file,
//! or memory), and a whole plan in memory for tests and fuzzing. Unchanged ranges are copied
//! with `io::copy`, which uses `copy_file_range` between files.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};

use super::{FormatError, Part, Plan, Result, Source, ogg};
use crate::bad;

/// Writes `parts` (ranges of `src` and new bytes) to `out`, in order.
pub fn write_parts<W: Write>(src: &File, parts: &[Part], out: &mut W) -> Result<()> {
    let io = |e: std::io::Error| FormatError::io_write("write failed", &e);
    for part in parts {
        match part {
            Part::Bytes(b) => out.write_all(b).map_err(io)?,
            Part::Copy { offset, len } => copy_range(src, *offset, *len, out)?,
            Part::OggPages {
                offset,
                len,
                seq_delta,
            } => ogg::copy_pages(src, *offset, *len, *seq_delta, out).map_err(io)?,
        }
    }
    Ok(())
}

fn copy_range<W: Write>(src: &File, offset: u64, len: u64, out: &mut W) -> Result<()> {
    // A second descriptor for the copy: the reads elsewhere are positioned and do not care
    // where its offset is.
    let mut r = src
        .try_clone()
        .map_err(|e| FormatError::io_read("cannot reopen for copying", &e))?;
    r.seek(SeekFrom::Start(offset))
        .map_err(|e| FormatError::io_read("seek failed", &e))?;
    // A failure here may be the read or the write; the temp file's disk is the likelier one.
    let copied = std::io::copy(&mut r.take(len), out)
        .map_err(|e| FormatError::io_write("copy failed", &e))?;
    if copied != len {
        return Err(bad!(
            Changed,
            "the file shrank while it was being copied; not written"
        ));
    }
    Ok(())
}

/// The bytes the file would have after `plan` (tests and fuzzing; the write layer streams).
pub fn apply(src: &Source, plan: &Plan) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    match plan {
        Plan::Rewrite { parts } => write_parts(src.file(), parts, &mut out)?,
        Plan::Patch { .. } | Plan::Cut { .. } => {
            out = src.read(0, src.len(), "file")?;
            for r in plan.clone().regions().unwrap_or_default() {
                let end = r.offset as usize + r.bytes.len();
                if r.offset > src.len() {
                    return Err(bad!(Internal, "a region starts past the end of the file"));
                }
                if out.len() < end {
                    out.resize(end, 0);
                }
                out[r.offset as usize..end].copy_from_slice(&r.bytes);
            }
            if let Some(len) = plan.cut() {
                out.truncate(len as usize);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::formats::testutil::source_of;
    use crate::formats::{Region, patch_parts};

    #[test]
    fn a_file_that_shrinks_under_the_copy_is_changed() {
        let src = source_of(b"ten bytes!");
        let parts = [Part::Copy { offset: 0, len: 20 }];
        let e = write_parts(src.file(), &parts, &mut Vec::new()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Changed, "{e}");
        assert!(e.message().contains("shrank"), "{e}");
    }

    #[test]
    fn a_plan_that_breaks_the_planners_own_rules_is_internal() {
        let src = source_of(b"ten bytes!");
        let past_the_end = Plan::Patch {
            regions: vec![Region {
                offset: 11,
                bytes: b"x".to_vec(),
            }],
        };
        let e = apply(&src, &past_the_end).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal, "{e}");
        let e = patch_parts(vec![Part::Bytes(b"new".to_vec())], 0, b"x").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal, "{e}");
        assert!(e.message().contains("no copied range covers"), "{e}");
    }
}
