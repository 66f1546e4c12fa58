"""The Python module against the CLI and LibRaw, on files made by the
independent mkdng: samples, pixels and bytes compared exactly."""
import os
import subprocess
import threading

import numpy as np
import pytest
import tifffile
from PIL import Image

import obscura

KODAK = ["kodim05_RGGB_14", "kodim13_BGGR_12", "kodim19_GRBG_16", "kodim23_GBRG_12"]


def cpsnr(a, b, border=8):
    a = a[border:-border, border:-border].astype(np.float64)
    b = b[border:-border, border:-border].astype(np.float64)
    scale = 255.0 / (65535.0 if a.max() > 255 or b.max() > 255 else 255.0)
    mse = np.mean(((a - b) * scale) ** 2)
    return 10 * np.log10(255.0 ** 2 / mse)


@pytest.mark.parametrize("name", KODAK)
def test_raw_image_equals_libraws_samples(name, dngs, work):
    if not subprocess.run(["which", "unprocessed_raw"], capture_output=True).returncode == 0:
        pytest.skip("unprocessed_raw (Debian libraw-bin) is not installed")
    copy = work / (name + ".dng")
    copy.write_bytes(open(os.path.join(dngs, name + ".dng"), "rb").read())
    subprocess.run(["unprocessed_raw", "-T", str(copy)], check=True, capture_output=True)
    theirs = tifffile.imread(str(copy) + ".tiff")
    raw = obscura.imread(os.path.join(dngs, name + ".dng"))
    assert raw.raw_image.dtype == np.uint16
    assert raw.raw_image.shape == theirs.shape
    assert np.array_equal(raw.raw_image, theirs)
    assert raw.cfa == name.split("_")[1]


def test_rawimage_metadata(dngs):
    raw = obscura.imread(os.path.join(dngs, "kodim13_BGGR_12.dng"))  # mkdng --black 256 --gains 0.45,1.0,0.62
    assert raw.black_level_per_channel == [256, 256, 256, 256]
    assert raw.white_level == 4095
    assert raw.raw_pattern.tolist() == [[2, 1], [1, 0]]
    assert raw.camera_whitebalance[0] == pytest.approx(1 / 0.45, rel=1e-3)
    assert raw.color_matrix.shape == (3, 3)
    assert raw.shot["orientation"] == 1
    assert len(raw.opcodes) == 3
    lin = obscura.imread(os.path.join(dngs, "p_linear.dng"))
    assert lin.is_linear and lin.cfa == "LinearRaw" and lin.raw_image.shape[2] == 3


def test_raw_image_is_a_view_that_keeps_the_frame_alive(dngs):
    raw = obscura.imread(os.path.join(dngs, "kodim05_RGGB_14.dng"))
    samples = raw.raw_image
    before = raw.postprocess(look="reference", output_bps=16)
    samples[:] = samples.min()  # a black frame, written through the view
    after = raw.postprocess(look="reference", output_bps=16)
    assert after.max() < before.max() // 10
    del raw
    assert samples.sum() == samples.size * int(samples[0, 0])  # still readable: the array holds the frame


@pytest.mark.parametrize("name", ["kodim19_GRBG_16", "p_linear", "v_subifd_exif"])
def test_postprocess_16_bit_equals_the_clis_tiff(name, dngs, cli, work):
    f = os.path.join(dngs, name + ".dng")
    subprocess.run([cli, "develop", f, "-o", str(work / "cli.tif"), "--look", "reference"], check=True)
    theirs = tifffile.imread(str(work / "cli.tif"))
    ours = obscura.imread(f).postprocess(look="reference", output_bps=16)
    assert ours.dtype == np.uint16 and ours.shape == theirs.shape
    assert np.array_equal(ours, theirs)


def test_postprocess_8_bit_equals_the_clis_png(dngs, cli, work):
    f = os.path.join(dngs, "kodim23_GBRG_12.dng")
    subprocess.run([cli, "develop", f, "-o", str(work / "cli.png"), "--look", "vibrant"], check=True)
    theirs = np.asarray(Image.open(work / "cli.png"))
    ours = obscura.imread(f).postprocess(look="vibrant")
    assert ours.dtype == np.uint8 and np.array_equal(ours, theirs)


@pytest.mark.parametrize("ext", ["jpg", "heic"])
def test_develop_writes_the_clis_bytes(ext, dngs, cli, work):
    f = os.path.join(dngs, "kodim05_RGGB_14.dng")
    subprocess.run([cli, "develop", f, "-o", str(work / ("cli." + ext))], check=True)
    report = obscura.develop(f, work / ("py." + ext))
    assert (work / ("py." + ext)).read_bytes() == (work / ("cli." + ext)).read_bytes()
    assert report["warnings"] == [] and report["develop_s"] > 0


def test_errors_are_oserror_or_valueerror(dngs, work):
    with pytest.raises(OSError, match="nothing.dng"):
        obscura.imread(work / "nothing.dng")
    with pytest.raises(OSError, match="bad_ljpeg_bits.dng"):
        obscura.imread(os.path.join(dngs, "bad_ljpeg_bits.dng"))
    with pytest.raises(OSError, match="bad_ljpeg_bits.dng"):
        obscura.develop(os.path.join(dngs, "bad_ljpeg_bits.dng"), work / "bad.jpg")
    assert not (work / "bad.jpg").exists()
    raw = obscura.imread(os.path.join(dngs, "kodim05_RGGB_14.dng"))
    with pytest.raises(ValueError, match="unknown look"):
        raw.postprocess(look="no-such-look")
    with pytest.raises(ValueError, match="unknown option 'sharpen'"):
        raw.postprocess(sharpen=1)
    with pytest.raises(ValueError, match="output_bps"):
        raw.postprocess(output_bps=12)
    with pytest.raises(ValueError):
        obscura.check_options(colorspace="adobe")
    for bad in (-1, 0, 17, "x", [1]):
        with pytest.raises(ValueError, match="denoise"):
            obscura.check_options(denoise=bad)
    with pytest.raises(OSError, match="unknown output format|extension"):
        obscura.develop(os.path.join(dngs, "kodim05_RGGB_14.dng"), work / "x.bmp")


