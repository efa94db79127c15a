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


_CRC_TABLE = []
for _i in range(256):
    _r = _i << 24
    for _ in range(8):
        _r = ((_r << 1) ^ 0x04C11DB7 if _r & 0x80000000 else _r << 1) & 0xFFFFFFFF
    _CRC_TABLE.append(_r)


def ogg_crc_fast(data):
    """`ogg_crc` by table: the Ogg FLAC patch below checksums every audio page again."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC_TABLE[(crc >> 24) ^ byte]
    return crc


def _ogg_page(flags, granule, serial, seq, lacing, body):
    head = (b"OggS\0" + bytes([flags]) + struct.pack("<QII", granule, serial, seq) + b"\0\0\0\0"
            + bytes([len(lacing)]) + bytes(lacing))
    return head[:22] + struct.pack("<I", ogg_crc_fast(head + body)) + head[26:] + body


def oggflac_pad(b, pad):
    """Ogg FLAC as `flac --ogg` lays it out: a PADDING block of `pad` bytes after ffmpeg's lone
    comment block, every header packet on pages of its own, the header count one more, the
    last-block flag moved to the padding; the audio pages renumbered (bodies, granules kept)."""
    pages, at = [], 0
    while at < len(b):
        n = b[at + 26]
        lacing = b[at + 27:at + 27 + n]
        body_at = at + 27 + n
        pages.append((b[at + 5], struct.unpack("<QII", b[at + 6:at + 22]), lacing,
                      b[body_at:body_at + sum(lacing)]))
        at = body_at + sum(lacing)
    packets, cur, first_audio = [], b"", None
    for i, (_f, _h, lacing, body) in enumerate(pages):
        pos = 0
        for l in lacing:
            cur += body[pos:pos + l]
            pos += l
            if l < 255:
                packets.append(cur)
                cur = b""
        if len(packets) >= 2 and packets[-1][0] & 0x80 and not cur:
            first_audio = i + 1
            break
    ident, blocks = bytearray(packets[0]), [bytearray(p) for p in packets[1:]]
    count = int.from_bytes(ident[7:9], "big")
    if count:
        ident[7:9] = (count + 1).to_bytes(2, "big")
    blocks[-1][0] &= 0x7F
    blocks.append(bytes([0x81]) + pad.to_bytes(3, "big") + bytes(pad))
    serial = pages[0][1][1]
    out, seq = [_ogg_page(2, 0, serial, 0, [len(ident)], bytes(ident))], 1
    for p in blocks:
        segs = [255] * (len(p) // 255) + [len(p) % 255]
        for k in range(0, len(segs), 255):
            lacing, start = segs[k:k + 255], sum(segs[:k])
            ends = k + 255 >= len(segs)
            out.append(_ogg_page(1 if k else 0, 0 if ends else 2**64 - 1, serial, seq, lacing,
                                 bytes(p[start:start + sum(lacing)])))
            seq += 1
    for flags, (granule, _s, _q), lacing, body in pages[first_audio:]:
        out.append(_ogg_page(flags, granule, serial, seq, lacing, body))
        seq += 1
    return b"".join(out)
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
