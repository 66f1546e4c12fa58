#!/usr/bin/python3
"""Rewrites a DNG made by mkdng.py into structural variants that phone and
camera DNGs use, so the reader is tested on each: tiles, packed samples,
big-endian byte order, a preview IFD with the raw in a SubIFD, ActiveArea
margins with a DefaultCrop, per-site black levels with row/column deltas, a
LinearizationTable, ForwardMatrix, dual illuminants, EXIF and orientation.

  dng_variants.py IN.dng OUT.dng [--tiles N] [--pack BITS] [--big-endian]
      [--subifd] [--margin N] [--black-pattern] [--linearize] [--forward-matrix]
      [--dual-illuminant] [--exif] [--orientation N] [--ljpeg] [--shade K]
      [--profile]

--shade K darkens the frame towards the corners, more for red and blue (the
lens shading mkdng.py --shading makes), and records the gains that undo it as
one GainMap (OpcodeList2) per position of the CFA repeat, with that repeat as
the pitch: 4 maps for a Bayer file, 64 for an 8x8 hexadeca one.

--profile adds a camera profile's rendering tags (profile_tags() below): a
hue/saturation map (for both calibrations with --dual-illuminant, the first
one wild so that picking the wrong one shows), a 3-D look table indexed in
the sRGB encoding, a tone curve, a BaselineExposureOffset and a
ProfileGainTableMap; tests/tools/profile_render.py renders them.

Independent of obscura's code (its own TIFF writer). Needs python3-numpy and
python3-tifffile.
"""
import argparse
import struct

import zlib

import numpy as np
import tifffile

SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
D50 = np.array([0.96422, 1.0, 0.82521])
D65 = np.array([0.95047, 1.0, 1.08883])
BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])

TYPES = {"BYTE": (1, "B"), "ASCII": (2, "s"), "SHORT": (3, "H"), "LONG": (4, "I"),
         "RATIONAL": (5, "II"), "SRATIONAL": (10, "ii"), "FLOAT": (11, "f"), "DOUBLE": (12, "d"), "UNDEFINED": (7, "B")}


def adapt(src, dst):
    s, d = BRADFORD @ src, BRADFORD @ dst
    return np.linalg.inv(BRADFORD) @ np.diag(d / s) @ BRADFORD


def rat(v, den=1000000):
    return (int(round(v * den)), den)


class Writer:
    """Lays blobs out first, then IFDs (children before parents)."""

    def __init__(self, big):
        self.e = ">" if big else "<"
        self.buf = bytearray((b"MM\0*" if big else b"II*\0") + b"\0\0\0\0")

    def blob(self, data):
        if len(self.buf) % 2:
            self.buf += b"\0"
        off = len(self.buf)
        self.buf += data
        return off

    def pack(self, typ, vals):
        code, fmt = TYPES[typ]
        e = self.e
        if typ == "ASCII":
            raw = vals.encode() + b"\0"
            return code, len(raw), raw
        if typ == "UNDEFINED":
            return code, len(vals), bytes(vals)
        if typ in ("RATIONAL", "SRATIONAL"):
            return code, len(vals), b"".join(struct.pack(e + fmt, *v) for v in vals)
        return code, len(vals), struct.pack(e + "%d%s" % (len(vals), fmt), *vals)

    def ifd(self, tags):
        e = self.e
        entries = []
        for tag in sorted(tags):
            code, count, raw = self.pack(*tags[tag])
            if len(raw) > 4:
                entries.append(struct.pack(e + "HHII", tag, code, count, self.blob(raw)))
            else:
                entries.append(struct.pack(e + "HHI", tag, code, count) + raw.ljust(4, b"\0"))
        return self.blob(struct.pack(e + "H", len(entries)) + b"".join(entries) + struct.pack(e + "I", 0))

    def finish(self, path, ifd0):
        self.buf[4:8] = struct.pack(self.e + "I", ifd0)
        with open(path, "wb") as f:
            f.write(self.buf)


