import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.tensorflow_only
def test_quickstart_example_trains_and_plots(tmp_path):
    png = tmp_path / "attention.png"
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py"), "--epochs", "4",
         "--png", str(png)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = float(result.stdout.split("token accuracy on 500 test sequences:")[1].split()[0])
    assert accuracy > 0.9
    assert png.stat().st_size > 1000
