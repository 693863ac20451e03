"""Removing metadata from photos before they are stored: a phone writes the GPS position, the
device, the owner's name and the time into EXIF/XMP/IPTC blocks, and a visit photo taken in a
beneficiary's home must not carry any of it. The pixels are copied byte for byte; only the
metadata segments (JPEG) or chunks (PNG) are dropped. Pure Python, no image library."""
import struct

JPEG_SOI = b"\xff\xd8"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG markers whose segments are dropped: APP1 (Exif, XMP), APP13 (Photoshop IRB/IPTC), COM;
# APP2 too when it is a multi-picture index (MPF), which points at images appended after EOI.
_JPEG_DROPPED = {0xE1, 0xED, 0xFE}
# Markers without a length field: TEM and the restart markers RST0–RST7.
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_JPEG_SOS, _JPEG_EOI = 0xDA, 0xD9
# PNG chunks dropped: Exif, and the three text chunks (which may hold XMP or a location).
_PNG_DROPPED = {b"eXIf", b"tEXt", b"iTXt", b"zTXt"}


class BadImage(ValueError):
    """The bytes start like a JPEG or PNG but their structure is broken."""


def strip_jpeg(data):
    """The JPEG without its APP1 (Exif/XMP), APP13 (IPTC), multi-picture (APP2 MPF) and comment
    segments. The compressed image is copied unchanged; whatever follows the end-of-image marker
    (phones append a second, full-size or depth image there, with its own Exif) is dropped."""
    if not data.startswith(JPEG_SOI):
        raise BadImage("not a JPEG")
    out = bytearray(JPEG_SOI)
    pos = 2
    while True:
        # A marker is 0xFF followed by a code; any number of 0xFF fill bytes may precede it.
        if pos >= len(data) or data[pos] != 0xFF:
            raise BadImage("broken JPEG segment structure")
        while pos < len(data) and data[pos] == 0xFF:
            pos += 1
        if pos >= len(data):
            raise BadImage("truncated JPEG")
        marker = data[pos]
        pos += 1
        if marker == _JPEG_EOI:
            out += b"\xff\xd9"
            return bytes(out)
        if marker in _JPEG_STANDALONE:
            out += bytes((0xFF, marker))
            continue
        if pos + 2 > len(data):
            raise BadImage("truncated JPEG")
        (length,) = struct.unpack(">H", data[pos:pos + 2])
        if length < 2 or pos + length > len(data):
            raise BadImage("broken JPEG segment length")
        segment = data[pos:pos + length]
        pos += length
        if marker in _JPEG_DROPPED or (marker == 0xE2 and segment[2:6] == b"MPF\x00"):
            continue
        out += bytes((0xFF, marker)) + segment
        if marker == _JPEG_SOS:
            end = _end_of_scan(data, pos)
            out += data[pos:end]  # the entropy-coded image data, copied unchanged
            pos = end


def _end_of_scan(data, pos):
    """Where the entropy-coded data starting at ``pos`` ends: at the first marker that is not a
    stuffed 0xFF00 or a restart marker (the next segment, or EOI)."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            raise BadImage("JPEG scan without an end")
        code = data[pos + 1]
        if code == 0x00 or 0xD0 <= code <= 0xD7 or code == 0xFF:
            pos += 1 if code == 0xFF else 2
            continue
        return pos


def strip_png(data):
    """The PNG without its eXIf, tEXt, iTXt and zTXt chunks; every other chunk is kept as is."""
    if not data.startswith(PNG_SIGNATURE):
        raise BadImage("not a PNG")
    out = bytearray(PNG_SIGNATURE)
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise BadImage("truncated PNG chunk")
        if kind not in _PNG_DROPPED:
            out += data[pos:end]
        pos = end
        if kind == b"IEND":
            return bytes(out)
    raise BadImage("PNG without an IEND chunk")


def strip_metadata(data, content_type):
    """``data`` (already sniffed as ``content_type``) without location and other metadata;
    raises BadImage when the structure is broken."""
    if content_type == "image/jpeg":
        return strip_jpeg(data)
    if content_type == "image/png":
        return strip_png(data)
    raise BadImage(f"unsupported type {content_type}")