def pack_samples(rows, bits, big):
    """rows: 2-D uint16. 8/16 bits in byte order; others MSB-first, rows byte-aligned."""
    if bits == 16:
        return rows.astype(">u2" if big else "<u2").tobytes()
    if bits == 8:
        return rows.astype(np.uint8).tobytes()
    out = bytearray()
    for r in rows:
        acc, have, line = 0, 0, bytearray()
        for v in r:
            acc = (acc << bits) | int(v)
            have += bits
            while have >= 8:
                line.append((acc >> (have - 8)) & 0xFF)
                have -= 8
        if have:
            line.append((acc << (8 - have)) & 0xFF)
        out += line
    return bytes(out)


def ljpeg(rows, bits):
    """Lossless JPEG (ITU T.81 process 14, SOF3): one component, predictor 1
    (left; above for the first column), a flat 5-bit Huffman table."""
    h, w = rows.shape
    out = bytearray(b"\xff\xd8")
    out += b"\xff\xc3" + struct.pack(">HBHHB", 11, bits, h, w, 1) + bytes([1, 0x11, 0])
    nsym = 17
    counts = [0] * 16
    counts[4] = nsym  # all codes 5 bits long
    out += b"\xff\xc4" + struct.pack(">HB", 2 + 1 + 16 + nsym, 0) + bytes(counts) + bytes(range(nsym))
    out += b"\xff\xda" + struct.pack(">HB", 8, 1) + bytes([1, 0x00]) + bytes([1, 0, 0])
    r = rows.astype(np.int64)
    pred = np.empty_like(r)
    pred[:, 1:] = r[:, :-1]
    pred[1:, 0] = r[:-1, 0]
    pred[0, 0] = 1 << (bits - 1)
    d = (((r - pred) + 32768) & 0xFFFF) - 32768  # modulo 2^16, as T.81 says
    d = d.reshape(-1)
    mag = np.abs(d)
    ssss = np.zeros_like(mag)
    nz = mag > 0
    ssss[nz] = np.floor(np.log2(mag[nz])).astype(np.int64) + 1
    extra = np.where(d > 0, d, d - 1) & ((1 << ssss) - 1)
    code = (ssss << ssss) | extra  # symbol k's code is k itself, 5 bits
    length = 5 + ssss
    k = np.arange(21)
    bitmat = (code[:, None] >> np.maximum(length[:, None] - 1 - k[None, :], 0)) & 1
    bitmat = bitmat[k[None, :] < length[:, None]]
    pad = (-bitmat.size) % 8
    bitstream = np.concatenate([bitmat, np.ones(pad, dtype=bitmat.dtype)]).astype(np.uint8)
    data = np.packbits(bitstream).tobytes().replace(b"\xff", b"\xff\x00")
    return bytes(out + data + b"\xff\xd9")


def deflated(rows, a, white, black):
    """A block for Deflate (TIFF compression 8): 16-bit samples with
    horizontal differences, or float32 samples (code / white) as byte planes,
    most significant first, with horizontal byte differences (predictor 3)."""
    if a.float:
        f = (rows.astype(np.float64) / white).astype(">f4")
        h, w = f.shape
        planes = f.view(np.uint8).reshape(h, w, 4).transpose(0, 2, 1).reshape(h, 4 * w).astype(np.int64)
        diff = planes.copy()
        diff[:, 1:] = planes[:, 1:] - planes[:, :-1]
        return zlib.compress((diff & 0xFF).astype(np.uint8).tobytes())
    if a.pack != 16:
        raise SystemExit("--deflate writes 16-bit samples (--pack 16)")
    diff = rows.copy()
    diff[:, 1:] = rows[:, 1:] - rows[:, :-1]
    return zlib.compress((diff & 0xFFFF).astype(">u2" if a.big_endian else "<u2").tobytes())


