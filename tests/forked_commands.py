"""Runs `keras-attention` commands without paying TensorFlow's import each time.

Every `keras-attention` command a user types starts a Python process that
imports TensorFlow, Keras and the package: about 5 s on a 2-core machine
before the command does anything. The docs test runs some 35 such commands.
`ForkedCommands` starts one server process that imports all of that once and
runs no TensorFlow op; for each command it forks a child (a fresh copy of
the server: no op has run, no thread started) that runs the command's `main`
with its own folder, arguments and output files, runs the exit handlers a
process runs when it ends (AutoGraph's delete the temporary files an export
writes), and reports the exit code.
A Python file runs the same way (`run_script`), as `python FILE` would.
A command that is not a plain `keras-attention ...` (pipes, `&&`,
environment variables) is not for it: `plain_command` says which are.
"""

import json
import os
import shlex
import subprocess
import sys

SHELL_SYNTAX = set("&|;<>$`()*?")

SERVER = r"""
import atexit, json, os, runpy, sys
import tensorflow, keras, keras_attention, keras_attention.runner  # the slow imports, once
from keras_attention_cli import main as cli

for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        os.chdir(request["cwd"])
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # the requests are not its input
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
        try:
            if "script" in request:  # a Python file, run as `python FILE` would
                sys.argv = [request["script"]]
                sys.path.insert(0, request["cwd"])
                runpy.run_path(request["script"], run_name="__main__")
                code = 0
            else:
                sys.argv = ["keras-attention", *request["argv"]]
                code = cli.main(request["argv"])
        except SystemExit as exit:
            code = exit.code
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 1
        sys.stdout.flush(), sys.stderr.flush()
        atexit._run_exitfuncs()  # as exiting would: AutoGraph deletes its temporary files
        os._exit(code if isinstance(code, int) else 1)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"code": os.waitstatus_to_exitcode(status)}), flush=True)
"""


def plain_command(command):
    """The arguments after `keras-attention` in `command`, or None when it
    is anything else or uses the shell (pipes, `&&`, variables, globs)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if not words or words[0] != "keras-attention":
        return None
    unquoted = shlex.split(command, posix=False)
    if any(SHELL_SYNTAX & set(word) for word in unquoted if word[:1] not in "'\""):
        return None
    return words[1:]


class ForkedCommands:
    """A server process (see the module docstring); `run(argv, cwd)` and
    `run_script(path, cwd)` return `(exit_code, stdout, stderr)`. Use it as
    a context manager."""

    def __init__(self, env):
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True,
        )  # fmt: skip

    def run(self, argv, cwd):
        """Runs `keras-attention ARGV` in `cwd`."""
        return self._request(cwd, argv=argv)

    def run_script(self, script, cwd):
        """Runs the Python file `script` in `cwd`, as `python SCRIPT` would
        (with the imports already done)."""
        return self._request(cwd, script=str(script))

    def _request(self, cwd, **what):
        out, err = os.path.join(cwd, ".command.out"), os.path.join(cwd, ".command.err")
        request = {**what, "cwd": str(cwd), "stdout": out, "stderr": err}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        reply = self.process.stdout.readline()
        if not reply:
            raise RuntimeError(f"the command server died running {what}")
        outputs = []
        for path in (out, err):
            with open(path, encoding="utf-8", errors="replace") as file:
                outputs.append(file.read())
            os.remove(path)
        return json.loads(reply)["code"], *outputs

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.process.stdin.close()
        self.process.wait(timeout=60)
