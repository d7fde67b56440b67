"""Runs the test suite once per Keras backend and prints one total.

Keras picks its backend when it is first imported, so each backend gets its
own pytest process. Tests marked `tensorflow_only` are skipped on JAX and
PyTorch. Extra arguments go to pytest, e.g. `-k masking` or `-x`; set
`BACKENDS=jax,torch` to run only some backends.

Each backend's tests run in parallel worker processes (pytest-xdist), one
per CPU core, at most 4, with the tests of one file kept in one worker so
that a file's shared fixtures (a trained model) are built once; set
`TEST_WORKERS=0` to run them in the pytest process itself.
"""

import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALL_BACKENDS = ("tensorflow", "jax", "torch")
DEFAULT_WORKERS = min(os.cpu_count() or 1, 4)


def run(backend, pytest_args, workers, report_dir):
    report = Path(report_dir) / f"{backend}.xml"
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-n",
        str(workers),
        "--dist",
        "loadfile",
        f"--junitxml={report}",
        *pytest_args,
    ]
    print(f"\n===== KERAS_BACKEND={backend}: {' '.join(command[1:])}", flush=True)
    start = time.monotonic()
    exit_code = subprocess.call(command, cwd=ROOT, env=env)
    seconds = time.monotonic() - start
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    file_seconds = {}
    if report.exists():
        suite = ElementTree.parse(report).getroot()
        suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
        total = int(suite.get("tests"))
        counts["failed"] = int(suite.get("failures")) + int(suite.get("errors"))
        counts["skipped"] = int(suite.get("skipped"))
        counts["passed"] = total - counts["failed"] - counts["skipped"]
        file_seconds = seconds_by_file(suite)
    elif exit_code != 0:
        counts["failed"] = 1  # pytest could not even start
    # Exit code 5 means no test was collected: a broken selection, not a pass.
    if exit_code not in (0, 1) and counts["failed"] == 0:
        counts["failed"] = 1
    return counts, seconds, file_seconds


def seconds_by_file(suite):
    """Seconds of each test file's tests, from a JUnit report's test cases
    (`classname` is the module, then the class if any)."""
    seconds = {}
    for case in suite.iter("testcase"):
        parts = case.get("classname", "").split(".")
        modules = [part for part in parts if part.endswith("_test")]
        name = "/".join(parts[: parts.index(modules[0]) + 1]) + ".py" if modules else "?"
        seconds[name] = seconds.get(name, 0.0) + float(case.get("time") or 0)
    return seconds


def slowest_files(results, count=8):
    """Lines naming the test files that took longest, summed over backends."""
    total = {}
    for _, _, file_seconds in results.values():
        for name, seconds in file_seconds.items():
            total[name] = total.get(name, 0.0) + seconds
    ranked = sorted(total.items(), key=lambda item: -item[1])[:count]
    return [f"{seconds:>7.0f} s  {name}" for name, seconds in ranked]


def main(argv):
    backends = os.environ.get("BACKENDS", ",".join(ALL_BACKENDS)).split(",")
    unknown = sorted(set(backends) - set(ALL_BACKENDS))
    if unknown:
        sys.exit(f"BACKENDS: unknown backend(s) {unknown}; choose from {ALL_BACKENDS}")
    workers = os.environ.get("TEST_WORKERS", str(DEFAULT_WORKERS))
    if not workers.isdigit():
        sys.exit(
            f"TEST_WORKERS: expected a whole number of worker processes (0: none), got {workers!r}"
        )
    pytest_args = argv or ["-q", "tests"]
    results = {}
    with tempfile.TemporaryDirectory() as report_dir:
        for backend in backends:
            results[backend] = run(backend, pytest_args, int(workers), report_dir)
    print("\nslowest test files (seconds of their tests, all backends):")
    print("\n".join(slowest_files(results)))
    print("\nbackend      passed  failed  skipped  seconds")
    for backend, (counts, seconds, _) in results.items():
        print(
            f"{backend:<12} {counts['passed']:>6}  {counts['failed']:>6}  "
            f"{counts['skipped']:>7}  {seconds:>7.0f}"
        )
    totals = {k: sum(c[k] for c, _, _ in results.values()) for k in ("passed", "failed", "skipped")}
    print(f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
    return 1 if totals["failed"] or not totals["passed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
