//! `--shard K/N`: N machines, CI jobs or array tasks split one catalogue with no coordinator.
//! Each path (a local path as walked, or `s3://bucket/key`) belongs to exactly one shard, by a
//! stable hash of its bytes (64-bit FNV-1a: the same on every machine, build and run), so the N
//! shards together cover every file once. `report --merge` (`merge`) joins their JSON reports.

pub mod merge;

use std::path::Path;
use std::str::FromStr;

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {s:?}: expected K/N with 1 <= K <= N, e.g. 2/8");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// True when `path` is this shard's.
    pub fn keeps(&self, path: &Path) -> bool {
        fnv1a(path.as_os_str().as_encoded_bytes()) % self.count == self.index - 1
    }
}

/// 64-bit FNV-1a: tiny, fixed forever, and spreads path names well enough for sharding.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!("2/8".parse(), Ok(Shard { index: 2, count: 8 }));
        for bad in ["0/3", "4/3", "1", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    /// Every path is in exactly one shard, the shards are of similar size, and the hash is the
    /// fixed one (a changed hash would move files between shards of runs already split).
    #[test]
    fn each_path_in_exactly_one_shard() {
        let shards: Vec<Shard> = (1..=4).map(|k| Shard { index: k, count: 4 }).collect();
        let mut sizes = [0usize; 4];
        for i in 0..4000 {
            let p = format!("s3://music/artist {}/track {i}.flac", i % 37);
            let owners: Vec<usize> = (0..4).filter(|&k| shards[k].keeps(Path::new(&p))).collect();
            assert_eq!(owners.len(), 1, "{p}");
            sizes[owners[0]] += 1;
        }
        assert!(sizes.iter().all(|&n| (800..1200).contains(&n)), "{sizes:?}");
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
