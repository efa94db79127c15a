"""mutagen on the APEv2 family, for tests/common/apev2.rs.

dump PATH              -> JSON {"ape": {key: [kind, hex]}, "id3": {frame: text}}
add PATH               -> adds Artist (Unicode), a multi-value Genre and a binary cover item
id3[-nopad] PATH       -> adds an ID3v2 tag (TIT2, TXXX:OTHER) at the head (TrueAudio); -nopad: no padding
"""
import json, sys
import mutagen.apev2 as apev2
from mutagen.id3 import ID3, TIT2, TXXX, ID3NoHeaderError

cmd, path = sys.argv[1], sys.argv[2]
if cmd == "dump":
    out = {"ape": {}, "id3": {}}
    try:
        tag = apev2.APEv2(path)
        for k, v in tag.items():
            kind = {0: "text", 1: "binary", 2: "external"}[v.kind]
            out["ape"][k] = [kind, bytes(v.value).hex() if kind == "binary" else str(v)]
    except apev2.APENoHeaderError:
        pass
    try:
        for f in ID3(path).values():
            out["id3"][f.HashKey] = str(f)
    except ID3NoHeaderError:
        pass
    print(json.dumps(out, sort_keys=True))
elif cmd == "add":
    try:
        tag = apev2.APEv2(path)
    except apev2.APENoHeaderError:
        tag = apev2.APEv2()
    tag["Artist"] = "Ärtist ✓"
    tag["Genre"] = "Rock\0Pop"
    tag["Cover Art (Front)"] = apev2.APEValue(b"cover.png\0\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, apev2.BINARY)
    tag.save(path)
elif cmd in ("id3", "id3-nopad"):
    t = ID3()
    t.add(TIT2(encoding=3, text="Head title"))
    t.add(TXXX(encoding=3, desc="OTHER", text="kept"))
    pad = (lambda info: 0) if cmd == "id3-nopad" else None
    t.save(path, v2_version=3, padding=pad)
else:
    raise SystemExit("unknown command " + cmd)
