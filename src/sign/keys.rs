//! The signing credentials: the private key (PKCS#8, or SEC1 converted to PKCS#8, which is all
//! the SDK's Rust crypto reads), its algorithm, and the certificate chain checked against the
//! C2PA certificate profile before any file is touched, so a bad certificate is one clear
//! sentence at the start of the run instead of a failure per file. Key bytes never reach a
//! message: errors name the file, never its content.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{Result, bail};
use c2pa::SigningAlg;

/// Where the openssl commands that make a valid certificate are documented.
pub const CERT_DOCS: &str =
    "see README.md, \"Signing with C2PA\", for the openssl commands that make a valid one";

// Object identifiers, DER-encoded bodies (without tag and length).
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// A private key ready for the SDK: PKCS#8 PEM and the algorithm it signs with.
pub struct Key {
    pub pkcs8_pem: Vec<u8>,
    pub alg: SigningAlg,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({:?}, <secret>)", self.alg)
    }
}

/// Reads the key at `path`: refused when group or others may read it (a signing key is a
/// secret), converted from SEC1 when needed.
pub fn read_key(path: &Path) -> Result<Key> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| anyhow::anyhow!("--key {shown}: {e}"))?;
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        bail!(
            "--key {shown}: the private key is readable by group or others (mode {:o}); run `chmod 600 {shown}` first",
            mode & 0o777
        );
    }
    let text = std::fs::read(path).map_err(|e| anyhow::anyhow!("--key {shown}: {e}"))?;
    let blocks = pem::parse_many(&text).map_err(|_| not_a_key(path))?;
    let Some(block) = blocks.iter().find(|b| b.tag().ends_with("PRIVATE KEY")) else {
        return Err(not_a_key(path));
    };
    let der = match block.tag() {
        "PRIVATE KEY" => block.contents().to_vec(),
        "EC PRIVATE KEY" => sec1_to_pkcs8(block.contents()).ok_or_else(|| not_a_key(path))?,
        "ENCRYPTED PRIVATE KEY" => bail!(
            "--key {shown}: the key is encrypted; decrypt it to an unencrypted PKCS#8 file kept with mode 600 (`openssl pkcs8 -in KEY -out KEY.p8 -nocrypt`)"
        ),
        other => bail!(
            "--key {shown}: a {other:?} key is not supported; convert it with `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.p8`"
        ),
    };
    let alg = pkcs8_alg(&der).ok_or_else(|| {
        anyhow::anyhow!(
            "--key {shown}: unsupported key type (use an EC P-256/P-384/P-521, Ed25519 or RSA key)"
        )
    })?;
    let pkcs8_pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der)).into_bytes();
    Ok(Key { pkcs8_pem, alg })
}

fn not_a_key(path: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "--key {}: not a PEM private key (expected `BEGIN PRIVATE KEY` or `BEGIN EC PRIVATE KEY`)",
        path.display()
    )
}

/// One DER element: (tag, body, rest).
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        n if n < 0x80 => (n as usize, rest),
        n => {
            let k = (n & 0x7f) as usize;
            if k == 0 || k > 4 || rest.len() < k {
                return None;
            }
            let len = rest[..k].iter().fold(0usize, |a, &b| (a << 8) | b as usize);
            (len, &rest[k..])
        }
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

fn der_encode(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match body.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(body);
    out
}

/// SEC1 `ECPrivateKey` (RFC 5915) to PKCS#8 `PrivateKeyInfo` (RFC 5208): the curve comes from
/// the SEC1 key's `[0]` parameters, which OpenSSL always writes.
fn sec1_to_pkcs8(sec1: &[u8]) -> Option<Vec<u8>> {
    let (0x30, mut body, _) = der(sec1)? else {
        return None;
    };
    let mut curve = None;
    while !body.is_empty() {
        let (tag, inner, rest) = der(body)?;
        if tag == 0xa0 {
            let (0x06, oid, _) = der(inner)? else {
                return None;
            };
            curve = Some(oid);
        }
        body = rest;
    }
    let curve = curve?;
    let mut alg = der_encode(0x06, OID_EC_PUBLIC_KEY);
    alg.extend(der_encode(0x06, curve));
    let mut info = der_encode(0x02, &[0]);
    info.extend(der_encode(0x30, &alg));
    info.extend(der_encode(0x04, sec1));
    Some(der_encode(0x30, &info))
}