def opcode_list(specs):
    """A DNG opcode list (big-endian) from --opcode3 specs."""
    ops = []
    for spec in specs:
        kind, _, rest = spec.partition(":")
        if kind in ("warp", "warp3"):  # warp3: 18 numbers, red, green, blue planes
            c = [float(v) for v in rest.split(",")]
            n = 1 if kind == "warp" else 3
            params = struct.pack(">I", n) + struct.pack(">%dd" % (6 * n), *c) + struct.pack(">2d", 0.5, 0.5)
            ops.append(struct.pack(">I4BII", 1, 1, 3, 0, 0, 0, len(params)) + params)
        elif kind == "vignette":
            k = [float(v) for v in rest.split(",")]
            params = struct.pack(">5d", *k) + struct.pack(">2d", 0.5, 0.5)
            ops.append(struct.pack(">I4BII", 3, 1, 3, 0, 0, 0, len(params)) + params)
        elif kind == "raw":
            op_id, flags = (int(v) for v in rest.split(":"))
            ops.append(struct.pack(">I4BII", op_id, 1, 4, 0, 0, flags, 8) + bytes(8))
        else:
            raise SystemExit("unknown --opcode3 kind " + kind)
    return struct.pack(">I", len(ops)) + b"".join(ops)


def shading_at(v, u, colour, k):
    """Light falloff towards the corners, stronger for red and blue; v, u in
    0..1 over the image (the model of mkdng.py --shading)."""
    r2 = ((u - 0.5) ** 2 + (v - 0.5) ** 2) / 0.5
    return 1.0 / (1.0 + k * np.array([1.0, 0.8, 1.2])[colour] * r2)


def shading_opcodes(h, w, pattern, k, points=(13, 17)):
    """OpcodeList2: one GainMap per position of the CFA repeat (pitch = the
    repeat), gain = 1 / shading of that position's colour."""
    rows, cols = pattern.shape
    pv, ph = points
    gy, gx = np.meshgrid(np.linspace(0, 1, pv), np.linspace(0, 1, ph), indexing="ij")
    ops = []
    for r in range(rows):
        for c in range(cols):
            g = 1.0 / shading_at(gy, gx, pattern[r, c], k)
            params = struct.pack(">8I", r, c, h, w, 0, 1, rows, cols) + struct.pack(">II", pv, ph)
            params += struct.pack(">4d", 1.0 / (pv - 1), 1.0 / (ph - 1), 0.0, 0.0)
            params += struct.pack(">I", 1) + g.astype(">f4").tobytes()
            ops.append(struct.pack(">I4BII", 9, 1, 3, 0, 0, 0, len(params)) + params)
    return struct.pack(">I", len(ops)) + b"".join(ops)


def hsv_table(hues, sats, vals, fn):
    """Entries (hue shift deg, sat scale, val scale) in the DNG's order: value
    outermost, then hue, then saturation; fn(h 0..1, s 0..1, v 0..1)."""
    out = []
    for vi in range(vals):
        for hi in range(hues):
            for si in range(sats):
                h, sat, v = hi / hues, si / (sats - 1), (vi / (vals - 1) if vals > 1 else 0.0)
                shift, ss, vs = fn(h, sat, v)
                out += [shift, ss, 1.0 if si == 0 else vs]  # (zero saturation keeps its value: the spec)
    return out


