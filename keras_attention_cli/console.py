"""What the command line shows on standard error.

TensorFlow's C++ code logs through absl before anything can configure it:
`TF_CPP_MIN_LOG_LEVEL` does not silence its start-up lines in TensorFlow 2.21
(`I0000 00:00:... cudart_stub.cc:31] Could not find cuda drivers ...`,
`cpu_feature_guard.cc`, `cuda_platform.cc: failed call to cuInit`, grappler's
`loop_optimizer.cc` warnings). `tensorflow_lines_hidden` drops those lines
from file descriptor 2 while a command runs, and lets everything else
through: Python's own output, warnings and tracebacks, and fatal (`F`) log
lines, which say why a process dies.
"""

import contextlib
import os
import re
import sys
import threading

_TENSORFLOW_LINE = re.compile(
    rb"^(?:[IWE]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w./-]+:\d+\] "
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|To enable the following instructions: )"
)


def is_tensorflow_line(line):
    """Whether `line` (bytes) is one of TensorFlow's C++ log lines that
    `tensorflow_lines_hidden` drops."""
    return bool(_TENSORFLOW_LINE.match(line))


@contextlib.contextmanager
def tensorflow_lines_hidden():
    """Standard error, less TensorFlow's C++ start-up and info lines, while
    the block runs (child processes included)."""
    sys.stderr.flush()
    original = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def forward():
        with os.fdopen(read_end, "rb") as pipe:
            for line in pipe:
                if not is_tensorflow_line(line):
                    os.write(original, line)

    forwarder = threading.Thread(target=forward, name="stderr-filter", daemon=True)
    forwarder.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(original, 2)  # the pipe's last write end closes: the forwarder ends
        forwarder.join(timeout=5)
        os.close(original)
