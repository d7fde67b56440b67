"""Ensemble members trained in child processes, `jobs` at a time.

A recurrent training step is a chain of small matmuls (the recurrent
one is batch by units); on a CPU a second thread buys little for them,
while a second core running another member buys nearly all it has. So
`TrainingConfig.jobs` trains that many members at once, each in a
process of its own (`python -m keras_attention.member_jobs`, not a fork
of the user's process) with `threads` intra-op threads. A child runs
what the runner runs for a member in its own process
(`Runner._train_member`): the same vocabularies, seed `seed + member`,
the same thread count, so the members are the same whatever `jobs`.

Each child writes its finished member, its training-log rows and its
stderr (TensorFlow's start-up lines, a failure's traceback) into the
run's backup folder; its printed lines come back to the runner's
`report`, each prefixed with the member's number. An interrupted run
(a failed child, Ctrl-C) stops the others; started again with the same
options (`jobs` may differ) it loads the finished members and resumes the
others from their epoch backups. TensorFlow-only, like the runner.
"""

import os
import pickle
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

import keras

from keras_attention_cli.files import atomic_folder

# A child's last printed lines, quoted when it fails.
_LAST_LINES = 20


def train_members(runner, vocabularies, members, kept, run):
    """Trains ensemble members `members` (numbers from 0) of `run` (a
    `runner.TrainingRun`), `run.options.jobs` at a time, each in a child
    process, and waits for all of them. Each saves its member into
    `runner.finished_member_folder` and its log rows into `runner.member_log`.

    Raises:
        RuntimeError: a child failed; the others are stopped, and the
            message quotes its last lines.
    """
    vocabularies_folder = Path(run.backup) / "vocabularies"
    atomic_folder(vocabularies_folder, vocabularies.save)
    jobs = run.options.jobs
    runner.report(
        f"training {len(members)} ensemble member(s) {jobs} at a time, each in a process of its "
        f"own with {run.options.threads} thread(s)" + _oversubscribed(jobs * run.options.threads)
    )
    waiting, running, lock = list(members), {}, threading.Lock()
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                member = waiting.pop(0)
                spec = {
                    "out": runner.out,
                    "vocabularies": vocabularies_folder,
                    "member": member,
                    "kept": kept,
                    "run": run,
                }
                running[member] = _Child(spec, runner.report, lock)
            time.sleep(0.2)
            for member, child in list(running.items()):
                status = child.process.poll()
                if status is None:
                    continue
                child.close()
                del running[member]
                if status:
                    raise RuntimeError(f"ensemble member {member + 1}'s {child.failure(status)}")
    finally:
        for child in running.values():
            child.process.kill()
            child.process.wait()
            child.close()


def child_command(spec_path):
    """The command line of the child that trains the member `spec_path` names."""
    return [sys.executable, "-m", "keras_attention.member_jobs", str(spec_path)]


class _Child:
    """One member's child process and the thread that passes its lines on."""

    def __init__(self, spec, report, lock):
        member = spec["member"]
        path = Path(spec["run"].backup) / f"member_{member + 1}_spec.pickle"
        with open(path, "wb") as file:
            pickle.dump(spec, file)
        package_parent = str(Path(__file__).resolve().parents[1])
        environment = dict(
            os.environ,
            KERAS_BACKEND=keras.backend.backend(),
            PYTHONUNBUFFERED="1",
            PYTHONPATH=os.pathsep.join(
                [package_parent, *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
        )
        # TensorFlow's start-up lines and a failure's traceback.
        self.stderr_path = path.with_name(f"member_{member + 1}_stderr.log")
        self.stderr = open(self.stderr_path, "w", encoding="utf-8")  # noqa: SIM115  (closed in close)
        self.process = subprocess.Popen(
            child_command(path),
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=environment,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self.last_lines = deque(maxlen=_LAST_LINES)
        self.reader = threading.Thread(
            target=self._pass_on, args=(f"member {member + 1} | ", report, lock), daemon=True
        )
        self.reader.start()

    def close(self):
        """Waits for the line reader; closes the stderr file."""
        self.reader.join()
        self.stderr.close()

    def failure(self, status):
        """The message of a child that ended with exit status `status`."""
        stderr = self.stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return (
            f"process failed (exit status {status}); the same command resumes the run. Its last "
            "lines:\n" + "\n".join([*self.last_lines, *stderr[-_LAST_LINES:]])
        )

    def _pass_on(self, prefix, report, lock):
        for line in self.process.stdout:
            line = line.rstrip("\n")
            self.last_lines.append(line)
            with lock:
                report(prefix + line)


def _oversubscribed(threads):
    """A warning clause when `threads` threads outnumber this process's cores."""
    from keras_attention.process_state import usable_cores

    cores = usable_cores()
    if threads <= cores:
        return ""
    return f" ({threads} threads on {cores} cores: slower than one per core)"


def _main(spec_path):
    """A child: trains the member `spec_path`'s pickle names."""
    with open(spec_path, "rb") as file:
        spec = pickle.load(file)
    run = spec["run"]
    from keras_attention.process_state import seeded
    from keras_attention.process_state import use_threads
    from keras_attention.runner import Runner
    from keras_attention.translator import Translator

    use_threads(run.options.threads)  # before TensorFlow runs an op
    runner = Runner(spec["out"], report=print)
    with seeded(run.options.seed, dtype_policy=run.options.precision):
        vocabularies = Translator.load(spec["vocabularies"])
        runner._train_member(vocabularies, spec["member"], spec["kept"], run)


if __name__ == "__main__":
    _main(sys.argv[1])
