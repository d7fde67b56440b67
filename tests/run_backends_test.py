"""The suite runner's report: seconds by test file from a JUnit report."""

import xml.etree.ElementTree as ElementTree

from tests.run_backends import seconds_by_file
from tests.run_backends import slowest_files

REPORT = """<testsuite tests="4" failures="0" errors="0" skipped="0">
  <testcase classname="tests.cli_test" name="test_a" time="2.5"/>
  <testcase classname="tests.cli_test" name="test_b" time="1.0"/>
  <testcase classname="tests.layers.attention_test.TestMasks" name="test_c" time="0.25"/>
  <testcase classname="tests.layers.attention_test" name="test_d" time=""/>
</testsuite>"""


def test_seconds_are_summed_by_file_whatever_the_class():
    seconds = seconds_by_file(ElementTree.fromstring(REPORT))
    assert seconds == {"tests/cli_test.py": 3.5, "tests/layers/attention_test.py": 0.25}


def test_the_slowest_files_add_up_the_backends_and_come_first():
    results = {
        "tensorflow": ({}, 10.0, {"tests/a_test.py": 1.0, "tests/b_test.py": 5.0}),
        "jax": ({}, 4.0, {"tests/a_test.py": 3.0}),
    }
    assert slowest_files(results, count=1) == ["      5 s  tests/b_test.py"]
    assert [line.split()[-1] for line in slowest_files(results)] == [
        "tests/b_test.py",
        "tests/a_test.py",
    ]
