"""obscura.dask on a 2-process LocalCluster: every file written, each the
CLI batch's bytes; a worker killed mid-run loses no file and leaves none
half-written."""
import glob
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

distributed = pytest.importorskip("distributed", reason="Debian python3-distributed is not installed")

import obscura.dask  # noqa: E402

SHARED_KODAK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data", "kodak")


@pytest.fixture(scope="module")
def library(tmp_path_factory, data_dir, tools_dir):
    """24 Kodak DNGs (mkdng, 12-bit, the four Bayer layouts in turn): the 24
    photos of ../shared/data/kodak when present, else tests/data's four
    photos six times over (each with its own noise seed)."""
    out = tmp_path_factory.mktemp("library")
    photos = sorted(glob.glob(os.path.join(SHARED_KODAK, "kodim*.png")))[:24]
    if len(photos) < 24:
        print("\n(../shared/data/kodak not found: 24 DNGs from tests/data's four photos)")
        photos = [sorted(glob.glob(os.path.join(data_dir, "kodim*.png")))[i % 4] for i in range(24)]
    layouts = ["RGGB", "BGGR", "GRBG", "GBRG"]
    paths = []
    for i, photo in enumerate(photos):
        path = str(out / ("k%02d_%s.dng" % (i + 1, os.path.basename(photo)[:-4])))
        subprocess.run([sys.executable, os.path.join(tools_dir, "mkdng.py"), photo, path, "--cfa", layouts[i % 4],
                        "--bits", "12", "--noise", "0.001,0.00001", "--seed", str(100 + i)], check=True, capture_output=True)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def cli_batch(library, cli, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli_batch")
    subprocess.run([cli, "develop", *library, "-o", str(out) + "/", "--jobs", "2"], check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as c, \
            distributed.Client(c) as client:
        yield client


def _same_bytes(result, cli_batch):
    assert not result.errors
    assert all(result.outputs)
    for out in result.outputs:
        assert open(out, "rb").read() == (cli_batch / os.path.basename(out)).read_bytes(), out


def test_every_file_written_as_the_cli_writes_it(library, cli_batch, cluster, tmp_path):
    result = obscura.dask.develop_many(library, tmp_path / "out", client=cluster)
    assert len(result.outputs) == 24
    _same_bytes(result, cli_batch)


def test_a_killed_worker_loses_no_file(library, cli_batch, cluster, tmp_path):
    out = tmp_path / "out"
    pids = list(cluster.run(os.getpid).values())
    done = {}
    runner = threading.Thread(target=lambda: done.setdefault("r", obscura.dask.develop_many(library, out, client=cluster)))
    runner.start()
    # Once the first photo is written the workers are mid-run: one is killed.
    deadline = time.time() + 60
    while time.time() < deadline and not glob.glob(str(out / "*.jpg")):
        time.sleep(0.01)
    os.kill(pids[0], signal.SIGKILL)
    runner.join(timeout=300)
    assert not runner.is_alive()
    _same_bytes(done["r"], cli_batch)
    assert sorted(os.listdir(out)) == sorted(os.path.basename(o) for o in done["r"].outputs)  # no temporaries left


def test_bad_files_and_options(library, cluster, dngs, tmp_path):
    bad = os.path.join(dngs, "bad_ljpeg_bits.dng")
    result = obscura.dask.develop_many([library[0], bad], tmp_path / "o", client=cluster)
    assert result.outputs[0] and result.outputs[1] is None
    assert "bad_ljpeg_bits.dng" in result.errors[bad]
    with pytest.raises(ValueError, match="unknown look"):
        obscura.dask.develop_many(library[:1], tmp_path / "o2", client=cluster, look="nope")


def test_command_line(library, cli_batch, tmp_path):
    env = dict(os.environ)
    r = subprocess.run([sys.executable, "-m", "obscura.dask", *library[:3], "-o", str(tmp_path / "c")], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "3 of 3 developed" in r.stderr
    for p in library[:3]:
        name = os.path.basename(p)[:-4] + ".jpg"
        assert (tmp_path / "c" / name).read_bytes() == (cli_batch / name).read_bytes()
