"""tfevents_writer.py — event files written with nothing but Python's struct
module, for the e2e checks that must feed nntrace files from "another
program" (report_check.py, serve_fault_check.py): TFRecord framing with
masked CRC32C, hand-encoded Event/Summary protobufs, scalars either as
simple_value or as TF2-style rank-0 tensors (plugin "scalars").
"""
import struct

_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ (0x82F63B78 & -(_c & 1))
    _TABLE.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def key(field, wire):
    return varint(field << 3 | wire)


def ld(field, payload):
    """A length-delimited field."""
    return key(field, 2) + varint(len(payload)) + payload


def header(length):
    """A record's length and its masked CRC (a record cut after this is truncated)."""
    head = struct.pack("<Q", length)
    return head + struct.pack("<I", masked_crc(head))


def record(data):
    return header(len(data)) + data + struct.pack("<I", masked_crc(data))


def simple_value(tag, v):
    return ld(1, tag.encode()) + key(2, 5) + struct.pack("<f", v)


def tensor_value(tag, v):
    """TF2 / PyTorch new-style scalar: a rank-0 DT_FLOAT tensor, plugin scalars."""
    meta = ld(1, ld(1, b"scalars"))
    tensor = key(1, 0) + varint(1) + ld(2, b"") + key(5, 5) + struct.pack("<f", v)
    return ld(1, tag.encode()) + ld(9, meta) + ld(8, tensor)


def version_event(wall):
    """The first record of a TensorFlow event file (file_version)."""
    return record(key(1, 1) + struct.pack("<d", wall) + ld(3, b"brain.Event:2"))


def scalar_event(step, tag, value, wall, style="simple"):
    """One Event record holding one scalar."""
    enc = simple_value if style == "simple" else tensor_value
    return record(key(1, 1) + struct.pack("<d", wall) + key(2, 0) + varint(step) + ld(5, ld(1, enc(tag, value))))


def write_scalars(path, points):
    """points: (step, tag, value, wall); one Event per point, no version record."""
    with open(path, "wb") as f:
        for step, tag, value, wall in points:
            f.write(scalar_event(step, tag, value, wall))
