"""C2PA test driver over the reference SDK's Python package (c2pa-python), independent of noai.

    c2pa_sign.py certs DIR                 root CA + leaf (ES256, EKU emailProtection + claimSigning)
                                           as DIR/root.pem, DIR/root.key, DIR/leaf.pem, DIR/leaf.key
    c2pa_sign.py sign IN OUT CHAIN KEY [--entries JSON] [--label LABEL]
                                           signs IN into OUT (Edit intent) with a training-mining
                                           assertion (default: every cawg key notAllowed)
    c2pa_sign.py read FILE [--anchors ROOT.pem]
                                           prints {"state": ..., "codes": [...], "assertions": {...}}

Used by tests/c2pa.rs: noai must read what the reference writer signs, and the reference reader
judges what noai's `--c2pa=invalidate` writes (and files edited by other tools).
"""

import argparse
import json
import os
import subprocess
import sys

import c2pa

CA_CNF = """[req]
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
"""

MIME = {
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".wav": "audio/wav",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
}

ALL_NOT_ALLOWED = {
    k: {"use": "notAllowed"}
    for k in ("cawg.data_mining", "cawg.ai_inference", "cawg.ai_training", "cawg.ai_generative_training")
}


def run(*args, cwd):
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


def certs(d):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write(CA_CNF)
    run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "root.key", cwd=d)
    run("openssl", "req", "-x509", "-new", "-key", "root.key", "-sha256", "-days", "3650",
        "-config", "ca.cnf", "-extensions", "v3_ca", "-out", "root.pem", cwd=d)
    run("sh", "-c", "openssl ecparam -name prime256v1 -genkey -noout | "
        "openssl pkcs8 -topk8 -nocrypt -out leaf.key", cwd=d)
    run("openssl", "req", "-new", "-key", "leaf.key", "-subj", "/CN=noai test signer/O=noai tests",
        "-out", "leaf.csr", cwd=d)
    run("openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "root.pem", "-CAkey", "root.key",
        "-CAcreateserial", "-sha256", "-days", "825", "-extfile", "ca.cnf", "-extensions", "v3_leaf",
        "-out", "leaf.pem", cwd=d)


def sign(src, dst, chain, key, entries, label):
    manifest = {
        "claim_generator_info": [{"name": "c2pa_sign.py", "version": "1"}],
        "assertions": [{"label": label, "data": {"entries": entries}}],
    }
    with open(chain, "rb") as c, open(key, "rb") as k:
        info = c2pa.C2paSignerInfo(b"es256", c.read(), k.read(), None)
    signer = c2pa.Signer.from_info(info)
    builder = c2pa.Builder(manifest)
    builder.set_intent(c2pa.C2paBuilderIntent.EDIT)
    mime = MIME[os.path.splitext(src)[1].lower()]
    with open(src, "rb") as s, open(dst, "w+b") as d:
        builder.sign(signer, mime, s, d)


def read(path, anchors):
    ctx = None
    if anchors:
        with open(anchors) as f:
            settings = c2pa.Settings.from_dict(
                {"verify": {"verify_trust": True}, "trust": {"trust_anchors": f.read()}})
        ctx = c2pa.Context(settings)
    try:
        r = c2pa.Reader(path, context=ctx) if ctx else c2pa.Reader(path)
    except Exception as e:  # no manifest, or an unreadable one
        return {"state": None, "error": str(e)}
    j = json.loads(r.json())
    active = j["manifests"][j["active_manifest"]]
    return {
        "state": r.get_validation_state(),
        "codes": [s["code"] for s in j.get("validation_status", [])],
        "assertions": {a["label"]: a.get("data") for a in active.get("assertions", [])},
        "manifests": len(j["manifests"]),
    }


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("certs")
    c.add_argument("dir")
    s = sub.add_parser("sign")
    for a in ("src", "dst", "chain", "key"):
        s.add_argument(a)
    s.add_argument("--entries", default=json.dumps(ALL_NOT_ALLOWED))
    s.add_argument("--label", default="cawg.training-mining")
    r = sub.add_parser("read")
    r.add_argument("file")
    r.add_argument("--anchors")
    a = p.parse_args()
    if a.cmd == "certs":
        certs(a.dir)
    elif a.cmd == "sign":
        sign(a.src, a.dst, a.chain, a.key, json.loads(a.entries), a.label)
    else:
        print(json.dumps(read(a.file, a.anchors)))


if __name__ == "__main__":
    sys.exit(main())
