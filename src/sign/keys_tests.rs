//! Key parsing without the openssl CLI: DER round trips of the SEC1 conversion.

use super::*;

/// A P-256 SEC1 key as OpenSSL writes it (`openssl ecparam -genkey -name prime256v1`): made
/// for this test only, it signs nothing.
const SEC1_P256: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIP2odsYJHTc9q0tsho508jxqdm302+HwCV86sf+oJVruoAoGCCqGSM49
AwEHoUQDQgAERKQDGbjUb7Bbzg0438rsH8anUuOcyvRYkICS3Is1c+vc6A+X83Rm
q/1FxaeWj5V1cHbtmjhJnQs00A0uNjo8Vw==
-----END EC PRIVATE KEY-----
";

#[test]
fn sec1_becomes_pkcs8_with_its_curve() {
    let block = pem::parse(SEC1_P256).unwrap();
    let der = sec1_to_pkcs8(block.contents()).unwrap();
    assert!(matches!(pkcs8_alg(&der), Some(SigningAlg::Es256)));
}

#[test]
fn group_readable_key_is_refused_without_printing_it() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("k.pem");
    std::fs::write(&p, SEC1_P256).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
    let e = read_key(&p).unwrap_err().to_string();
    assert!(e.contains("readable by group or others"), "{e}");
    assert!(!e.contains("MHcCAQEE"), "key material in the message: {e}");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    let k = read_key(&p).unwrap();
    assert!(
        String::from_utf8(k.pkcs8_pem.clone())
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    assert!(!format!("{k:?}").contains("PRIVATE"));
}

#[test]
fn garbage_is_not_a_key() {
    assert!(pkcs8_alg(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_none());
    assert!(sec1_to_pkcs8(&[0x30, 0x80]).is_none());
}
