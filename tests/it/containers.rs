//! Each container family against real tools: the container contract on every sample, ID3v2
//! quirks, MPEG junk, MP4 and Ogg plans carried out on files made by ffmpeg and mutagen, and the
//! byte structure of every tagged sample.

mod apev2_real;
mod asf_real;
mod contract;
mod id3_chunk_zeros;
mod id3_quirks;
mod mkv_real;
mod more_samples;
mod mp4_real;
mod mpeg_junk;
mod ogg_flac;
mod ogg_real;
mod rf64_dsd;
mod tag_roundtrip;
