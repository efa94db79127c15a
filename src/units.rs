//! Numbers as people read them, one style for the summary, `report` and the progress bar: counts
//! with thousands separators (`12,345`), sizes in binary units (`9.3 KiB`), rates rounded to whole
//! files a second (`1,000 files/s`).

/// 102400 → "102,400".
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Bytes in B, KiB, MiB, GiB or TiB: whole bytes below 1 KiB, one decimal below 10 units (so
/// small differences stay visible), whole units above.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    // Round first, so 9.96 KiB reads "10 KiB", not "10.0 KiB".
    if (v * 10.0).round() < 100.0 {
        format!("{v:.1} {}", UNITS[unit])
    } else {
        format!("{} {}", count(v.round() as u64), UNITS[unit])
    }
}

/// Files a second, rounded: "1,000 files/s"; below 10, one decimal ("2.5 files/s").
pub fn rate(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        return "0 files/s".into();
    }
    if per_sec < 9.95 {
        format!("{per_sec:.1} files/s")
    } else {
        format!("{} files/s", count(per_sec.round() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sizes_and_rates_read_like_prose() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(305_113_821), "305,113,821");
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(9528), "9.3 KiB");
        assert_eq!(size(10_199), "10 KiB");
        assert_eq!(size(10_240), "10 KiB");
        assert_eq!(size(305_113_821), "291 MiB");
        assert_eq!(size(5 << 30), "5.0 GiB");
        assert_eq!(size(3 << 40), "3.0 TiB");
        assert_eq!(size(5000 << 40), "5,000 TiB");
        assert_eq!(rate(1000.3123), "1,000 files/s");
        assert_eq!(rate(2.46), "2.5 files/s");
        assert_eq!(rate(0.0), "0 files/s");
    }
}