/// The algorithm of a PKCS#8 key: ES256/384/512 by curve, Ed25519, or PS256 for RSA.
fn pkcs8_alg(der_bytes: &[u8]) -> Option<SigningAlg> {
    let (0x30, body, _) = der(der_bytes)? else {
        return None;
    };
    let (0x02, _, rest) = der(body)? else {
        return None;
    };
    let (0x30, alg, _) = der(rest)? else {
        return None;
    };
    let (0x06, oid, params) = der(alg)? else {
        return None;
    };
    match oid {
        OID_ED25519 => Some(SigningAlg::Ed25519),
        OID_RSA => Some(SigningAlg::Ps256),
        OID_EC_PUBLIC_KEY => match der(params)? {
            (0x06, OID_P256, _) => Some(SigningAlg::Es256),
            (0x06, OID_P384, _) => Some(SigningAlg::Es384),
            (0x06, OID_P521, _) => Some(SigningAlg::Es512),
            _ => None,
        },
        _ => None,
    }
}

/// Checks the signing (first) certificate of `chain_pem` against the C2PA certificate profile
/// (spec 2.2 §14.5.1) as far as a signer can fix it: a leaf, not a CA; an extended key usage
/// that is not "any"; the digitalSignature key usage; valid today. Returns the chain unchanged.
pub fn read_chain(path: &Path) -> Result<Vec<u8>> {
    let shown = path.display();
    let text = std::fs::read(path).map_err(|e| anyhow::anyhow!("--cert {shown}: {e}"))?;
    let blocks = pem::parse_many(&text).unwrap_or_default();
    let Some(leaf) = blocks.iter().find(|b| b.tag() == "CERTIFICATE") else {
        bail!("--cert {shown}: no PEM certificate in it (expected `BEGIN CERTIFICATE`)");
    };
    if let Some(why) = profile_problem(leaf.contents()) {
        bail!("--cert {shown}: {why}; {CERT_DOCS}");
    }
    Ok(text)
}

/// Why the C2PA profile rejects this certificate, if it does.
fn profile_problem(der_bytes: &[u8]) -> Option<String> {
    use x509_parser::prelude::*;
    let Ok((_, cert)) = X509Certificate::from_der(der_bytes) else {
        return Some("the certificate does not parse".into());
    };
    if cert.version() != X509Version::V3 {
        return Some("C2PA needs an X.509 v3 certificate".into());
    }
    if cert.is_ca() {
        return Some(
            "this is a CA certificate (basicConstraints CA:TRUE); C2PA claims must be signed by a leaf certificate issued by it".into(),
        );
    }
    match cert.extended_key_usage() {
        Ok(Some(eku)) if eku.value.any => {
            return Some(
                "the certificate's extended key usage is anyExtendedKeyUsage, which C2PA rejects"
                    .into(),
            );
        }
        Ok(Some(eku)) if eku.value.email_protection || !eku.value.other.is_empty() => {}
        Ok(Some(_)) => {
            return Some("the certificate's extended key usage has neither emailProtection, documentSigning (1.3.6.1.5.5.7.3.36) nor C2PA claimSigning (1.3.6.1.4.1.62558.2.1)".into());
        }
        _ => {
            return Some("the certificate has no extended key usage (EKU); C2PA needs one such as emailProtection".into());
        }
    }
    if let Ok(Some(ku)) = cert.key_usage()
        && !ku.value.digital_signature()
    {
        return Some("the certificate's key usage lacks digitalSignature".into());
    }
    if cert.subject().iter_organization().next().is_none() {
        return Some(
            "the certificate's subject has no organization (O=), which the C2PA validator needs to name the signer".into(),
        );
    }
    let now = ASN1Time::now();
    let validity = cert.validity();
    if now > validity.not_after {
        return Some(format!(
            "the certificate expired on {}; a claim signed with it is invalid",
            validity.not_after
        ));
    }
    if now < validity.not_before {
        return Some(format!(
            "the certificate is not valid before {}",
            validity.not_before
        ));
    }
    None
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
