import sys, json, hashlib
import mutagen
from mutagen.id3 import ID3
from mutagen.flac import FLAC
from mutagen.mp4 import MP4, MP4FreeForm, MP4Cover
from mutagen.wave import WAVE
from mutagen.aiff import AIFF
from mutagen.mp3 import MP3
from mutagen.oggvorbis import OggVorbis
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggflac import OggFLAC

path, kind = sys.argv[1], sys.argv[2]
OURS = {"TDM-RESERVATION", "DATAMINING", "TDM-POLICY", "OTHERCONSTRAINTS"}

def val(v):
    if isinstance(v, bytes):
        return "sha256:%s:%d" % (hashlib.sha256(v).hexdigest(), len(v))
    if isinstance(v, (list, tuple)):
        return [val(x) for x in v]
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return int(v)
    return repr(v)

def id3(tags, out):
    if tags is None:
        out["id3"] = None
        return
    frames, ours = {}, []
    for key, fr in sorted(tags.items()):
        if fr.FrameID == "TXXX" and fr.desc.upper() in OURS:
            ours.append([fr.desc, fr.text[0] if len(fr.text) == 1 else fr.text, int(fr.encoding)])
            continue
        if fr.FrameID == "PRIV" and fr.owner == "XMP":
            continue
        d = {"id": fr.FrameID}
        for spec in fr._framespec + fr._optionalspec:
            if hasattr(fr, spec.name):
                d[spec.name] = val(getattr(fr, spec.name))
        frames[key] = d
    out["id3"] = {"version": list(tags.version), "frames": frames}
    out["ours"] = ours

def vc(tags, out):
    pairs = list(list.__iter__(tags)) if tags is not None else []
    out["ours"] = [[k, v, None] for k, v in pairs if k.upper() in OURS]
    out["comments"] = [[k, val(v.encode())] if k.upper() == "METADATA_BLOCK_PICTURE" else [k, v]
                       for k, v in pairs if k.upper() not in OURS]
    out["vendor"] = tags.vendor if tags is not None else None

def head_id3(path):
    """What `id3` makes of an ID3v2 tag at the head of a file that is not ID3-based (a FLAC
    prefix, a TTA/WavPack head tag): {"id3": …, "ours": […]}."""
    try:
        head = ID3(path)
    except Exception:
        head = None
    sub = {}
    id3(head, sub)
    return sub

out = {"kind": kind, "ours": []}
if kind == "mp3":
    id3(MP3(path).tags, out)
elif kind == "wav":
    id3(WAVE(path).tags, out)
elif kind == "aiff":
    id3(AIFF(path).tags, out)
elif kind == "dsd":   # DSF (ID3v2 at the end) and DSDIFF (an ID3 chunk)
    id3(mutagen.File(path).tags, out)
elif kind == "flac":
    f = FLAC(path)
    vc(f.tags, out)
    out["pictures"] = [[p.type, p.mime, p.desc, p.width, p.height, val(p.data)] for p in f.pictures]
    out["id3_prefix"] = head_id3(path)["id3"]
elif kind in ("ogg", "opus", "spx", "oga"):
    cls = {"ogg": OggVorbis, "opus": OggOpus, "spx": OggSpeex, "oga": OggFLAC}[kind]
    f = cls(path)
    vc(f.tags, out)
elif kind == "mp4":
    f = MP4(path)
    items, ours = {}, []
    for k, vs in sorted((f.tags or {}).items()):
        if k.startswith("----:com.apple.iTunes:") and k.split(":", 2)[2].upper() in OURS:
            for v in vs:
                ours.append([k.split(":", 2)[2], bytes(v).decode("utf-8", "replace"), int(v.dataformat)])
            continue
        conv = []
        for v in vs:
            if isinstance(v, MP4Cover):
                conv.append(["cover", int(v.imageformat), val(bytes(v))])
            elif isinstance(v, MP4FreeForm):
                conv.append(["freeform", int(v.dataformat), val(bytes(v))])
            else:
                conv.append(val(v))
        items[k] = conv
    out["ours"] = ours
    out["items"] = items
    out["chapters"] = [[c.start, c.title] for c in (f.chapters or [])] if hasattr(f, "chapters") else None
elif kind == "ape":
    # WavPack, Monkey's Audio, Musepack, TTA: the APEv2 tag at the end (keys case-insensitive),
    # and an ID3v2 tag at the head (TTA's taggers may write one instead).
    import mutagen.apev2
    try:
        tags = mutagen.apev2.APEv2(path)
    except mutagen.apev2.APENoHeaderError:
        tags = None
    items, ours = {}, []
    for k, v in sorted((tags or {}).items()):
        if v.kind == mutagen.apev2.TEXT and k.upper() in OURS:
            ours.append([k, str(v), None])
            continue
        items[k] = [int(v.kind), val(bytes(v.value)) if v.kind == mutagen.apev2.BINARY else str(v)]
    out["items"] = items if tags is not None else None
    sub = head_id3(path)
    out["id3"] = sub["id3"]
    out["ours"] = ours + sub.get("ours", [])
elif kind == "asf":
    from mutagen.asf import ASF
    attrs, ours = [], []
    for k, a in ASF(path).tags:
        if k.upper() in OURS:
            ours.append([k, val(a.value), a.TYPE])
        else:
            attrs.append([k, a.TYPE, val(a.value), a.language, a.stream])
    out["ours"] = ours
    out["attrs"] = attrs
else:
    raise SystemExit("unknown kind " + kind)
print(json.dumps(out, sort_keys=True))
