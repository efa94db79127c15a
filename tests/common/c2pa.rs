//! C2PA test certificates, made with the openssl CLI: root + leaf (PKCS#8 and SEC1 keys),
//! self-signed leaf, leaf without EKU, expired leaf. The reference SDK's reader and signer are
//! in `common::c2pa_read`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::tool_ok;

const CA_CNF: &str = "[req]
distinguished_name=dn
prompt=no
[dn]
CN=noai Test Root CA
[v3_ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[v3_leaf]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=critical,emailProtection,1.3.6.1.4.1.62558.2.1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
[v3_noeku]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
[ca]
default_ca=ca_default
[ca_default]
database=index.txt
new_certs_dir=.
serial=serial
policy=policy_any
default_md=sha256
[policy_any]
organizationName=optional
commonName=supplied
";

/// The certificates and keys of a test, in one folder.
pub struct Certs {
    pub dir: PathBuf,
    /// The root CA (a trust anchor; also a CA certificate C2PA refuses to sign with).
    pub root: PathBuf,
    pub root_key: PathBuf,
    /// A leaf issued by the root (leaf first), its PKCS#8 key and the same key as SEC1.
    pub leaf: PathBuf,
    pub key: PathBuf,
    pub sec1_key: PathBuf,
    /// A self-signed leaf (CA:FALSE, EKU emailProtection) for `key`.
    pub self_signed: PathBuf,
    /// A leaf without EKU, and one that expired in 2021, both for `key`.
    pub no_eku: PathBuf,
    pub expired: PathBuf,
}

/// `openssl` with the words of `line`, then `more` (arguments that hold spaces), run in `dir`.
fn openssl(dir: &Path, line: &str, more: &[&str]) {
    tool_ok(
        Command::new("openssl")
            .current_dir(dir)
            .args(line.split_whitespace())
            .args(more),
    );
}

/// Makes every certificate with the openssl CLI; keys get mode 600.
pub fn certs(dir: &Path) -> Certs {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(dir.join("ca.cnf"), CA_CNF).unwrap();
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("serial"), "01\n").unwrap();
    let ec = "ecparam -name prime256v1 -genkey -noout -out";
    openssl(dir, ec, &["root.key"]);
    openssl(
        dir,
        "req -x509 -new -key root.key -sha256 -days 3650 -config ca.cnf -extensions v3_ca -out root.pem",
        &[],
    );
    openssl(dir, ec, &["leaf.sec1.key"]);
    openssl(
        dir,
        "pkcs8 -topk8 -nocrypt -in leaf.sec1.key -out leaf.key",
        &[],
    );
    let subject = ["-subj", "/O=noai tests/CN=noai signer"];
    openssl(dir, "req -new -key leaf.key -out leaf.csr", &subject);
    for (ext, out) in [("v3_leaf", "leaf.pem"), ("v3_noeku", "noeku.pem")] {
        let line = format!(
            "x509 -req -in leaf.csr -CA root.pem -CAkey root.key -CAcreateserial -sha256 -days 825 \
             -extfile ca.cnf -extensions {ext} -out {out}"
        );
        openssl(dir, &line, &[]);
    }
    // Expired: valid through 2020 only (`openssl ca` takes explicit dates).
    openssl(
        dir,
        "ca -batch -notext -config ca.cnf -in leaf.csr -cert root.pem -keyfile root.key \
         -startdate 20200101000000Z -enddate 20210101000000Z -extfile ca.cnf -extensions v3_leaf \
         -out expired.pem",
        &[],
    );
    // Self-signed leaf: CA:FALSE with the EKU, issued by itself.
    openssl(
        dir,
        "req -x509 -new -key leaf.key -days 825 -out self.pem \
         -addext basicConstraints=critical,CA:FALSE -addext keyUsage=critical,digitalSignature \
         -addext extendedKeyUsage=critical,emailProtection",
        &["-subj", "/O=noai tests/CN=self-signed signer"],
    );
    for k in ["root.key", "leaf.sec1.key", "leaf.key"] {
        std::fs::set_permissions(dir.join(k), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    Certs {
        dir: dir.to_path_buf(),
        root: dir.join("root.pem"),
        root_key: dir.join("root.key"),
        leaf: dir.join("leaf.pem"),
        key: dir.join("leaf.key"),
        sec1_key: dir.join("leaf.sec1.key"),
        self_signed: dir.join("self.pem"),
        no_eku: dir.join("noeku.pem"),
        expired: dir.join("expired.pem"),
    }
}
