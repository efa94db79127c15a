"""C2PA test driver over the reference SDK's Python package (c2pa-python), independent of noai.

    c2pa_sign.py sign IN OUT CHAIN KEY [--entries JSON] [--label LABEL] [--generator NAME]
                                           signs IN into OUT (Edit intent) with a training-mining
                                           assertion (default: every cawg key notAllowed)
    c2pa_sign.py read FILE [--anchors ROOT.pem]
                                           prints {"state", "codes", "assertions", "manifests",
                                           "entries", "ingredients", "first_action", "generator"}

Used by tests/c2pa.rs, tests/sign.rs and tests/it/remote: noai must read what the reference
writer signs, and the reference reader judges what noai signs or breaks (certificates: made by
tests/common/c2pa.rs with the openssl CLI).
"""

import argparse
import json
import os
import sys

import c2pa

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


def sign(src, dst, chain, key, entries, label, generator):
    manifest = {
        "claim_generator_info": [{"name": generator, "version": "1"}],
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
    assertions = {a["label"]: a.get("data") for a in active.get("assertions", [])}
    actions = [a["data"] for a in active.get("assertions", []) if a["label"].startswith("c2pa.actions")]
    return {
        "state": r.get_validation_state(),
        "codes": [s["code"] for s in j.get("validation_status", [])],
        "assertions": assertions,
        "manifests": len(j["manifests"]),
        "entries": (assertions.get("cawg.training-mining") or {}).get("entries"),
        "ingredients": len(active.get("ingredients", [])),
        "first_action": actions[0]["actions"][0]["action"] if actions else None,
        "generator": active.get("claim_generator_info", [{}])[0].get("name"),
    }


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sign")
    for a in ("src", "dst", "chain", "key"):
        s.add_argument(a)
    s.add_argument("--entries", default=json.dumps(ALL_NOT_ALLOWED))
    s.add_argument("--label", default="cawg.training-mining")
    s.add_argument("--generator", default="c2pa_sign.py")
    r = sub.add_parser("read")
    r.add_argument("file")
    r.add_argument("--anchors")
    a = p.parse_args()
    if a.cmd == "sign":
        sign(a.src, a.dst, a.chain, a.key, json.loads(a.entries), a.label, a.generator)
    else:
        print(json.dumps(read(a.file, a.anchors)))


if __name__ == "__main__":
    sys.exit(main())
