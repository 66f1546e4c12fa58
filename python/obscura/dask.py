"""Photo libraries developed on a Dask cluster (``distributed``).

Each task develops one raw file with ``obscura.develop`` on whichever worker
takes it: the output is written to a hidden temporary beside its name and
renamed, so a reader never sees half a file. A worker lost mid-run has its
files taken by another (the scheduler reschedules its tasks); what a killed
worker left behind (its temporaries) is removed at the end. Outputs are the
same bytes as ``obscura develop`` writes, whichever worker made them.

    from distributed import Client
    from obscura.dask import develop_many
    result = develop_many(paths, "out/", client=Client("tcp://scheduler:8786"), look="authentic")
    result.outputs   # one per input: the file written, or None
    result.errors    # {input: "input: what went wrong"}

From the command line (a LocalCluster on this machine unless --scheduler):

    python3 -m obscura.dask IN.dng... -o OUT_DIR [--scheduler ADDRESS] [--format jpg] [--look NAME]
"""
import argparse
import collections
import glob
import os
import sys

import obscura

DevelopResult = collections.namedtuple("DevelopResult", ["outputs", "errors"])


def _develop_one(path, output, options):
    """One task: develop `path` into `output`; (output, None) or (None, error)."""
    import obscura as worker_obscura  # (imported on the worker)
    try:
        worker_obscura.develop(path, output, **options)
        return output, None
    except (OSError, ValueError) as e:
        return None, str(e)


def _outputs_for(paths, out_dir, extension):
    """OUT_DIR/STEM.EXT per input; a later input with a stem already taken gets an error instead."""
    outputs, errors, taken = [], {}, {}
    for p in paths:
        stem = os.path.splitext(os.path.basename(os.path.normpath(p)))[0]
        out = os.path.join(out_dir, stem + extension)
        if out in taken:
            errors[p] = "%s: has the same name as %s (both would write %s)" % (p, taken[out], out)
            outputs.append(None)
        else:
            taken[out] = p
            outputs.append(out)
    return outputs, errors


def _remove_stale_temporaries(outputs):
    """The hidden temporaries (.NAME.XXXXXX) a killed worker left beside its outputs."""
    for out in outputs:
        if out is None:
            continue
        folder, name = os.path.split(out)
        for temp in glob.glob(os.path.join(folder or ".", "." + glob.escape(name) + ".??????")):
            try:
                os.remove(temp)
            except OSError:
                pass


def develop_many(paths, out_dir, client=None, format="jpg", retries=2, **options):
    """Develops every raw file in `paths` into `out_dir` (created if need be)
    as STEM.FORMAT, one task per file on the cluster of `client` (a
    ``distributed.Client``; None starts a LocalCluster for the call).

    `options` are obscura.develop's (look, demosaic, colorspace, quality...),
    checked before any task runs (ValueError). Returns DevelopResult: outputs
    (per input, the file written or None) and errors ({input: message}).
    Files that fail (unreadable, damaged) are errors, not exceptions; a task
    whose worker dies is run again elsewhere.
    """
    from distributed import Client, as_completed

    obscura.check_options(**options)
    if not isinstance(format, str) or not format or "/" in format:
        raise ValueError("format must be an extension such as 'jpg', 'tif', 'png', 'heic' or 'avif'")
    paths = [os.fspath(p) for p in paths]
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    outputs, errors = _outputs_for(paths, out_dir, "." + format.lstrip("."))
    planned = list(outputs)
    own = client is None
    if own:
        client = Client(processes=True, n_workers=min(4, os.cpu_count() or 1), threads_per_worker=1,
                        dashboard_address=None)
    try:
        todo = [i for i, out in enumerate(outputs) if out is not None]
        futures = client.map(_develop_one, [paths[i] for i in todo], [outputs[i] for i in todo],
                             [dict(options)] * len(todo), retries=retries, pure=False)
        index = {f.key: i for f, i in zip(futures, todo)}
        for future in as_completed(futures):
            i = index[future.key]
            try:
                written, error = future.result()
            except Exception as e:  # a task that kept failing (its workers lost)
                written, error = None, "%s: %s" % (paths[i], e)
            outputs[i] = written
            if error:
                errors[paths[i]] = error
    finally:
        if own:
            client.close()
    _remove_stale_temporaries(planned)
    return DevelopResult(outputs, errors)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m obscura.dask",
                                 description="Develops raw files on a Dask cluster (a LocalCluster unless --scheduler).")
    ap.add_argument("inputs", nargs="+", help="raw files")
    ap.add_argument("-o", "--output", required=True, help="output folder")
    ap.add_argument("--scheduler", help="address of a dask scheduler (tcp://HOST:8786)")
    ap.add_argument("--format", default="jpg", help="output extension (jpg, tif, png, heic, avif)")
    ap.add_argument("--look", help="a shipped look's name or a look file")
    ap.add_argument("--colorspace", help="srgb or display-p3")
    ap.add_argument("--quality", type=int, help="JPEG/HEIF quality 1..100")
    a = ap.parse_args(argv)
    options = {k: v for k, v in (("look", a.look), ("colorspace", a.colorspace), ("quality", a.quality)) if v is not None}
    client = None
    if a.scheduler:
        from distributed import Client
        client = Client(a.scheduler)
    try:
        result = develop_many(a.inputs, a.output, client=client, format=a.format, **options)
    except ValueError as e:
        print("obscura.dask: %s" % e, file=sys.stderr)
        return 2
    for message in result.errors.values():
        print("obscura.dask: %s" % message, file=sys.stderr)
    written = sum(1 for o in result.outputs if o)
    print("obscura.dask: %d of %d developed into %s" % (written, len(a.inputs), a.output), file=sys.stderr)
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())
