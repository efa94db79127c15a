# Used by tests/it/interop/reader_matrix.rs (via tests/common/matrix.rs).
#   taglib PATH   -> JSON list of "KEY=value": TagLib's property map (`File(path).tags`); run with
#                    /usr/bin/python3, where Debian's python3-taglib imports
#   mutagen PATH  -> JSON list of "key=value": what mutagen.File shows (ID3 frames by frame id,
#                    COMM without its description, dates as "date"; MP4 atoms; Vorbis comments)
#   ape PATH K=V… -> adds an APEv2 tag (mutagen.apev2, placed before an ID3v1 tag)
#   id3 PATH KIND K=V… -> adds (or replaces) ID3v2 text frames (TIT2=…) or TXXX (TXXX:desc=…) with mutagen:
#                    KIND wav (an `id3 ` chunk) or mp3
#   freeform PATH MEAN NAME VALUE -> adds an MP4 freeform atom ----:MEAN:NAME
import json, sys


def taglib_fields(path):
    import taglib
    f = taglib.File(path)
    out = [f"{k}={v}" for k, vs in f.tags.items() for v in vs]
    f.close()
    return out


def id3_fields(tags):
    out = []
    for frame in tags.values():
        fid = frame.FrameID
        if fid == "TXXX":
            out += [f"TXXX:{frame.desc}={t}" for t in frame.text]
        elif fid == "COMM":
            out += [f"COMM={t}" for t in frame.text]
        elif fid == "PRIV":
            out.append(f"PRIV:{frame.owner}={frame.data.decode('latin-1')}")
        elif fid in ("TDRC", "TYER"):
            out += [f"date={t}" for t in frame.text]
        elif fid == "TCON":
            out.append("TCON=" + " / ".join(frame.genres))
        elif fid.startswith("T"):
            out.append(fid + "=" + "/".join(str(t) for t in frame.text))
        else:
            out.append(frame.HashKey + "=" + frame.pprint())
    return out


def mutagen_fields(path):
    import mutagen
    from mutagen.id3 import ID3
    f = mutagen.File(path)
    tags = f.tags if f is not None else None
    if tags is None:
        return []
    if isinstance(tags, ID3):
        return id3_fields(tags)
    out = []
    for k, vs in tags.items():
        for v in vs if isinstance(vs, list) else [vs]:
            v = bytes(v).decode("utf-8", "replace") if isinstance(v, (bytes, bytearray)) else str(v)
            out.append(f"{k}={v}")
    return out


def pairs(args):
    return [a.split("=", 1) for a in args]


def main():
    cmd, path, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == "taglib":
        print(json.dumps(taglib_fields(path)))
    elif cmd == "mutagen":
        print(json.dumps(mutagen_fields(path)))
    elif cmd == "ape":
        from mutagen.apev2 import APEv2
        t = APEv2()
        for k, v in pairs(rest):
            t[k] = v
        t.save(path)
    elif cmd == "id3":
        from mutagen import id3
        kind, rest = rest[0], rest[1:]
        if kind == "wav":
            from mutagen.wave import WAVE
            f = WAVE(path)
            f.add_tags()
            tags = f.tags
        else:
            try:
                tags = id3.ID3(path)
            except id3.ID3NoHeaderError:
                tags = id3.ID3()
        for k, v in pairs(rest):
            if k.startswith("TXXX:"):
                tags.add(id3.TXXX(encoding=3, desc=k[5:], text=[v]))
            else:
                tags.add(getattr(id3, k)(encoding=3, text=[v]))
        if kind == "wav":
            f.save(v2_version=3)
        else:
            tags.save(path, v2_version=3)
    elif cmd == "freeform":
        from mutagen.mp4 import MP4, MP4FreeForm
        mean, name, value = rest
        f = MP4(path)
        f.tags[f"----:{mean}:{name}"] = [MP4FreeForm(value.encode())]
        f.save()
    else:
        sys.exit(f"unknown command {cmd}")


main()
