"""What the benchmarks share: a README recipe's `train` line, run with a
benchmark's own files, and a command's output kept in a log.

Imported by `benchmarks/g2p.py` and `benchmarks/translation.py` (run as
scripts, so this folder is first on the import path).
"""

import csv
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "keras_attention_cli"]


def recipe_train_line(section, readme=ROOT / "README.md"):
    """The one `keras-attention train --data` line of a README section
    (`"## Grapheme-to-phoneme (CMUdict)"`)."""
    text = Path(readme).read_text(encoding="utf-8")
    # The section ends at the next heading of any level (## or ###).
    body = re.split(r"\n#{2,6} ", text.split(section, 1)[1], maxsplit=1)[0]
    lines = [
        line.strip()
        for line in body.splitlines()
        if line.strip().startswith("keras-attention train --data")
    ]
    if len(lines) != 1:
        raise SystemExit(
            f"README.md: expected one 'keras-attention train --data' line in {section!r}, "
            f"found {len(lines)}"
        )
    return lines[0]


def with_files(line, data, dev, out, extra=()):
    """The recipe's arguments with this run's `--data`, `--dev` and `--out`."""
    args = shlex.split(line)[2:]  # after `keras-attention train`
    files = {"--data": str(data), "--dev": str(dev), "--out": str(out)}
    result, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in files:
            result += [arg, files[arg]]
            skip = True
        else:
            result.append(arg)
    return result + list(extra)


def run(command, log_path, env=None):
    """Runs `command`, its output into `log_path`; returns seconds."""
    print("$", " ".join(shlex.quote(str(part)) for part in command), flush=True)
    start = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        code = subprocess.call(
            [str(part) for part in command], stdout=log, stderr=subprocess.STDOUT, env=env
        )
    seconds = time.perf_counter() - start
    if code:
        raise SystemExit(f"failed ({code}); see {log_path}:\n" + Path(log_path).read_text()[-2000:])
    return seconds


def train_recipe(section, work, data, extra=()):
    """Runs the `train` line of a README section on `data`'s train.tsv and
    dev.tsv into `work/model`, its output into `work/train.log`.

    Returns:
        `(line, seconds, epochs)`: the line as written, the seconds the
        command took, and the rows of its `training_log.csv` (dicts).
    """
    model = Path(work) / "model"
    line = recipe_train_line(section)
    seconds = run(
        CLI + ["train", *with_files(line, data / "train.tsv", data / "dev.tsv", model, extra)],
        Path(work) / "train.log",
    )
    with open(model / "training_log.csv", encoding="utf-8") as log:
        return line, seconds, list(csv.DictReader(log))


def decode_at_beams(translator, pairs, beams=(1, 5)):
    """`training.evaluate` of `translator` on `(source, reference)` pairs at
    each beam width: `{beam: result}`, each result with `per_second`, the
    sources decoded a second."""
    from keras_attention import training

    results = {}
    for beam in beams:
        result = training.evaluate(translator, pairs, beam_width=beam)
        results[beam] = {**result, "per_second": len(result["sources"]) / result["seconds"]}
    return results


def serving_per_second(saved_model, sources, batch_size, rounds=1):
    """Sources a second through a SavedModel's `serving_default` signature
    (strings in), in batches of `batch_size`: the median of `rounds` passes
    over `sources`, after one untimed call that traces."""
    import statistics

    import tensorflow as tf

    serving = tf.saved_model.load(str(saved_model)).signatures["serving_default"]
    batches = [
        tf.constant(sources[start : start + batch_size])
        for start in range(0, len(sources), batch_size)
    ]
    serving(text=batches[0])
    passes = []
    for _ in range(rounds):
        start = time.perf_counter()
        for batch in batches:
            serving(text=batch)
        passes.append(time.perf_counter() - start)
    return len(sources) / statistics.median(passes)