def test_merge_burst_lowers_the_noise(dngs, data_dir):
    burst = os.path.join(dngs, "burst05_mid")
    frames = sorted(os.path.join(burst, f) for f in os.listdir(burst) if f.endswith(".dng"))
    truth = np.asarray(Image.open(os.path.join(burst, "truth.png")))
    one = obscura.imread(frames[0]).postprocess(look="reference")
    merged_frame = obscura.merge_burst(frames[:4])
    merged = merged_frame.postprocess(look="reference")
    assert cpsnr(merged, truth) > cpsnr(one, truth) + 2.0
    # Where the merge refused frames (mkdng's moving patch) it kept more
    # noise: its map says so; a single frame has none.
    grid, step, origin = merged_frame.noise_map
    assert grid.dtype == np.float32 and step == 16 and origin == -0.5
    tiles = [((n + 1) // 2 + 7) // 8 + 1 for n in truth.shape[:2]]  # (16-sample tiles of a Bayer plane, every 8)
    assert grid.shape == tuple(tiles)
    assert grid.min() >= 1.0 and np.median(grid) < 1.1 and grid.max() > 2.0
    assert obscura.imread(frames[0]).noise_map is None


def test_write_keeps_pixels_and_exif(dngs, work):
    raw = obscura.imread(os.path.join(dngs, "v_subifd_exif.dng"))
    rgb = raw.postprocess(output_bps=16)
    obscura.write(work / "w.tif", rgb, exif_from=raw)
    assert np.array_equal(tifffile.imread(str(work / "w.tif")), rgb)
    obscura.write(work / "w.png", (rgb >> 8).astype(np.uint8))
    assert np.array_equal(np.asarray(Image.open(work / "w.png")), (rgb >> 8).astype(np.uint8))
    exif = Image.open(work / "w.tif").getexif()
    assert exif.get(271) == "VariantCam"  # Make, from the raw's EXIF
    with pytest.raises(ValueError):
        obscura.write(work / "bad.png", np.zeros((4, 4), np.uint8))


def test_denoise_keyword_matches_the_cli(dngs, cli, work):
    f = os.path.join(dngs, "kodim23_noise.dng")
    subprocess.run([cli, "develop", f, "-o", str(work / "cli.tif"), "--look", "reference", "--denoise", "1.5"], check=True)
    ours = obscura.imread(f).postprocess(look="reference", output_bps=16, denoise=1.5)
    assert np.array_equal(ours, tifffile.imread(str(work / "cli.tif")))
    off = obscura.imread(f).postprocess(look="reference", output_bps=16)
    assert not np.array_equal(ours, off)


def test_binning_keyword(dngs):
    quad = obscura.imread(os.path.join(dngs, "kodim23_quad.dng"))
    assert quad.postprocess(binning=True).shape[:2] == (256, 384)
    assert quad.postprocess(binning=False).shape[:2] == (512, 768)
    assert quad.postprocess().shape[:2] == (512, 768)  # auto: no noise profile, full resolution
    dark = obscura.imread(os.path.join(dngs, "kodim23_quad_dark.dng"))
    assert dark.postprocess(binning="auto").shape[:2] == (256, 384)  # S 0.05: binning wins
    with pytest.raises(ValueError, match="binning"):
        quad.postprocess(binning="maybe")


def test_looks_lists_the_shipped_ones():
    names = [l["name"] for l in obscura.looks()]
    assert names[0] == "reference" and "authentic" in names and "vibrant" in names


def test_the_gil_is_released_while_pixels_are_processed(dngs):
    # While another thread develops, this one keeps running Python: with the
    # GIL held through the C++ work it would barely advance.
    raw = obscura.imread(os.path.join(dngs, "kodim05_RGGB_14.dng"))
    t = threading.Thread(target=lambda: [raw.postprocess(look="vibrant", output_bps=16) for _ in range(4)])
    count = 0
    t.start()
    while t.is_alive():
        count += 1
    t.join()
    assert count > 10000


def test_hdr_outputs_match_the_cli(dngs, cli, work):
    # OpenEXR and Ultra HDR from Python are the CLI's bytes; a bad
    # hdr_output is a ValueError, and postprocess refuses it.
    f = os.path.join(dngs, "kodim05_RGGB_14.dng")
    for name, args, kw in (("x.exr", [], {}), ("u.jpg", ["--hdr-output", "ultrahdr"], {"hdr_output": "ultrahdr"})):
        subprocess.run([cli, "develop", f, "-o", str(work / ("cli_" + name)), *args], check=True)
        obscura.develop(f, work / ("py_" + name), **kw)
        assert (work / ("py_" + name)).read_bytes() == (work / ("cli_" + name)).read_bytes()
    assert b"hdrgm:Version" in (work / "py_u.jpg").read_bytes()
    with pytest.raises(ValueError, match="hdr_output"):
        obscura.develop(f, work / "bad.jpg", hdr_output="hdr10")
    with pytest.raises(ValueError, match="hdr_output"):
        obscura.imread(f).postprocess(hdr_output="ultrahdr")
    assert not (work / "bad.jpg").exists()
