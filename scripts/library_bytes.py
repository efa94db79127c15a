"""Byte-level patches scripts/make-library applies to ffmpeg's output, for the layouts ffmpeg
cannot write: an ID3v2 chunk in WAV, a `free` box and a freeform atom inside an MP4 `ilst`/`meta`
(with the chunk offsets shifted), zero padding after the OpusTags comments, ID3v1 without ID3v2."""
import struct


def strip_id3v2(b):
    """What follows a leading ID3v2 tag."""
    if b[:3] != b"ID3":
        return b
    size = 10 + ((b[6] & 127) << 21 | (b[7] & 127) << 14 | (b[8] & 127) << 7 | b[9] & 127)
    return b[size:]


def wav_id3_chunk(b, tag, cid=b"id3 "):
    """Append an ID3v2 chunk after the RIFF chunks and fix the RIFF size."""
    chunk = cid + struct.pack("<I", len(tag)) + tag + (b"\0" if len(tag) % 2 else b"")
    b = b + chunk
    return b[:4] + struct.pack("<I", len(b) - 8) + b[8:]


def ogg_crc(data):
    """The Ogg page checksum: CRC-32, polynomial 0x04C11DB7, not reflected, initial value 0."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = (crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1
        crc &= 0xFFFFFFFF
    return crc


def opus_pad(b, pad):
    """Zero padding after the OpusTags comments, as opusenc leaves (room for an in-place edit).
    ffmpeg puts OpusTags alone on the second page, so only that page is rebuilt."""
    first = 27 + b[26] + sum(b[27:27 + b[26]])
    n = b[first + 26]
    head, body = b[first:first + 27], b[first + 27 + n:first + 27 + n + sum(b[first + 27:first + 27 + n])]
    if body[:8] != b"OpusTags" or len(body) + pad >= 255 * 255:
        raise ValueError("unexpected Opus header layout")
    body += b"\0" * pad
    lacing = bytes([255] * (len(body) // 255) + [len(body) % 255])
    page = bytearray(head[:22] + b"\0\0\0\0" + bytes([len(lacing)]) + lacing + body)
    struct.pack_into("<I", page, 22, ogg_crc(page))
    return b[:first] + bytes(page) + b[first + 27 + n + sum(b[first + 27:first + 27 + n]):]


def mp4_boxes(b, start, end):
    pos = start
    while pos + 8 <= end:
        size, typ = struct.unpack(">I4s", b[pos:pos + 8])
        if size < 8:
            raise ValueError("unexpected MP4 box size")
        yield typ, pos, size
        pos += size


def mp4_patch(b, freeform, free):
    """Add an iTunNORM freeform atom into ilst and `free` bytes after it (room noai may fill in
    place): grow ilst/meta/udta/moov and, when moov comes before mdat, shift stco/co64 offsets."""
    b = bytearray(b)
    top = {t: (p, s) for t, p, s in mp4_boxes(b, 0, len(b))}
    mp, ms = top[b"moov"]
    chain, cur = [mp], (mp, ms)
    for name, skip in ((b"udta", 8), (b"meta", 8), (b"ilst", 12)):
        cur = next((p, s) for t, p, s in mp4_boxes(b, cur[0] + skip, cur[0] + cur[1]) if t == name)
        chain.append(cur[0])
    ilst_end = cur[0] + cur[1]
    atom = lambda typ, payload: struct.pack(">I", 8 + len(payload)) + typ + payload
    add_ilst = b""
    if freeform:
        add_ilst = atom(b"----", atom(b"mean", b"\0" * 4 + b"com.apple.iTunes") + atom(b"name", b"\0" * 4 + b"iTunNORM")
                        + atom(b"data", struct.pack(">II", 1, 0) + b" 00000A2B 00000B1C 00004E5F 00005A6B"))
    add_meta = atom(b"free", b"\0" * (free - 8)) if free else b""
    grow = len(add_ilst) + len(add_meta)
    b[ilst_end:ilst_end] = add_ilst + add_meta
    for i, pos in enumerate(chain):
        struct.pack_into(">I", b, pos, struct.unpack(">I", b[pos:pos + 4])[0] + grow - (len(add_meta) if i == 3 else 0))
    if mp < top[b"mdat"][0]:
        shift_chunk_offsets(b, mp, ms + grow, grow)
    return bytes(b)


def shift_chunk_offsets(b, start, size, delta):
    for typ, pos, sz in mp4_boxes(b, start + 8, start + size):
        if typ in (b"trak", b"mdia", b"minf", b"stbl"):
            shift_chunk_offsets(b, pos, sz, delta)
        elif typ in (b"stco", b"co64"):
            n, w = struct.unpack(">I", b[pos + 12:pos + 16])[0], 4 if typ == b"stco" else 8
            for i in range(n):
                at = pos + 16 + i * w
                v = int.from_bytes(b[at:at + w], "big")
                b[at:at + w] = (v + delta).to_bytes(w, "big")


class RF64:
    """What mutagen.File gives for an RF64/BW64 WAV, which mutagen does not read: the ID3v2 tag of
    its `id3 ` chunk (sizes through the ds64 chunk) as mutagen.id3.ID3, or tags None."""

    def __init__(self, b):
        import io
        import mutagen.id3
        end, data = 8 + struct.unpack_from("<Q", b, 20)[0], struct.unpack_from("<Q", b, 28)[0]
        self.tags, at = None, 12
        while at + 8 <= min(end, len(b)):
            cid, n = b[at:at + 4], struct.unpack_from("<I", b, at + 4)[0]
            n = data if n == 0xFFFFFFFF and cid == b"data" else n
            if cid in (b"id3 ", b"ID3 "):
                self.tags = mutagen.id3.ID3(io.BytesIO(b[at + 8:at + 8 + n]))
            at += 8 + n + (n & 1)


def rf64_file(path):
    """An RF64 for an RF64/BW64 file (see RF64), else None."""
    with open(path, "rb") as f:
        head = f.read(16)
        if head[:4] not in (b"RF64", b"BW64") or head[8:16] != b"WAVEds64":
            return None
        f.seek(0)
        return RF64(f.read())
