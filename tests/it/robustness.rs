//! Files and conditions that must not cost a user data: broken and hostile files, torn writes,
//! concurrent runs, full disks, fuzz regressions, and the kill campaign's library generator.

mod apev2_cuts;
mod broken;
mod folder_journal;
mod fuzz_regressions;
mod hostile;
mod make_library;
mod reliability;
mod torn_write;
