#!/usr/bin/python3
"""Renders a DNG's camera profile as the DNG 1.7.1 specification describes
it, on top of a matrices-only develop of the same file, so obscura's
profile rendering is checked against an implementation written from the
specification alone (numpy, no obscura code).

  profile_render.py DNG REFERENCE.tif OUT.tif [--look-exposure EV]

REFERENCE.tif: `obscura develop DNG --look reference` as 16-bit TIFF (linear
sRGB with the sRGB curve, BaselineExposure applied, default crop, no lens
corrections in the file). OUT.tif: the same pixels rendered with the file's
profile: to linear ProPhoto (D50, Bradford from D65), ProfileHueSatMap
(the second table when there are two: the scenes these tests make are lit
by D65, which is calibration 2), BaselineExposure + BaselineExposureOffset
(+ the look's exposure when the profile has a tone curve),
ProfileGainTableMap (pixel-centred over the image), clip to 0..1,
ProfileLookTable, ProfileToneCurve (natural cubic spline, on the largest and
smallest channel with the middle one kept in proportion), back to sRGB.

Needs Debian's python3-numpy and python3-tifffile.
"""
import argparse
import struct

import numpy as np
import tifffile

SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
PROPHOTO_TO_XYZ = np.array([[0.7976749, 0.1351917, 0.0313534],
                            [0.2880402, 0.7118741, 0.0000857],
                            [0.0, 0.0, 0.8252100]])
BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
D50 = np.array([0.96422, 1.0, 0.82521])
D65 = np.array([0.95047, 1.0, 1.08883])


def adapt(src, dst):
    s, d = BRADFORD @ src, BRADFORD @ dst
    return np.linalg.inv(BRADFORD) @ np.diag(d / s) @ BRADFORD


def srgb_decode(v):
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def srgb_encode(v):
    v = np.clip(v, 0, 1)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)


def rgb_to_hsv(c):
    r, g, b = c[..., 0], c[..., 1], c[..., 2]
    v = c.max(-1)
    gap = v - c.min(-1)
    safe = np.where(gap > 0, gap, 1)
    h = np.where(r == v, (g - b) / safe, np.where(g == v, 2 + (b - r) / safe, 4 + (r - g) / safe))
    h = np.where(h < 0, h + 6, h)
    h = np.where(gap > 0, h, 0)
    s = np.where(gap > 0, gap / np.where(v > 0, v, 1), 0)
    return h, s, v


def hsv_to_rgb(h, s, v):
    i = np.minimum(np.floor(h), 5).astype(int)
    f = h - i
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = np.zeros(h.shape + (3,))
    for k, (a, b, c) in enumerate(choices):
        m = i == k
        out[m, 0], out[m, 1], out[m, 2] = a[m], b[m], c[m]
    return out


def apply_hsv_table(c, dims, data, srgb_encoded):
    hues, sats, vals = dims
    table = np.array(data, dtype=np.float64).reshape(vals, hues, sats, 3)
    encoded = srgb_encoded and vals > 1
    if encoded:
        c = srgb_encode(np.maximum(c, 0))
    h, s, v = rgb_to_hsv(c)
    hs = h * hues / 6
    h0 = np.floor(hs).astype(int)
    hf = hs - h0
    h0 %= hues
    h1 = (h0 + 1) % hues
    sc = np.clip(s, 0, 1) * (sats - 1)
    s0 = np.minimum(np.floor(sc).astype(int), sats - 2)
    sf = sc - s0
    if vals > 1:
        vc = np.clip(v, 0, 1) * (vals - 1)
        v0 = np.minimum(np.floor(vc).astype(int), vals - 2)
        vf = vc - v0
        layers = [(v0, 1 - vf), (v0 + 1, vf)]
    else:
        layers = [(np.zeros_like(h0), np.ones_like(hf))]
    out = np.zeros(h.shape + (3,))
    for vi, wv in layers:
        lo = table[vi, h0, s0] * (1 - sf)[..., None] + table[vi, h0, s0 + 1] * sf[..., None]
        hi = table[vi, h1, s0] * (1 - sf)[..., None] + table[vi, h1, s0 + 1] * sf[..., None]
        out += wv[..., None] * (lo * (1 - hf)[..., None] + hi * hf[..., None])
    h = np.mod(h + out[..., 0] * 6 / 360, 6)
    s = np.minimum(s * out[..., 1], 1)
    v = np.minimum(v * out[..., 2], 1)
    c = hsv_to_rgb(h, s, v)
    return srgb_decode(c) if encoded else c


def natural_spline(xs, ys, t):
    n = len(xs)
    second = np.zeros(n)
    if n > 2:
        a = np.zeros((n, n))
        rhs = np.zeros(n)
        a[0, 0] = a[-1, -1] = 1
        for i in range(1, n - 1):
            h0, h1 = xs[i] - xs[i - 1], xs[i + 1] - xs[i]
            a[i, i - 1], a[i, i], a[i, i + 1] = h0, 2 * (h0 + h1), h1
            rhs[i] = 6 * ((ys[i + 1] - ys[i]) / h1 - (ys[i] - ys[i - 1]) / h0)
        second = np.linalg.solve(a, rhs)
    k = np.clip(np.searchsorted(xs, t, side="right") - 1, 0, n - 2)
    hk = xs[k + 1] - xs[k]
    A, B = (xs[k + 1] - t) / hk, (t - xs[k]) / hk
    v = A * ys[k] + B * ys[k + 1] + ((A ** 3 - A) * second[k] + (B ** 3 - B) * second[k + 1]) * hk ** 2 / 6
    v = np.where(t <= xs[0], ys[0], np.where(t >= xs[-1], ys[-1], v))
    return np.clip(v, 0, 1)


