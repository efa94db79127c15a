//! Where a manifest store lives in each container. The container readers in `formats` find it
//! while scanning (MP3: an ID3v2 `GEOB` frame with MIME `application/c2pa` or the older
//! `application/x-c2pa-manifest-store`; FLAC: the same frame in an ID3v2 tag before `fLaC`;
//! WAV: a top-level `C2PA` chunk; MP4: the `uuid` box d8fec3d6-1b0e-483c-9297-5828877ec481) and
//! list it as a `C2pa` carrier; here that finding becomes what the SDK needs.

use crate::model::{Carrier, CarrierKind, Container};

/// Where the scan found a manifest store, if it found one.
pub fn store_place(carriers: &[Carrier]) -> Option<&'static str> {
    carriers.iter().find_map(|c| match c.kind {
        CarrierKind::C2pa { place } => Some(place),
        _ => None,
    })
}

/// The media type the SDK reads the container as; `None` where it has no C2PA binding
/// (AIFF, Ogg: c2pa 0.90 has no handler for them).
pub fn mime(container: Container) -> Option<&'static str> {
    match container {
        Container::Mpeg => Some("audio/mpeg"),
        Container::Flac => Some("audio/flac"),
        Container::Wav => Some("audio/wav"),
        Container::Mp4 => Some("audio/mp4"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_store_among_carriers() {
        let tags = Carrier::new(CarrierKind::Id3v2 { major: 3 }, Vec::new());
        assert_eq!(store_place(std::slice::from_ref(&tags)), None);
        assert_eq!(
            store_place(&[tags, Carrier::c2pa("ID3 GEOB")]),
            Some("ID3 GEOB")
        );
    }

    #[test]
    fn aiff_and_ogg_have_no_binding() {
        assert_eq!(mime(Container::Aiff), None);
        assert_eq!(mime(Container::OggVorbis), None);
        assert_eq!(mime(Container::Flac), Some("audio/flac"));
    }
}
