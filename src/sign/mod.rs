//! Signing in bulk (`tag --sign`): the credentials, loaded and checked once before any file is
//! touched, and the manifest noai adds to each file after its tags are written: a C2PA manifest
//! with the CAWG `cawg.training-mining` assertion of the policy (SPEC §6), Edit intent so an
//! existing manifest becomes the ingredient. The SDK writes only to a temp file inside
//! `write::sign`, which proves the result before it replaces the user's file.

pub mod keys;
pub mod manifest;

use std::io::Cursor;
use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use c2pa::{BoxedSigner, Builder, BuilderIntent};

use crate::policy::Wanted;

/// `tag --sign --cert CHAIN.pem --key KEY.pem [--tsa URL]` (or `[sign]` in noai.toml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub tsa: Option<String>,
}

/// The loaded credentials and what every file's manifest says.
pub struct Signer {
    signer: BoxedSigner,
    definition: String,
    /// The `cawg.training-mining` data a file's existing manifest must match to be skipped.
    pub entries: serde_json::Value,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(<credentials>)")
    }
}

/// The SDK's name of a container it embeds manifests in; `None`: no C2PA binding (AIFF, Ogg).
pub use crate::c2pa::mime;

/// The note of a file whose container cannot carry a manifest: never a failure.
pub const NOT_AVAILABLE: &str = "signing not available for this container (C2PA has no binding for it); tags written, not signed";

impl Signer {
    /// Loads and checks the credentials, then signs a tiny WAV in memory: a key that does not
    /// match the certificate, or a certificate the SDK's profile check rejects, fails here once.
    pub fn load(opts: &Options, wanted: &Wanted) -> Result<Signer> {
        let key = keys::read_key(&opts.key)?;
        let chain = keys::read_chain(&opts.cert)?;
        if let Some(url) = &opts.tsa {
            // The SDK is built without its HTTP clients (no network, issue 17), so it cannot
            // send the time-stamp request; say so once instead of failing every file.
            bail!(
                "--tsa {url}: time-stamping is not available in this build (the C2PA SDK is built without network access); sign without --tsa, with a leaf certificate valid for as long as the signatures must verify"
            );
        }
        let signer =
            c2pa::create_signer::from_keys(&chain, &key.pkcs8_pem, key.alg, opts.tsa.clone())
                .map_err(|e| {
                    anyhow::anyhow!(
                        "--key/--cert: the key and certificate cannot sign together ({e})"
                    )
                })?;
        let s = Signer {
            signer,
            definition: manifest::definition(wanted),
            entries: manifest::entries(wanted),
        };
        s.preflight().map_err(|e| {
            anyhow::anyhow!(
                "--cert {}: a test signature failed: {e}; {}",
                opts.cert.display(),
                keys::CERT_DOCS
            )
        })?;
        Ok(s)
    }

    /// Signs `source` (a `mime` file) into `dest` with Edit intent.
    pub fn sign<R, W>(&self, mime: &str, source: &mut R, dest: &mut W) -> c2pa::Result<()>
    where
        R: std::io::Read + std::io::Seek + Send,
        W: std::io::Read + std::io::Write + std::io::Seek + Send,
    {
        let ctx = manifest::context(None)?;
        let mut b = Builder::from_context(ctx).with_definition(self.definition.as_str())?;
        b.set_intent(BuilderIntent::Edit);
        b.sign(&*self.signer, mime, source, dest)?;
        Ok(())
    }

    fn preflight(&self) -> Result<()> {
        let mut src = Cursor::new(tiny_wav());
        let mut dst = Cursor::new(Vec::new());
        self.sign("audio/wav", &mut src, &mut dst)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        dst.set_position(0);
        let state = c2pa::Reader::from_context(manifest::context(None)?)
            .with_stream("audio/wav", dst)
            .context("the test signature does not read back")?
            .validation_state();
        if state == c2pa::ValidationState::Invalid {
            bail!("the test signature reads back as Invalid");
        }
        Ok(())
    }
}

/// A valid 8 kHz mono WAV of 16 silent samples.
fn tiny_wav() -> Vec<u8> {
    let data = [0u8; 32];
    let mut w = Vec::new();
    w.extend(b"RIFF");
    w.extend(((4 + 24 + 8 + data.len()) as u32).to_le_bytes());
    w.extend(b"WAVEfmt ");
    w.extend(16u32.to_le_bytes());
    w.extend(1u16.to_le_bytes()); // PCM
    w.extend(1u16.to_le_bytes()); // mono
    w.extend(8000u32.to_le_bytes());
    w.extend(16000u32.to_le_bytes());
    w.extend(2u16.to_le_bytes());
    w.extend(16u16.to_le_bytes());
    w.extend(b"data");
    w.extend((data.len() as u32).to_le_bytes());
    w.extend(data);
    w
}
