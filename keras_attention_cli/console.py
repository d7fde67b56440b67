"""What the command line shows on standard error.

TensorFlow's C++ code logs through absl before anything can configure it:
`TF_CPP_MIN_LOG_LEVEL` does not silence its start-up lines in TensorFlow 2.21
(`I0000 00:00:... cudart_stub.cc:31] Could not find cuda drivers ...`,
`cpu_feature_guard.cc`, `cuda_platform.cc: failed call to cuInit`, oneDNN's
`util.cc` note on int64). `tensorflow_lines_hidden` drops TensorFlow's info
and warning lines and the error lines of those start-up sources from file
descriptor 2 while a command runs, and lets everything else through:
Python's own output, warnings and tracebacks, and every other error (`E`)
and fatal (`F`) line, which say what went wrong or why a process dies.

The filter runs in a process of its own, so that what a crashing command
wrote last still reaches the terminal.
"""

import contextlib
import os
import re
import signal
import subprocess
import sys

_LOG_LINE = re.compile(rb"^([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ ([\w./-]+):\d+\] ")
_START_UP_BANNERS = (
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    b"To enable the following instructions: ",
)
# The sources of TensorFlow's start-up error lines on a machine without a
# GPU, which say nothing about the command's work.
START_UP_ERROR_SOURCES = frozenset({b"cuda_platform.cc", b"cuda_executor.cc", b"util.cc"})


def is_tensorflow_line(line):
    """Whether `line` (bytes) is one of TensorFlow's C++ log lines that
    `tensorflow_lines_hidden` drops: an info or warning line, a start-up
    error line, or a start-up banner."""
    if line.startswith(_START_UP_BANNERS):
        return True
    match = _LOG_LINE.match(line)
    if match is None:
        return False
    severity, source = match.groups()
    return severity in b"IW" or (severity == b"E" and source in START_UP_ERROR_SOURCES)


def _forward(source, sink):
    """Copies lines from `source` to `sink` (binary files), less TensorFlow's."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the command's to handle
    for line in source:
        if not is_tensorflow_line(line):
            sink.write(line)
            sink.flush()


@contextlib.contextmanager
def tensorflow_lines_hidden():
    """Standard error, less TensorFlow's C++ start-up, info and warning
    lines, while the block runs (child processes included)."""
    sys.stderr.flush()
    original = os.dup(2)
    # The filter's standard error is the original one; its input, our fd 2.
    forwarder = subprocess.Popen(
        [sys.executable, "-m", "keras_attention_cli.console"],
        stdin=subprocess.PIPE,
        stderr=original,
    )
    os.dup2(forwarder.stdin.fileno(), 2)
    forwarder.stdin.close()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(original, 2)  # the pipe's last write end closes: the forwarder ends
        os.close(original)
        try:
            forwarder.wait(timeout=5)
        except subprocess.TimeoutExpired:  # a child process of the command still holds the pipe
            pass


if __name__ == "__main__":
    _forward(sys.stdin.buffer, sys.stderr.buffer)
