import subprocess
import sys

from keras_attention_cli.console import is_tensorflow_line

# A child process, as TensorFlow's C++ code would, writes to file descriptor
# 2 while the parent has the filter on.
FILTERED = r"""
import os, sys
from keras_attention_cli.console import tensorflow_lines_hidden
lines = [
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    b"I0000 00:00:1796115245.967006   10153 cudart_stub.cc:31] Could not find cuda drivers.\n",
    b"To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow.\n",
    b"E0000 00:00:1796115249.858262   10153 cuda_platform.cc:52] failed call to cuInit\n",
    b"W0000 00:00:1796115252.613697   10153 loop_optimizer.cc:934] Skipping loop optimization\n",
    b"a line of our own\n",
    b"E0000 00:00:1796115252.613697   10153 bfc_allocator.cc:1] an allocator error is kept\n",
    b"F0000 00:00:1796115252.613697   10153 tensor.cc:1] a fatal error says why we die\n",
]
with tensorflow_lines_hidden():
    for line in lines:
        os.write(2, line)
    print("printed by Python", file=sys.stderr)
print("after the block", file=sys.stderr)
"""


def test_tensorflow_log_lines_are_dropped_and_everything_else_kept():
    result = subprocess.run(
        [sys.executable, "-c", FILTERED], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        "a line of our own",
        "E0000 00:00:1796115252.613697   10153 bfc_allocator.cc:1] an allocator error is kept",
        "F0000 00:00:1796115252.613697   10153 tensor.cc:1] a fatal error says why we die",
        "printed by Python",
        "after the block",
    ]


def test_is_tensorflow_line_matches_only_the_log_line_format():
    assert is_tensorflow_line(b"I0000 00:00:1796115245.967006   10153 cudart_stub.cc:31] x")
    assert not is_tensorflow_line(b"I0000 is how the log lines begin")
    assert not is_tensorflow_line(b"keras-attention: error: x")


# The command dies (as a C++ abort would) while the filter is on: what it
# wrote last must still reach the terminal.
CRASHING = r"""
import os
from keras_attention_cli.console import tensorflow_lines_hidden
with tensorflow_lines_hidden():
    os.write(2, b"I0000 00:00:1796115245.967006   10153 cudart_stub.cc:31] start-up, dropped\n")
    os.write(2, b"E0000 00:00:1796115249.858262   10153 gpu_device.cc:9] a device error before "
                b"the crash\n")
    os.write(2, b"the last words\n")
    os.abort()
"""


def test_error_lines_written_just_before_a_crash_are_not_lost():
    result = subprocess.run(
        [sys.executable, "-c", CRASHING], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        "E0000 00:00:1796115249.858262   10153 gpu_device.cc:9] a device error before the crash",
        "the last words",
    ]


def test_a_traceback_after_the_start_up_lines_is_shown():
    script = FILTERED.replace(
        'print("printed by Python", file=sys.stderr)', 'raise RuntimeError("boom")'
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "RuntimeError: boom" in result.stderr and "cudart_stub" not in result.stderr
