"""The `_nasty/` tree of scripts/make-library: files and names a tagger meets in real libraries and
must survive. Each entry has an `expect` (see make-library) that scripts/library-check enforces:
broken files are reported and never modified, valid odd ones are tagged, links are not followed."""
import os
import struct
import unicodedata

import library_bytes as lb

EPOCH = 1577836800


def make(ml, root, tdir, tracks, tmpl):
    """Build ROOT/_nasty; return its manifest entries. ml is the make-library module (its template
    and box helpers), tmpl(variant, k=0) the bytes of a template."""
    N = os.path.join(os.fsencode(root), b"_nasty")
    os.makedirs(N)
    out = []

    def rec(rel, expect, note, variant=None):
        p = os.path.join(b"_nasty", os.fsencode(rel))
        out.append(dict(path=p.decode("utf-8", "replace"), path_hex=p.hex(), variant=variant,
                        expect=expect, note=note))

    def put(rel, data, expect, note, variant=None, mode=0o644):
        p = os.path.join(N, os.fsencode(rel))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        ml.write(p, data, EPOCH, mode)
        rec(rel, expect, note, variant)

    mp3, flac = tmpl("mp3-id3v23-apic-pad"), tmpl("flac-pic-pad")
    fast, end, ogg = tmpl("m4a-aac-faststart-pad"), tmpl("m4a-aac-moovend"), tmpl("ogg-vorbis")
    box = lambda b, name: next((p, s) for t, p, s in lb.mp4_boxes(b, 0, len(b)) if t == name)
    id3len = len(mp3) - len(lb.strip_id3v2(mp3))
    flac_meta = flac_audio_offset(flac)

    # broken: report, never modify
    put("empty.mp3", b"", "error", "zero-byte file with an audio extension")
    put("truncated-midheader.mp3", mp3[:id3len // 2], "error", "cut inside the ID3v2 tag")
    put("truncated-midheader.flac", flac[:flac_meta // 2], "error", "cut inside the metadata blocks")
    mp, ms = box(fast, b"moov")
    put("truncated-midheader.m4a", fast[:mp + ms // 2], "error", "faststart M4A cut inside moov")
    dp, ds = box(end, b"mdat")
    put("truncated-nomoov.m4a", end[:dp + ds // 2], "error", "moov-at-end M4A cut inside mdat: no moov")
    put("text-renamed.flac", b"This is not a FLAC file.\n" * 40, "error", "plain text named .flac")
    put("jpeg-renamed.m4a", open(os.path.join(tdir, "c0.jpg"), "rb").read(), "error", "a JPEG named .m4a")
    apple = struct.pack(">II16sHIII", 0x00051607, 0x00020000, b"Mac OS X        ", 1, 9, 50, 32)
    put("._01 Resource Fork.mp3", apple.ljust(4096, b"\0"), "error", "macOS AppleDouble file, not audio")

    # damaged or odd but readable: tag or refuse, never damage
    put("truncated-midstream.mp3", mp3[:id3len + (len(mp3) - id3len) // 2], "either", "MPEG frames cut halfway")
    put("truncated-midstream.flac", flac[:flac_meta + (len(flac) - flac_meta) // 2], "either",
        "metadata intact, audio frames cut halfway")
    put("truncated-midstream.m4a", fast[:box(fast, b"mdat")[0] + box(fast, b"mdat")[1] // 2], "either",
        "faststart M4A, mdat cut halfway")
    put("truncated-midstream.ogg", ogg[:len(ogg) // 2], "either", "Ogg Vorbis cut halfway")
    put("mp3-data.flac", tmpl("mp3-id3v24-nopad"), "either", "MP3 content named .flac")
    put("flac-data.mp3", tmpl("flac-nopad"), "either", "FLAC content named .mp3")
    v24 = tmpl("mp3-id3v24-nopad")
    put("double-id3v2.mp3", mp3[:id3len] + v24, "either", "two ID3v2 tags back to back")
    put("id3-prefixed.flac", v24[:len(v24) - len(lb.strip_id3v2(v24))] + tmpl("flac-nopad"), "either",
        "an ID3v2 tag in front of fLaC")
    other = os.path.join(tdir, "serial.ogg")
    ml.ffmpeg(["-i", os.path.join(tdir, "ogg-vorbis.1.ogg"), "-c", "copy", "-map_metadata", "0",
               "-serial_offset", "7"] + ml.BITEXACT + [other])
    put("chained.ogg", ogg + open(other, "rb").read(), "either", "chained Ogg: two Vorbis streams")

    # valid files under unusual names and paths: must be tagged
    names = [("Ünïcödé – ‘quotes’ “double” … 🎵.mp3", "mp3-id3v24-nopad"), ("   leading spaces.flac", "flac-nopad"),
             ("trailing spaces   .mp3", "mp3-id3v23-v1"), (unicodedata.normalize("NFC", "Café NFC.opus"), "opus"),
             (unicodedata.normalize("NFD", "Café NFD.opus"), "opus"), ("日本語のタイトル.m4a", "m4a-aac-moovend"),
             ("tab\there.mp3", "mp3-id3v24-nopad"), ("new\nline.flac", "flac-nopad"), ("-n.mp3", "mp3-id3v24-nopad"),
             ("--help.flac", "flac-nopad"), ("*glob? [x] {a,b} $HOME; `id` & 'q' back\\slash.mp3", "mp3-id3v23-v1"),
             ("x" * 251 + ".mp3", "mp3-id3v24-nopad"), ("é" * 125 + ".mp3", "mp3-id3v24-nopad"),
             ("UPPER.MP3", "mp3-id3v23-apic-pad"), ("UPPER.FLAC", "flac-pic-pad"), ("Mixed.M4a", "m4a-aac-faststart-pad"),
             ("UPPER.OGG", "ogg-vorbis"), ("UPPER.OPUS", "opus"), ("UPPER.WAV", "wav-id3-info"),
             ("UPPER.AIFF", "aiff-id3"), ("short-ext.aif", "aiff-plain"),
             (os.path.join("folder.mp3", "01 In A Dir Named mp3.flac"), "flac-nopad")]
    for name, variant in names:
        put(name, tmpl(variant), "tag", "unusual but valid name", variant)
    rec("folder.mp3", "skip", "a directory with an audio extension")
    put(b"latin1-\xe9t\xe9-not-utf8.mp3", tmpl("mp3-id3v23-v1"), "tag", "name bytes are not UTF-8", "mp3-id3v23-v1")
    put(os.path.join(*[f"d{i:03d}" for i in range(128)], "deep track.mp3"), v24, "tag", "128 directory levels")
    beyond_path_max(N, tmpl("flac-nopad"), rec)
    md = dict(title="Existing TXXX", artist="Nasty Cases", album="_nasty", REPLAYGAIN_TRACK_GAIN="-6.20 dB",
              MusicBrainz_TrackId="0b5c7f3e-4a1e-4c8a-9d6e-2f1b3c4d5e6f")
    covers = ml.load_covers(tdir)
    for name, variant, m, cover in [("existing-txxx.mp3", "mp3-id3v24-apic-v1", md, None),
                                    ("huge-cover.mp3", "mp3-id3v23-apic-pad", None, "huge"),
                                    ("huge-cover.flac", "flac-pic-pad", None, "huge"),
                                    ("huge-cover.m4a", "m4a-aac-faststart-pad", None, "huge")]:
        c = dict(path=os.path.join(tdir, "huge.jpg"), data=b"", mime="image/jpeg", side=1750) if cover else None
        f = os.path.join(tdir, "nasty-" + name)
        ml.variant_template(tdir, variant, 0, m or dict(title=name, artist="Nasty Cases"), covers, c, f)
        put(name, open(f, "rb").read(), "tag", "unrelated TXXX frames" if m else "5.6 MB cover", variant)
    put("apev2-and-id3v1.mp3", tmpl("mp3-id3v23-v1")[:-128] + apev2() + tmpl("mp3-id3v23-v1")[-128:], "tag",
        "ID3v2.3 + APEv2 + ID3v1 trailers (must stay intact)")
    wav = tmpl("wav-info")
    put("wav-uppercase-ID3-chunk.wav", lb.wav_id3_chunk(wav, v24[:len(v24) - len(lb.strip_id3v2(v24))], b"ID3 "),
        "tag", "WAV whose ID3 chunk id is 'ID3 '")

    # the tool decides: modes, links, hidden, rare extensions
    put("readonly.mp3", mp3, "policy", "mode 0444 (root ignores it)", mode=0o444)
    put(os.path.join("readonly-dir", "inside.flac"), flac, "policy", "directory mode 0555")
    os.chmod(os.path.join(N, b"readonly-dir"), 0o555)
    if tracks:
        tgt = os.fsencode(tracks[0]["rel"])
        ext = os.path.splitext(tgt)[1]
        os.symlink(os.path.join(b"..", tgt), os.path.join(N, b"symlink-to-track" + ext))
        rec(b"symlink-to-track" + ext, "policy", "symlink to a main-tree track")
        os.symlink(os.path.join(b"..", os.path.dirname(tgt)), os.path.join(N, b"symlink-to-album"))
        rec("symlink-to-album", "policy", "directory symlink into the main tree")
    put("link-target.mp3", v24, "tag", "target of symlink-local.mp3")
    os.symlink(b"link-target.mp3", os.path.join(N, b"symlink-local.mp3"))
    rec("symlink-local.mp3", "policy", "symlink to a file beside it")
    os.symlink(b"does-not-exist.flac", os.path.join(N, b"dangling.flac"))
    rec("dangling.flac", "skip", "dangling symlink")
    os.makedirs(os.path.join(N, b"loop"))
    os.symlink(b"..", os.path.join(N, b"loop", b"parent"))
    rec("loop/parent", "policy", "directory symlink to its own parent")
    os.symlink(b"loop-b.mp3", os.path.join(N, b"loop-a.mp3"))
    os.symlink(b"loop-a.mp3", os.path.join(N, b"loop-b.mp3"))
    rec("loop-a.mp3", "skip", "symlink cycle")
    rec("loop-b.mp3", "skip", "symlink cycle")
    put(".hidden.mp3", v24, "policy", "dotfile with valid audio")
    put(os.path.join(".hidden-dir", "01 Hidden.flac"), tmpl("flac-nopad"), "policy", "inside a dot-directory")
    put("audiobook.m4b", fast, "policy", "less common extension", "m4a-aac-faststart-pad")
    put("vorbis.oga", ogg, "policy", "less common extension", "ogg-vorbis")
    for name, data in [("notes.txt", b"liner notes\n"), ("cover.jpg", covers[0]["data"]),
                       ("playlist.m3u8", b"#EXTM3U\nUPPER.MP3\n"), ("album.cue", b'FILE "x.flac" WAVE\n'),
                       ("Thumbs.db", b"\xd0\xcf\x11\xe0" + b"\0" * 508), (".DS_Store", b"\0\0\0\1Bud1" + b"\0" * 100)]:
        put(name, data, "skip", "non-audio file")
    return out


def flac_audio_offset(b):
    pos = 4
    while True:
        last, size = b[pos] & 0x80, int.from_bytes(b[pos + 1:pos + 4], "big")
        pos += 4 + size
        if last:
            return pos


def apev2():
    items = b"".join(struct.pack("<II", len(v), 0) + k + b"\0" + v
                     for k, v in ((b"Title", b"APE title"), (b"Artist", b"Nasty Cases")))
    head = lambda flags: b"APETAGEX" + struct.pack("<IIII", 2000, len(items) + 32, 2, flags) + b"\0" * 8
    return head(0xA0000000) + items + head(0x80000000)


def beyond_path_max(N, data, rec):
    """A file whose full path is longer than PATH_MAX (4096): only openat()-style access reaches it."""
    fd = os.open(N, os.O_RDONLY | os.O_DIRECTORY)
    parts = [b"too-long-path"]
    os.mkdir(parts[0], dir_fd=fd)
    try:
        fd2 = os.open(parts[0], os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = fd2
        for i in range(18):
            name = f"{i:02d}-".encode() + b"y" * 236
            os.mkdir(name, dir_fd=fd)
            fd2 = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd, parts = fd2, parts + [name]
        f = os.open(b"beyond PATH_MAX.flac", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        with os.fdopen(f, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.utime(fh.fileno(), (EPOCH, EPOCH))
    finally:
        os.close(fd)
    rec(os.path.join(*parts, b"beyond PATH_MAX.flac"), "tag", "full path longer than PATH_MAX")
