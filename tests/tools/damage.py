#!/usr/bin/python3
"""Damaged copies of a TIFF/DNG for robustness tests: random byte flips in
the header and first IFD, tag values, counts and types patched to absurd
numbers (dimensions of millions of pixels, offsets past the end, ...).

  damage.py GOOD.dng OUTDIR N [--seed S]     # writes OUTDIR/d000.dng ...
"""
import argparse
import os
import random
import struct


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("good")
    ap.add_argument("out")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    data = open(a.good, "rb").read()
    e = "<" if data[:2] == b"II" else ">"
    ifd = struct.unpack(e + "I", data[4:8])[0]
    count = struct.unpack(e + "H", data[ifd:ifd + 2])[0]
    entries = [ifd + 2 + 12 * i for i in range(count)]
    header_end = min(len(data), ifd + 2 + 12 * count + 400)
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    for k in range(a.n):
        b = bytearray(data)
        kind = k % 4
        if kind == 0:  # byte flips in the header and IFD
            for _ in range(rng.randint(1, 8)):
                b[rng.randrange(0, header_end)] = rng.randrange(256)
        elif kind == 1:  # a value or offset patched
            p = rng.choice(entries)
            b[p + 8:p + 12] = struct.pack(e + "I", rng.choice(
                [0, 1, 0xFFFFFFFF, 0x7FFFFFFF, 1 << 20, 65536, rng.randrange(1 << 32)]))
        elif kind == 2:  # a count patched
            p = rng.choice(entries)
            b[p + 4:p + 8] = struct.pack(e + "I", rng.choice([0, 0xFFFFFFFF, 1 << 28, rng.randrange(1 << 32)]))
        else:  # a type patched
            p = rng.choice(entries)
            b[p + 2:p + 4] = struct.pack(e + "H", rng.randrange(0, 20))
        with open(os.path.join(a.out, "d%03d.dng" % k), "wb") as f:
            f.write(b)


if __name__ == "__main__":
    main()
