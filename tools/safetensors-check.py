#!/usr/bin/python3
"""Checks a .safetensors file without PatchLab's code and prints its tensors.

  safetensors-check.py [--strict] FILE

Checks what the format promises: an 8-byte little-endian header length within
100 MiB and the file, a JSON object header (no duplicate keys), string-to-string
__metadata__, known dtypes, non-negative integer shapes, data_offsets whose sizes
match dtype x shape and that tile the data buffer exactly, and finite F32 values.
--strict also requires the header length to be a multiple of 8 (as the reference
writer pads it). When the metadata says patchlab_format, class_names must be a JSON
array of strings. Prints one line per tensor, "name dtype [shape]", in data order;
exits 1 with a message on the first problem. Standard library only.
"""
import array
import json
import math
import struct
import sys

MAX_HEADER = 100 * 1024 * 1024
DTYPE_SIZES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8,
}


class Bad(Exception):
    pass


def no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise Bad(f"duplicate key {key!r} in the header")
        obj[key] = value
    return obj


def is_uint(x):
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def check(path, strict):
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise Bad(f"{len(blob)} bytes, fewer than the 8-byte header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER:
        raise Bad(f"header length {n} is over {MAX_HEADER}")
    if n > len(blob) - 8:
        raise Bad(f"header length {n} but only {len(blob) - 8} bytes follow")
    if strict and n % 8 != 0:
        raise Bad(f"header length {n} is not a multiple of 8")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError) as e:
        raise Bad(f"header is not UTF-8 JSON: {e}") from None
    if not isinstance(header, dict):
        raise Bad("header is not a JSON object")
    data = blob[8 + n:]

    meta = header.pop("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise Bad("__metadata__ is not an object of strings")
    if "patchlab_format" in meta:
        names = json.loads(meta.get("class_names", "null"))
        if not isinstance(names, list) or not all(isinstance(s, str) for s in names):
            raise Bad("class_names is not a JSON array of strings")

    tensors = []
    for name, t in header.items():
        if not isinstance(t, dict):
            raise Bad(f"{name}: not an object")
        dtype, shape, offsets = t.get("dtype"), t.get("shape"), t.get("data_offsets")
        if dtype not in DTYPE_SIZES:
            raise Bad(f"{name}: unknown dtype {dtype!r}")
        if not isinstance(shape, list) or not all(is_uint(d) for d in shape):
            raise Bad(f"{name}: shape is not a list of non-negative integers")
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(is_uint(o) for o in offsets) or offsets[0] > offsets[1]):
            raise Bad(f"{name}: data_offsets is not [begin, end]")
        if offsets[1] > len(data):
            raise Bad(f"{name}: ends at {offsets[1]}, beyond the {len(data)}-byte buffer")
        if offsets[1] - offsets[0] != DTYPE_SIZES[dtype] * math.prod(shape):
            raise Bad(f"{name}: {offsets[1] - offsets[0]} bytes do not fit {dtype} {shape}")
        tensors.append((offsets[0], offsets[1], name, dtype, shape))

    tensors.sort()
    covered = 0
    for begin, end, name, dtype, shape in tensors:
        if begin != covered:
            what = "overlaps the previous tensor" if begin < covered else "leaves a gap"
            raise Bad(f"{name}: begins at {begin}, {what} (previous end {covered})")
        covered = end
        if dtype == "F32":
            values = array.array("f")
            values.frombytes(data[begin:end])
            if sys.byteorder == "big":
                values.byteswap()
            if not all(math.isfinite(v) for v in values):
                raise Bad(f"{name}: holds NaN or infinity")
    if covered != len(data):
        raise Bad(f"the last {len(data) - covered} bytes of the buffer belong to no tensor")

    for key in sorted(meta):
        value = meta[key].replace("\n", "\\n")
        print(f"meta {key}: {value[:70]}{'…' if len(value) > 70 else ''}")
    for begin, end, name, dtype, shape in tensors:
        print(f"{name} {dtype} {shape}")
    print(f"ok: {len(tensors)} tensors, {len(data)} data bytes, header {n} bytes")


def main():
    args = sys.argv[1:]
    strict = "--strict" in args
    args = [a for a in args if a != "--strict"]
    if len(args) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        check(args[0], strict)
    except (Bad, OSError) as e:
        print(f"{args[0]}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