def profile_tags(e, dual, broken=False):
    """The profile tags --profile adds (e: the file's byte order for the gain
    table map); broken: the hue/saturation map one entry short and the gain
    table map cut, as a damaged file has them (the rest stays good)."""
    tags = {}
    warm = lambda h, s, v: (12.0 * np.sin(2 * np.pi * h), 1.0 + 0.25 * s * np.cos(2 * np.pi * h), 1.0 - 0.15 * s * (h > 0.5))
    tags[50937] = ("LONG", [6, 3, 1])
    if dual:
        wild = lambda h, s, v: (90.0, 0.3, 0.7)
        tags[50938] = ("FLOAT", hsv_table(6, 3, 1, wild))
        tags[50939] = ("FLOAT", hsv_table(6, 3, 1, warm))
    else:
        tags[50938] = ("FLOAT", hsv_table(6, 3, 1, warm))
    look = lambda h, s, v: (-6.0 * v, 1.0 + 0.3 * (1 - v) * s, 1.0 + 0.1 * s * (1 - v))
    tags[50981] = ("LONG", [4, 2, 3])
    tags[50982] = ("FLOAT", hsv_table(4, 2, 3, look))
    tags[51108] = ("LONG", [1])
    tags[50940] = ("FLOAT", [0.0, 0.0, 0.08, 0.05, 0.25, 0.3, 0.55, 0.72, 1.0, 1.0])
    tags[51109] = ("SRATIONAL", [(1, 4)])
    pv, ph, pn = 3, 4, 8
    head = struct.pack(e + "II4dI5f", pv, ph, 1.0 / (pv - 1), 1.0 / (ph - 1), 0.0, 0.0, pn, 0, 0, 0, 0, 1.0)
    gains = [1.0 + 0.6 * (1 - n / (pn - 1)) * (hh / (ph - 1)) * (0.5 + 0.5 * vv / (pv - 1))
             for vv in range(pv) for hh in range(ph) for n in range(pn)]
    tags[52525] = ("UNDEFINED", list(head + struct.pack(e + "%df" % len(gains), *gains)))
    if broken:
        tags[50938] = ("FLOAT", tags[50938][1][:-3])
        tags[52525] = ("UNDEFINED", tags[52525][1][:-40])
    return tags


def linear_variant(a, t, raw):
    """A LinearRaw input (3 samples a pixel): only the tag variants
    (--profile, --dual-illuminant, --forward-matrix...) are made; the
    samples are written as they are, in one strip."""
    if a.tiles or a.ljpeg or a.deflate or a.float or a.pack != 16 or a.margin or a.black_pattern or a.linearize or a.shade:
        raise SystemExit("a LinearRaw input takes only the colour and profile variants")
    W = Writer(a.big_endian)
    h, w, _ = raw.shape
    data = raw.astype(">u2" if a.big_endian else "<u2").tobytes()
    tags = {254: ("LONG", [0]), 256: ("LONG", [w]), 257: ("LONG", [h]), 258: ("SHORT", [16, 16, 16]),
            259: ("SHORT", [1]), 262: ("SHORT", [34892]), 273: ("LONG", [W.blob(data)]), 277: ("SHORT", [3]),
            278: ("LONG", [h]), 279: ("LONG", [len(data)]), 284: ("SHORT", [1]),
            50714: ("LONG", [int(v) for v in np.atleast_1d(t[50714])]),
            50717: ("LONG", [int(v) for v in np.atleast_1d(t[50717])]),
            50706: ("BYTE", [1, 4, 0, 0]), 50707: ("BYTE", [1, 1, 0, 0]),
            271: ("ASCII", a.camera.split("/")[0]), 272: ("ASCII", a.camera.split("/")[1]),
            274: ("SHORT", [a.orientation]), 50708: ("ASCII", a.camera.replace("/", " "))}
    tags.update(colour_tags(a, t, W))
    W.finish(a.output, W.ifd(tags))


