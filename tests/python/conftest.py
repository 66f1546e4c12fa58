"""Where the tests find the module, the CLI and the test DNGs (ctest sets
them: PYTHONPATH=build/python, OBSCURA_BIN, OBSCURA_TEST_DNGS)."""
import os
import shutil

import pytest


def _need(name):
    value = os.environ.get(name)
    if not value:
        pytest.skip("%s is not set: run the Python tests through ctest (make test)" % name)
    return value


@pytest.fixture(scope="session")
def dngs():
    return _need("OBSCURA_TEST_DNGS")


@pytest.fixture(scope="session")
def cli():
    return _need("OBSCURA_BIN")


@pytest.fixture(scope="session")
def data_dir():
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")


@pytest.fixture(scope="session")
def tools_dir():
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools")


@pytest.fixture
def work(tmp_path):
    return tmp_path


def have(program):
    return shutil.which(program) is not None
