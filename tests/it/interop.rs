//! Other programs reading and writing the same files: the independent-reader matrix, what each
//! reader sees before and after, and the CI systems (docs/ci.md blocks, pre-commit, action.yml).

mod ci_docs;
mod ci_packaging;
mod independent_readers;
mod independent_readers_mkv;
mod reader_matrix;
