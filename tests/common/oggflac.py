# Everything mutagen sees in an Ogg FLAC file, as JSON, through mutagen's own Ogg page reader
# (mutagen.ogg.OggPage) and its Ogg FLAC tag reader: the Vorbis comments (ours apart), the
# vendor string, every other metadata block as (type, sha256 of its bytes), the mapping header
# (magic and version) and STREAMINFO, the header count and the number of header packets, which
# block carries the last-block flag, and the header pages' layout.
import sys, json, hashlib
from mutagen.ogg import OggPage
from mutagen.oggflac import OggFLAC

OURS = {"TDM-RESERVATION", "DATAMINING", "TDM-POLICY", "OTHERCONSTRAINTS"}
path = sys.argv[1]
f = OggFLAC(path)
pairs = list(list.__iter__(f.tags)) if f.tags is not None else []
out = {
    "ours": [[k, v] for k, v in pairs if k.upper() in OURS],
    "comments": [[k, v] for k, v in pairs if k.upper() not in OURS],
    "vendor": f.tags.vendor if f.tags is not None else None,
    "seconds": round(f.info.length, 3),
}
pages, packets = [], []
with open(path, "rb") as fh:
    # Header pages only: up to the page on which the block flagged last ends.
    while len(packets) < 2 or not packets[-1][0] & 0x80:
        if len(pages) > 4096:
            raise SystemExit("no metadata block is flagged last")
        pages.append(OggPage(fh))
        packets = OggPage.to_packets(pages) if pages[-1].complete else packets
ident = packets[0]
out["mapping"] = ident[:7].hex()
out["header_count"] = int.from_bytes(ident[7:9], "big")
out["header_packets"] = len(packets) - 1
out["streaminfo"] = ident[13:].hex()
# Bodies: the last-block flag moves to a PADDING block an edit adds after the comment block.
out["blocks"] = [[p[0] & 0x7F, hashlib.sha256(p[1:]).hexdigest()]
                 for p in packets[1:] if p[0] & 0x7F not in (1, 4)]
out["block_types"] = [p[0] & 0x7F for p in packets[1:]]
out["last_flags"] = [i for i, p in enumerate(packets[1:]) if p[0] & 0x80]
out["header_pages"] = len(pages)
out["packets_per_page"] = [len(pg.packets) for pg in pages]
print(json.dumps(out))
