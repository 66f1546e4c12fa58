"""obscura: raw photographs developed by a computational camera pipeline.

Raw files in (every DNG a phone or camera writes, other raws through LibRaw),
numpy arrays and finished photographs out, through the same pipeline as the
``obscura`` command line, so the same options give the same bytes.

    >>> import obscura
    >>> raw = obscura.imread("photo.dng")
    >>> raw.raw_image.shape, raw.cfa          # the samples, no copy
    >>> rgb = raw.postprocess(look="reference", output_bps=16)
    >>> obscura.develop("photo.dng", "photo.jpg", look="authentic")
    >>> merged = obscura.merge_burst(["f0.dng", "f1.dng", "f2.dng"])
    >>> obscura.write("merged.tif", merged.postprocess(output_bps=16), exif_from=merged)

Errors are OSError (a file unreadable, damaged or unwritable: the message
names it) or ValueError (an option). Pixels are processed with the GIL
released, so threads develop in parallel. ``obscura.dask`` develops photo
libraries on a Dask cluster.
"""
from ._obscura import (RawImage, __version__, check_options, develop, imread, looks, merge_burst,  # noqa: F401
                       write)

__all__ = ["RawImage", "imread", "develop", "merge_burst", "write", "looks", "check_options", "__version__"]
