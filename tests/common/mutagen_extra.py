# Used by tests/it/interop/independent_readers.rs (via tests/common/readers.rs).
#   xmp PATH KIND            -> JSON {"packets": n, "fields": {KEY: value}}: the ID3 PRIV frames with
#                               owner "XMP" (the only XMP carrier mutagen exposes), parsed by namespace
#   write PATH KIND K=V ...  -> writes the pairs as given (any key case) the way a mutagen user would:
#                               ID3 TXXX, Vorbis comment, MP4 freeform ----:com.apple.iTunes:K
import sys, json
import xml.etree.ElementTree as ET
from mutagen.id3 import ID3, TXXX, ID3NoHeaderError
from mutagen.mp3 import MP3
from mutagen.wave import WAVE
from mutagen.aiff import AIFF
from mutagen.flac import FLAC
from mutagen.oggopus import OggOpus
from mutagen.mp4 import MP4, MP4FreeForm

PLUS = "{http://ns.useplus.org/ldf/xmp/1.0/}"
TDMS = ["{http://www.w3.org/ns/tdmrep/}", "{http://www.w3.org/ns/tdmrep#}"]
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"

def xmp_fields(data):
    root = ET.fromstring(data.decode("utf-8").split("?>", 1)[1].rsplit("<?xpacket", 1)[0])
    names = {PLUS + "DataMining": "DATAMINING", PLUS + "OtherConstraints": "OTHERCONSTRAINTS"}
    for t in TDMS:
        names[t + "reservation"] = "TDM-RESERVATION"
        names[t + "policy"] = "TDM-POLICY"
    out = {}
    for desc in root.iter(RDF + "Description"):
        for attr, v in desc.attrib.items():
            if attr in names:
                out[names[attr]] = v
        for el in desc:
            if el.tag in names:
                li = el.find(".//" + RDF + "li")
                out[names[el.tag]] = (li.text if li is not None else el.text or "").strip()
    return out

mode, path, kind = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "xmp":
    cls = {"mp3": MP3, "wav": WAVE, "aiff": AIFF}.get(kind)
    tags = cls(path).tags if cls else None
    privs = [f for f in tags.getall("PRIV") if f.owner == "XMP"] if tags is not None else []
    fields = {}
    for f in privs:
        fields.update(xmp_fields(f.data))
    print(json.dumps({"packets": len(privs), "fields": fields}))
elif mode == "write":
    pairs = [a.split("=", 1) for a in sys.argv[4:]]
    if kind == "mp3":
        try:
            t = ID3(path)
        except ID3NoHeaderError:
            t = ID3()
        for k, v in pairs:
            t.add(TXXX(encoding=0, desc=k, text=[v]))
        t.save(path, v2_version=4 if t.version[1] == 4 else 3)
    elif kind in ("flac", "opus"):
        f = (FLAC if kind == "flac" else OggOpus)(path)
        for k, v in pairs:
            f.tags[k] = [v]
        f.save()
    elif kind == "mp4":
        f = MP4(path)
        for k, v in pairs:
            f.tags["----:com.apple.iTunes:" + k] = [MP4FreeForm(v.encode())]
        f.save()
    else:
        raise SystemExit("cannot write " + kind)
else:
    raise SystemExit("unknown mode " + mode)
