"""Builds hand-made ID3v2 tags the way real taggers wrote them, around a real MP3.

Usage: id3_quirks.py CASE AUDIO OUT. Writes OUT = tag(s) + AUDIO (+ trailers) for CASE (for
`wav-id3-chunk-itunes`, AUDIO is a WAV and the tag goes into an `id3 ` chunk); the list of
cases is CASES below. Every tag is built byte by byte here, not with a tag library, so
the quirks (plain v2.4 sizes, footers, unsynchronisation, ...) are exactly what we ask for.
"""
import struct
import sys
import zlib


def syncsafe(n):
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def unsync(data):
    out = bytearray()
    for i, b in enumerate(data):
        out.append(b)
        nxt = data[i + 1] if i + 1 < len(data) else None
        if b == 0xFF and (nxt is None or nxt == 0 or nxt & 0xE0 == 0xE0):
            out.append(0)
    return bytes(out)


def frame(version, fid, body, flags=0, plain=False):
    if version == 3 or plain:
        size = struct.pack(">I", len(body))
    else:
        size = syncsafe(len(body))
    return fid + size + struct.pack(">H", flags) + body


def tag(version, frames, padding=0, flags=0, ext=b"", footer=False):
    body = ext + frames + b"\0" * padding
    head = b"ID3" + bytes([version, 0, flags | (0x10 if footer else 0)]) + syncsafe(len(body))
    return head + body + (b"3DI" + head[3:] if footer else b"")


def tit2(version, title="Quirky title"):
    return frame(version, b"TIT2", b"\x03" + title.encode() if version == 4 else b"\0" + title.encode())


def comm_utf16be(text_len=120):
    # UTF-16BE (encoding 2, v2.4 only): every ASCII character brings a zero byte.
    text = ("Comment " * 40)[:text_len].encode("utf-16-be")
    return b"\x02eng" + b"\0\0" + text


def apic(size=300, version=4):
    # Not a real image; the payload has 0xFF 0xE0 pairs so unsynchronisation has work to do.
    data = bytes((i * 37) & 0xFF for i in range(size)) + b"\xff\xe0\xff\x00\xff"
    enc = b"\0"
    return enc + b"image/jpeg\0" + b"\x03" + b"Cover\0" + data


def case_itunes_plain_sizes():
    f = tit2(4) + frame(4, b"COMM", comm_utf16be(), plain=True)
    f += frame(4, b"APIC", apic(), plain=True)
    return tag(4, f, padding=1024)


def case_v24_footer():
    return tag(4, tit2(4) + frame(4, b"APIC", apic()), footer=True)


def case_v23_unsync():
    f = tit2(3) + frame(3, b"APIC", apic())
    return None, (b"ID3\x03\x00\x80", unsync(f + b"\0" * 256))


def case_v24_frame_unsync_dli():
    body = apic()
    # The data length indicator gives the length with the unsynchronisation undone.
    data = syncsafe(len(body)) + unsync(body)
    return tag(4, tit2(4) + frame(4, b"APIC", data, flags=0x0003), padding=256)


def case_v24_dli():
    body = apic()
    return tag(4, tit2(4) + frame(4, b"APIC", syncsafe(len(body)) + body, flags=0x0001), padding=256)


def case_v24_compressed():
    body = apic(2000)
    data = syncsafe(len(body)) + zlib.compress(body)
    return tag(4, tit2(4) + frame(4, b"APIC", data, flags=0x0009), padding=256)


def case_v23_compressed():
    body = apic(2000)
    data = struct.pack(">I", len(body)) + zlib.compress(body)
    return tag(3, tit2(3) + frame(3, b"APIC", data, flags=0x0080), padding=256)


def case_v24_grouped_frame():
    # Grouping identity (flag 0x0040): one group byte before the body. The id3 crate refuses
    # such frames, so only our byte accounting and mutagen vouch for this one.
    return tag(4, tit2(4) + frame(4, b"APIC", b"\x07" + apic(), flags=0x0040), padding=2048)


def case_v23_ext_header_crc():
    frames = tit2(3) + frame(3, b"APIC", apic())
    pad = 256
    ext = struct.pack(">IHI", 10, 0x8000, pad) + struct.pack(">I", zlib.crc32(frames))
    return tag(3, frames, padding=pad, flags=0x40, ext=ext)


