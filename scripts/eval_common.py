"""What the evaluation scripts share: where the test tools are, and scoring."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
PYTHON = "/usr/bin/python3"  # Debian's, with numpy, PIL and tifffile


def tool(name):
    """A test tool (mkdng.py, score.py): the project's copy, else ../shared/tools."""
    for base in (os.path.join(ROOT, "tests", "tools"), os.path.join(SHARED, "tools")):
        p = os.path.join(base, name)
        if os.path.exists(p):
            return p
    sys.exit("%s: %s not found in tests/tools or ../shared/tools" % (os.path.basename(sys.argv[0]), name))


def score(result, truth, region=None):
    """score.py's figures (cpsnr, ssim, de2000) for RESULT against TRUTH."""
    cmd = [PYTHON, tool("score.py"), result, truth, "--json"]
    if region:
        cmd += ["--region", ",".join(map(str, region))]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