def colour_tags(a, t, W):
    """ColorMatrix, AsShotNeutral and the colour and profile variants."""
    neutral = np.array(t[50728], dtype=float).reshape(-1)
    cm = np.array(t[50721], dtype=float).reshape(-1)
    cm = (cm[0::2] / cm[1::2]).reshape(3, 3) if cm.size == 18 else cm.reshape(3, 3)
    if neutral.size == 6:
        neutral = neutral[0::2] / neutral[1::2]
    colour = {50721: ("SRATIONAL", [rat(v) for v in cm.flatten()]), 50778: ("SHORT", [21]),
              50728: ("RATIONAL", [rat(v) for v in neutral])}
    if a.no_matrix:
        del colour[50721]
    if a.user_crop:
        colour[51125] = ("RATIONAL", [rat(float(v)) for v in a.user_crop.split(",")])
        colour[50940] = ("FLOAT", [0.0, 0.0, 0.5, 0.6, 1.0, 1.0])
    if a.dual_illuminant:
        # Calibration 1 under standard light A: a made-up but consistent
        # camera whose matrix differs; the scene (D65) must pick matrix 2.
        cm_a = cm @ adapt(D65, np.array([1.09850, 1.0, 0.35585])) * 1.1
        colour = {50721: ("SRATIONAL", [rat(v) for v in cm_a.flatten()]), 50778: ("SHORT", [17]),
                  50722: ("SRATIONAL", [rat(v) for v in cm.flatten()]), 50779: ("SHORT", [21]),
                  50728: ("RATIONAL", [rat(v) for v in neutral])}
    if a.forward_matrix:
        # Maps white-balanced camera values to XYZ D50: inverse of the colour
        # matrix with the neutral folded in, adapted D65 -> D50.
        fm = adapt(D65, D50) @ np.linalg.inv(cm) @ np.diag(neutral)
        fm = fm / (fm @ np.ones(3))[1]
        colour[50964] = ("SRATIONAL", [rat(v) for v in fm.flatten()])
    if a.profile:
        colour.update(profile_tags(W.e, a.dual_illuminant, a.profile_broken))
    if a.noise_map:
        # obscura's noise map in DNGPrivateData (src/core/noise_map.h): 4 x 3
        # points 16 px apart from -0.5, the variance 2^(byte / 32) times the
        # profile's; the last point 4 times.
        import struct
        codes = [0] * 11 + [64]
        blob = b"obscura\0NoiseMap" + struct.pack("<IIIdd", 1, 4, 3, 16.0, -0.5) + bytes(codes)
        colour[50740] = ("BYTE", list(blob))
    return colour


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--tiles", type=int, default=0)
    ap.add_argument("--pack", type=int, default=16)
    ap.add_argument("--big-endian", action="store_true")
    ap.add_argument("--subifd", action="store_true")
    ap.add_argument("--margin", type=int, default=0)
    ap.add_argument("--black-pattern", action="store_true")
    ap.add_argument("--linearize", action="store_true")
    ap.add_argument("--forward-matrix", action="store_true")
    ap.add_argument("--noise-map", action="store_true", help="obscura's noise map in DNGPrivateData")
    ap.add_argument("--dual-illuminant", action="store_true")
    ap.add_argument("--exif", action="store_true")
    ap.add_argument("--orientation", type=int, default=1)
    ap.add_argument("--camera", default="VariantCam/Model V", help="MAKE/MODEL written to IFD0")
    ap.add_argument("--lens", default="Obscura Optics 6.9mm f/1.8", help="EXIF LensModel (with --exif)")
    ap.add_argument("--focal", type=float, default=6.9, help="EXIF FocalLength in mm (with --exif)")
    ap.add_argument("--ljpeg", action="store_true", help="lossless JPEG compressed tiles")
    ap.add_argument("--deflate", action="store_true", help="Deflate with the horizontal predictor (16-bit samples)")
    ap.add_argument("--float", action="store_true",
                    help="32-bit float samples (white 1.0), Deflate with the floating-point predictor")
    ap.add_argument("--no-matrix", action="store_true", help="no ColorMatrix: a camera nobody profiled")
    ap.add_argument("--user-crop", default="", help="T,L,B,R: DefaultUserCrop fractions, and a ProfileToneCurve tag")
    ap.add_argument("--opcode3", action="append", default=[],
                    help="add to OpcodeList3: warp:kr0,kr1,kr2,kr3,kt0,kt1 (WarpRectilinear, centre 0.5,0.5), "
                         "warp3:(the same for red, green, blue: 18 numbers), "
                         "vignette:k0,k1,k2,k3,k4, or raw:ID:FLAGS (an opcode with 8 zero parameter bytes)")
    ap.add_argument("--profile", action="store_true",
                    help="camera profile rendering tags: hue/sat map, look table, tone curve, exposure offset, gain table map")
    ap.add_argument("--profile-broken", action="store_true",
                    help="with --profile: a hue/saturation map one entry short and a cut gain table map")
    ap.add_argument("--shade", type=float, default=0.0,
                    help="lens shading of strength K, undone by one GainMap per CFA position (OpcodeList2)")
    a = ap.parse_args()

    src = tifffile.TiffFile(a.input).pages[0]
    t = {k.code: k.value for k in src.tags.values()}
    raw = src.asarray().astype(np.int64)
    if raw.ndim == 3:
        return linear_variant(a, t, raw)
    black = int(np.atleast_1d(t[50714])[0])
    white = int(np.atleast_1d(t[50717])[0])
    h, w = raw.shape
    tags = {}

    # Per-site black pattern and row/column deltas, baked into the samples.
    black_tags = {50714: ("LONG", [black])}
    if a.black_pattern:
        site = np.array([[0, 40], [24, 8]])
        dh = (np.arange(w) % 7).astype(float)
        dv = (np.arange(h) % 5).astype(float) * 2
        raw = raw + site[np.arange(h)[:, None] % 2, np.arange(w)[None, :] % 2] + dh[None, :].astype(int) + dv[:, None].astype(int)
        black_tags = {50713: ("SHORT", [2, 2]), 50714: ("LONG", [black + int(v) for v in site.flatten()]),
                      50715: ("RATIONAL", [rat(v, 1) for v in dh]), 50716: ("RATIONAL", [rat(v, 1) for v in dv])}
        white = white + 64
    if a.shade > 0:
        dims = [int(v) for v in np.atleast_1d(t[33421])]
        pattern = np.array(list(bytes(t[33422])) if isinstance(t[33422], bytes) else np.atleast_1d(t[33422]),
                           dtype=int).reshape(dims[0], dims[1])
        v, u = np.meshgrid(np.arange(h) / (h - 1), np.arange(w) / (w - 1), indexing="ij")
        colour = pattern[np.arange(h)[:, None] % dims[0], np.arange(w)[None, :] % dims[1]]
        raw = black + np.round((raw - black) * shading_at(v, u, colour, a.shade)).astype(np.int64)
        tags[51009] = ("UNDEFINED", list(shading_opcodes(h, w, pattern, a.shade)))
    bits = a.pack
    if a.linearize:
        # Square-root companding, as some phones store: codes index a table.
        codes = 1 << bits
        table = np.round((np.arange(codes) / (codes - 1)) ** 2 * white).astype(np.int64)
        raw = np.searchsorted(table, np.clip(raw, 0, 65535)).clip(0, codes - 1)
        tags[50712] = ("SHORT", [int(v) for v in table])
        black_tags = {50714: ("LONG", [black])}
    if raw.max() >= (1 << bits):
        raise SystemExit("samples need more than %d bits" % bits)

    m = a.margin
    full = np.full((h + 2 * m, w + 2 * m), min(black, (1 << bits) - 1), dtype=np.int64)
    full[m:m + h, m:m + w] = raw
    fh, fw = full.shape
    W = Writer(a.big_endian)

    raw_tags = {
        254: ("LONG", [0]), 256: ("LONG", [fw]), 257: ("LONG", [fh]), 258: ("SHORT", [bits]),
        259: ("SHORT", [1]), 262: ("SHORT", [32803]), 277: ("SHORT", [1]), 284: ("SHORT", [1]),
        33421: ("SHORT", [int(v) for v in np.atleast_1d(t[33421])]),
        33422: ("BYTE", list(bytes(t[33422])) if isinstance(t[33422], bytes) else [int(v) for v in np.atleast_1d(t[33422])]),
        50710: ("BYTE", [0, 1, 2]), 50711: ("SHORT", [1]), 50717: ("LONG", [white]),
    }
    raw_tags.update(black_tags)
    if a.linearize:
        raw_tags[50712] = tags[50712]
    if a.shade > 0:
        raw_tags[51009] = tags[51009]
    if a.opcode3:
        raw_tags[51022] = ("UNDEFINED", list(opcode_list(a.opcode3)))
    if a.deflate or a.float:
        raw_tags[259] = ("SHORT", [8])
        raw_tags[317] = ("SHORT", [3 if a.float else 2])
    if a.float:
        raw_tags[258] = ("SHORT", [32])
        raw_tags[339] = ("SHORT", [3])
        raw_tags[50717] = ("RATIONAL", [rat(1, 1)])
        raw_tags[50714] = ("RATIONAL", [rat(black / white)])
    if a.ljpeg:
        if not a.tiles:
            raise SystemExit("--ljpeg needs --tiles")
        raw_tags[259] = ("SHORT", [7])
    if m:
        raw_tags[50829] = ("LONG", [m, m, m + h, m + w])
        raw_tags[50719] = ("RATIONAL", [rat(4, 1), rat(6, 1)])
        raw_tags[50720] = ("RATIONAL", [rat(w - 10, 1), rat(h - 12, 1)])
    if a.tiles:
        tw = th = a.tiles
        offs, counts = [], []
        for ty in range(0, fh, th):
            for tx in range(0, fw, tw):
                tile = np.zeros((th, tw), dtype=np.int64)
                part = full[ty:ty + th, tx:tx + tw]
                tile[:part.shape[0], :part.shape[1]] = part
                data = ljpeg(tile, bits) if a.ljpeg else deflated(tile, a, white, black) if (a.deflate or a.float) \
                    else pack_samples(tile, bits, a.big_endian)
                offs.append(W.blob(data))
                counts.append(len(data))
        raw_tags.update({322: ("LONG", [tw]), 323: ("LONG", [th]), 324: ("LONG", offs), 325: ("LONG", counts)})
    else:
        rps = 16
        offs, counts = [], []
        for y in range(0, fh, rps):
            data = deflated(full[y:y + rps], a, white, black) if (a.deflate or a.float) \
                else pack_samples(full[y:y + rps], bits, a.big_endian)
            offs.append(W.blob(data))
            counts.append(len(data))
        raw_tags.update({273: ("LONG", offs), 278: ("LONG", [rps]), 279: ("LONG", counts)})

    colour = colour_tags(a, t, W)

    main_tags = {50706: ("BYTE", [1, 4, 0, 0]), 50707: ("BYTE", [1, 1, 0, 0]),
                 271: ("ASCII", a.camera.split("/")[0]), 272: ("ASCII", a.camera.split("/")[1]),
                 274: ("SHORT", [a.orientation]), 50708: ("ASCII", a.camera.replace("/", " "))}
    main_tags.update(colour)
    if a.exif:
        exif = W.ifd({33434: ("RATIONAL", [(1, 120)]), 33437: ("RATIONAL", [(18, 10)]),
                      34855: ("SHORT", [100]), 36867: ("ASCII", "2026:11:24 12:34:56"),
                      37386: ("RATIONAL", [(int(round(a.focal * 10)), 10)]), 42035: ("ASCII", a.lens.split()[0]),
                      42036: ("ASCII", a.lens)})
        main_tags[34665] = ("LONG", [exif])
    if a.subifd:
        raw_ifd = W.ifd(raw_tags)
        preview = np.zeros((8, 8, 3), dtype=np.uint8).tobytes()
        main_tags.update({254: ("LONG", [1]), 256: ("LONG", [8]), 257: ("LONG", [8]), 258: ("SHORT", [8, 8, 8]),
                          259: ("SHORT", [1]), 262: ("SHORT", [2]), 273: ("LONG", [W.blob(preview)]),
                          277: ("SHORT", [3]), 278: ("LONG", [8]), 279: ("LONG", [len(preview)]),
                          330: ("LONG", [raw_ifd])})
        W.finish(a.output, W.ifd(main_tags))
    else:
        main_tags.update(raw_tags)
        W.finish(a.output, W.ifd(main_tags))


if __name__ == "__main__":
    main()