def case_v24_ext_header():
    frames = tit2(4) + frame(4, b"APIC", apic())
    crc = zlib.crc32(frames)
    crc5 = bytes([(crc >> 28) & 0x0F, (crc >> 21) & 0x7F, (crc >> 14) & 0x7F, (crc >> 7) & 0x7F, crc & 0x7F])
    # Flags: CRC (0x20) and restrictions (0x10); each flag's data follows with its length.
    rest = b"\x01\x30" + b"\x05" + crc5 + b"\x01" + b"\x00"
    ext = syncsafe(4 + len(rest)) + rest
    return tag(4, frames, padding=256, flags=0x40, ext=ext)


def case_stacked():
    return tag(3, tit2(3, "First"), padding=64) + tag(4, tit2(4, "Second") + frame(4, b"APIC", apic()), padding=64)


def case_junk_padding():
    return tag(3, tit2(3) + b"\0" * 40 + b"leftover frame bytes" + b"\0" * 40)


def case_tag_only():
    return tag(3, tit2(3) + frame(3, b"APIC", apic()), padding=128)


TRAILER_CASES = {"id3v2-ape-id3v1", "appended-tag"}


def ape_tag():
    items = struct.pack("<II", 5, 0) + b"Title\0" + b"Ape 1"
    footer = lambda flags: b"APETAGEX" + struct.pack("<IIII", 2000, 32 + len(items), 1, flags) + b"\0" * 8
    return footer(0xA0000000) + items + footer(0x80000000)


def id3v1():
    return b"TAG" + b"V1 title".ljust(30, b"\0") + b"\0" * 60 + b"\0" * 4 + b"\0" * 28 + b"\0\x01\xff"


def wav_with_id3_chunk(wav, tag_bytes):
    # A RIFF/WAVE file with the tag appended as an `id3 ` chunk (padded to even), size fixed.
    chunk = b"id3 " + struct.pack("<I", len(tag_bytes)) + tag_bytes + b"\0" * (len(tag_bytes) & 1)
    body = wav[12:] + chunk
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def build(case, audio):
    if case == "wav-id3-chunk-itunes":
        return wav_with_id3_chunk(audio, case_itunes_plain_sizes())
    if case == "wav-id3-chunk-trailing-junk":
        # Bytes after the tag inside its chunk: a rebuilt tag would overwrite them.
        return wav_with_id3_chunk(audio, tag(3, tit2(3), padding=16) + b"trailing bytes")
    if case == "id3v2-ape-id3v1":
        return tag(3, tit2(3) + frame(3, b"APIC", apic()), padding=128) + audio + ape_tag() + id3v1()
    if case == "appended-tag":
        return audio + tag(4, tit2(4, "Appended"), footer=True)
    if case == "tag-only":
        return case_tag_only()
    made = CASES[case]()
    if isinstance(made, tuple):
        head, body = made[1]
        made = head + syncsafe(len(body)) + body
    return made + audio


CASES = {
    "itunes-plain-sizes": case_itunes_plain_sizes,
    "v24-footer": case_v24_footer,
    "v23-unsync": case_v23_unsync,
    "v24-frame-unsync-dli": case_v24_frame_unsync_dli,
    "v24-dli": case_v24_dli,
    "v24-compressed": case_v24_compressed,
    "v23-compressed": case_v23_compressed,
    "v24-grouped-frame": case_v24_grouped_frame,
    "v23-ext-header-crc": case_v23_ext_header_crc,
    "v24-ext-header": case_v24_ext_header,
    "stacked": case_stacked,
    "junk-padding": case_junk_padding,
    "tag-only": case_tag_only,
    "id3v2-ape-id3v1": None,
    "appended-tag": None,
    "wav-id3-chunk-itunes": None,
    "wav-id3-chunk-trailing-junk": None,
}

if __name__ == "__main__":
    name, audio_path, out_path = sys.argv[1:4]
    if name not in CASES:
        raise SystemExit("unknown case " + name)
    with open(audio_path, "rb") as f:
        audio = f.read()
    with open(out_path, "wb") as f:
        f.write(build(name, audio))
