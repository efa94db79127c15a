//! C2PA test helpers: certificates made with the openssl CLI (root + leaf, self-signed leaf,
//! leaf without EKU, expired leaf) and the reference reader, `c2pa-python` (PyPI `c2pa-python`,
//! installed by scripts/test), which reads a file's manifest store independently of noai.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::{tool, tool_ok};

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

fn openssl(dir: &Path, args: &[&str]) {
    tool_ok(Command::new("openssl").current_dir(dir).args(args));
}

/// Makes every certificate with the openssl CLI; keys get mode 600.
pub fn certs(dir: &Path) -> Certs {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(dir.join("ca.cnf"), CA_CNF).unwrap();
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("serial"), "01\n").unwrap();
    let ec = |out: &str| {
        openssl(
            dir,
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                out,
            ],
        )
    };
    ec("root.key");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "root.key",
            "-sha256",
            "-days",
            "3650",
            "-config",
            "ca.cnf",
            "-extensions",
            "v3_ca",
            "-out",
            "root.pem",
        ],
    );
    ec("leaf.sec1.key");
    openssl(
        dir,
        &[
            "pkcs8",
            "-topk8",
            "-nocrypt",
            "-in",
            "leaf.sec1.key",
            "-out",
            "leaf.key",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "leaf.key",
            "-subj",
            "/O=noai tests/CN=noai signer",
            "-out",
            "leaf.csr",
        ],
    );
    let issue = |ext: &str, out: &str| {
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "root.pem",
                "-CAkey",
                "root.key",
                "-CAcreateserial",
                "-sha256",
                "-days",
                "825",
                "-extfile",
                "ca.cnf",
                "-extensions",
                ext,
                "-out",
                out,
            ],
        );
    };
    issue("v3_leaf", "leaf.pem");
    issue("v3_noeku", "noeku.pem");
    openssl(
        dir,
        &[
            "ca",
            "-batch",
            "-notext",
            "-config",
            "ca.cnf",
            "-in",
            "leaf.csr",
            "-cert",
            "root.pem",
            "-keyfile",
            "root.key",
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20210101000000Z",
            "-extfile",
            "ca.cnf",
            "-extensions",
            "v3_leaf",
            "-out",
            "expired.pem",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "leaf.key",
            "-subj",
            "/O=noai tests/CN=self-signed signer",
            "-days",
            "825",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "keyUsage=critical,digitalSignature",
            "-addext",
            "extendedKeyUsage=critical,emailProtection",
            "-out",
            "self.pem",
        ],
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

fn mime(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "mp3" => "audio/mpeg",
        "flac" => "audio/flac",
        "wav" => "audio/wav",
        _ => "audio/mp4",
    }
}

const READ: &str = r#"
import sys, json
try:
    import c2pa
except ImportError:
    sys.exit("c2pa-python is not installed (pip install c2pa-python; scripts/test installs it)")
path, mime, anchors = sys.argv[1], sys.argv[2], sys.argv[3]
kw = {}
if anchors:
    kw["context"] = c2pa.Context(c2pa.Settings.from_json(json.dumps({"trust": {"trust_anchors": open(anchors).read()}})))
with open(path, "rb") as f:
    r = c2pa.Reader(mime, f, **kw)
    j = json.loads(r.json())
    act = j["manifests"][j["active_manifest"]]
    tm = [a["data"] for a in act["assertions"] if a["label"] == "cawg.training-mining"]
    acts = [a["data"] for a in act["assertions"] if a["label"].startswith("c2pa.actions")]
    print(json.dumps({"state": r.get_validation_state(), "manifests": len(j["manifests"]),
        "entries": tm[0]["entries"] if tm else None, "ingredients": len(act.get("ingredients", [])),
        "first_action": acts[0]["actions"][0]["action"] if acts else None,
        "generator": act.get("claim_generator_info", [{}])[0].get("name")}))
"#;

/// What the reference reader says of a file's active manifest: `state` (Invalid/Valid/
/// Trusted), `manifests` (count), `entries` (the cawg.training-mining map), `ingredients`,
/// `first_action`, `generator`.
pub fn reference_read(path: &Path, anchors: Option<&Path>) -> Value {
    let out = tool(
        Command::new("python3")
            .args(["-c", READ])
            .arg(path)
            .arg(mime(path))
            .arg(anchors.map(|a| a.as_os_str()).unwrap_or_default()),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("c2pa-python is not installed"), "{err}");
    assert!(
        out.status.success(),
        "c2pa-python cannot read {}: {err}",
        path.display()
    );
    serde_json::from_slice(&out.stdout).expect("c2pa-python output is JSON")
}

const SIGN: &str = r#"
import sys, json, c2pa
src, dst, mime, cert, key = sys.argv[1:6]
info = c2pa.C2paSignerInfo(alg=b"es256", sign_cert=open(cert, "rb").read(), private_key=open(key, "rb").read(), ta_url=None)
m = {"claim_generator_info": [{"name": "othertool", "version": "1"}],
     "assertions": [{"label": "cawg.training-mining", "data": {"entries": {"cawg.ai_training": {"use": "allowed"}}}}]}
b = c2pa.Builder(json.dumps(m))
b.set_intent(c2pa.C2paBuilderIntent.EDIT)
with open(src, "rb") as s, open(dst, "w+b") as d:
    b.sign(c2pa.Signer.from_info(info), mime, s, d)
"#;

/// Signs `src` into `dst` with c2pa-python (another tool: generator `othertool`, entries
/// `cawg.ai_training: allowed`).
pub fn sign_with_other_tool(src: &Path, dst: &Path, certs: &Certs) {
    tool_ok(
        Command::new("python3")
            .args(["-c", SIGN])
            .args([src, dst])
            .arg(mime(src))
            .args([&certs.leaf, &certs.key]),
    );
}