def rgb_tone(c, curve):
    xs, ys = np.array(curve[0::2], float), np.array(curve[1::2], float)
    tone = lambda v: natural_spline(xs, ys, np.clip(v, 0, 1))
    order = np.argsort(c, axis=-1, kind="stable")
    lo = np.take_along_axis(c, order[..., :1], -1)[..., 0]
    mid = np.take_along_axis(c, order[..., 1:2], -1)[..., 0]
    hi = np.take_along_axis(c, order[..., 2:], -1)[..., 0]
    tl, th = tone(lo), tone(hi)
    gap = hi - lo
    tm = np.where(gap > 0, tl + (th - tl) * (mid - lo) / np.where(gap > 0, gap, 1), th)
    out = np.empty_like(c)
    np.put_along_axis(out, order[..., :1], tl[..., None], -1)
    np.put_along_axis(out, order[..., 1:2], tm[..., None], -1)
    np.put_along_axis(out, order[..., 2:], th[..., None], -1)
    return out


def gain_table_map(c, blob, order, full_w, full_h, x0, y0):
    pv, ph = struct.unpack_from(order + "II", blob, 0)
    sv, sh, ov, oh = struct.unpack_from(order + "4d", blob, 8)
    pn, = struct.unpack_from(order + "I", blob, 40)
    w = np.array(struct.unpack_from(order + "5f", blob, 44))
    gains = np.array(struct.unpack_from(order + "%df" % (pv * ph * pn), blob, 64)).reshape(pv, ph, pn)
    h, wd = c.shape[:2]
    feats = np.stack([c[..., 0], c[..., 1], c[..., 2], c.min(-1), c.max(-1)], -1)
    t = np.clip(feats @ w, 0, 1) * pn
    i0 = np.minimum(np.floor(t).astype(int), pn - 1)
    i1 = np.minimum(i0 + 1, pn - 1)
    tf = t - i0
    col = np.clip(((x0 + np.arange(wd) + 0.5) / full_w - oh) / sh, 0, ph - 1)
    row = np.clip(((y0 + np.arange(h) + 0.5) / full_h - ov) / sv, 0, pv - 1)
    c0 = np.floor(col).astype(int)
    r0 = np.floor(row).astype(int)
    c1, r1 = np.minimum(c0 + 1, ph - 1), np.minimum(r0 + 1, pv - 1)
    cf, rf = (col - c0)[None, :], (row - r0)[:, None]
    R0, R1, C0, C1 = r0[:, None], r1[:, None], c0[None, :], c1[None, :]

    def at(r, cc):
        return gains[r, cc, i0] * (1 - tf) + gains[r, cc, i1] * tf

    top = at(R0, C0) * (1 - cf) + at(R0, C1) * cf
    bottom = at(R1, C0) * (1 - cf) + at(R1, C1) * cf
    return c * (top * (1 - rf) + bottom * rf)[..., None]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dng")
    ap.add_argument("reference")
    ap.add_argument("out")
    ap.add_argument("--look-exposure", type=float, default=0.0)
    a = ap.parse_args()

    tif = tifffile.TiffFile(a.dng)
    order = tif.byteorder
    t = {k.code: k.value for k in tif.pages[0].tags.values()}
    full_h, full_w = tif.pages[0].shape[:2]
    x0 = y0 = 0
    if 50719 in t:
        org = np.array(t[50719], float).reshape(-1)
        x0, y0 = (int(org[0] / org[1]), int(org[2] / org[3])) if org.size == 4 else (int(org[0]), int(org[1]))

    ref = tifffile.imread(a.reference).astype(np.float64) / 65535
    be = float(np.array(t.get(50730, 0.0), float).reshape(-1)[0]) if 50730 in t else 0.0
    lin = srgb_decode(ref) / 2 ** be
    to_pp = np.linalg.inv(PROPHOTO_TO_XYZ) @ adapt(D65, D50) @ SRGB_TO_XYZ
    c = lin @ to_pp.T

    dims = [int(v) for v in t[50937]] if 50937 in t else None
    hsm = t.get(50939, t.get(50938))
    if hsm is not None:
        c = apply_hsv_table(c, dims, hsm, t.get(51107, 0) == 1)
    offset = t.get(51109, (0, 1))
    offset = offset[0] / offset[1] if isinstance(offset, tuple) else float(offset)
    ev = be + offset + (a.look_exposure if 50940 in t else 0.0)
    c = c * 2 ** ev
    if 52525 in t:
        c = gain_table_map(c, bytes(t[52525]), order, full_w, full_h, x0, y0)
    c = np.clip(c, 0, 1)
    if 50982 in t:
        c = apply_hsv_table(c, [int(v) for v in t[50981]], t[50982], t.get(51108, 0) == 1)
    if 50940 in t:
        c = rgb_tone(c, list(t[50940]))
    out = c @ (np.linalg.inv(SRGB_TO_XYZ) @ adapt(D50, D65) @ PROPHOTO_TO_XYZ).T
    tifffile.imwrite(a.out, np.round(srgb_encode(out) * 65535).astype(np.uint16), photometric="rgb")


if __name__ == "__main__":
    main()
