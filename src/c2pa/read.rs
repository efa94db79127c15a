//! The reference SDK's reader over an opened file: validation state, failure codes, signer and
//! the active manifest's training-mining assertion. Settings: no network ever (no remote
//! manifests, no OCSP; the crate is built without HTTP support anyway), and a low spill
//! threshold so a large WAV is hashed from disk rather than copied into memory.

use std::fs::File;

use ::c2pa::{Context, Manifest, Reader, ValidationState};
use serde_json::{Value, json};

use super::TrustConfig;
use super::entries::parse_assertion;
use crate::model::{SignState, Signed};

/// The current label (CAWG v1.1) and the removed C2PA 1.x one, read and marked as legacy.
const LABEL: &str = "cawg.training-mining";
const LEGACY_LABEL: &str = "c2pa.training-mining";

/// The SDK's settings for reading: offline, bounded memory, the user's trust anchors.
fn settings(trust: &TrustConfig) -> Value {
    let mut s = json!({
        "verify": {
            "remote_manifest_fetch": false,
            "ocsp_fetch": false,
            "verify_trust": true,
        },
        "core": { "backing_store_memory_threshold_in_mb": 16 },
    });
    if let Some(pem) = &trust.anchors_pem {
        s["trust"] = json!({ "trust_anchors": pem });
    }
    s
}

/// Validates the store in `file`; an error is a store the SDK could not read at all.
pub fn validate(
    file: &File,
    mime: &str,
    place: &'static str,
    trust: &TrustConfig,
) -> Result<Signed, String> {
    let ctx = Context::new()
        .with_settings(settings(trust))
        .map_err(|e| format!("C2PA settings: {e}"))?;
    let reader = Reader::from_context(ctx)
        .with_stream(mime, file)
        .map_err(|e| format!("the C2PA manifest store cannot be read: {e}"))?;
    let state = match reader.validation_state() {
        ValidationState::Invalid => SignState::Invalid,
        ValidationState::Valid => SignState::Valid,
        ValidationState::Trusted => SignState::Trusted,
    };
    let failures = reader
        .validation_status()
        .unwrap_or_default()
        .iter()
        .map(|s| s.code().to_string())
        .collect();
    let mut signed = Signed {
        failures,
        ..Signed::bare(place, state)
    };
    match reader.active_manifest() {
        Some(m) => read_manifest(m, &mut signed),
        None => {
            signed.state = SignState::Invalid;
            signed.error = Some("the C2PA manifest store has no active manifest".into());
        }
    }
    Ok(signed)
}

/// The signer and the training-mining entries of the active manifest.
fn read_manifest(m: &Manifest, signed: &mut Signed) {
    if let Some(info) = m.signature_info() {
        signed.issuer = info.issuer.clone();
        signed.common_name = info.common_name.clone();
    }
    let find = |label: &str| m.assertions().iter().find(|a| a.label() == label);
    let (found, legacy) = match (find(LABEL), find(LEGACY_LABEL)) {
        (Some(a), _) => (a, false),
        (None, Some(a)) => (a, true),
        (None, None) => return,
    };
    signed.assertion = Some(found.label().to_string());
    signed.legacy = legacy;
    match found.value() {
        Ok(v) => {
            let parsed = parse_assertion(v);
            signed.entries = parsed.entries;
            signed.bad_entries = parsed.bad;
        }
        Err(e) => signed
            .bad_entries
            .push(format!("the assertion cannot be decoded: {e}")),
    }
}
