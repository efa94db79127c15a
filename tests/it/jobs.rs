//! What the jobs promise (tag, verify, strip): idempotence, policies, strategies, the
//! independent proof on every write, carriers read but never written, tag-then-strip undo, and
//! the XMP decision made once per file.

mod behaviour;
mod inode_flags;
mod policies;
mod proof;
mod readonly_carriers;
mod strip_flac;
mod strip_mp4;
mod strip_undo;
mod write_strategies;
mod xmp_decision;
