"""Runs every command and code block of README.md and of the guides in
docs/, so that none of them can rot.

Each file's blocks run in order in one temporary folder (a later block uses
what an earlier one wrote), with the checkout's `examples`, `benchmarks` and
`docs` linked in. A `bash` block runs line by line (`\\` joins lines, `#`
starts a comment); a `python` block runs as a script of its own. Blocks
fenced otherwise (`text`, `json`) are outputs, data, or commands the page
says cannot run here.

What changes so that a block fits a test, and nothing else:
- A plain `keras-attention ...` command, and a `python` block, runs in a
  forked child of one process that imported TensorFlow and the package
  once (`tests/forked_commands.py`): the same `main` or script, without
  5 s of imports each; anything else runs in bash.
- `python3 -m venv .venv` and `pip install ...` links of a `&&` chain are
  dropped (the test runs in the environment they install; each extra they
  name must exist), and so is `.venv/bin/` (this interpreter's folder is
  first on `PATH`). The test command itself is not run here: it must equal
  `.ci/run`'s, which CI runs.
- A `train` or `demo` command that an earlier document ran word for word,
  on the same input files, gets a copy of that run's output folder.
- Training runs on tiny data for one epoch, with its flags as written:
  `--epochs N` becomes `--epochs 1` (`epochs=N` in Python), `data dates`
  writes 300/50/50 pairs, `data cmudict` reads a dictionary of 60 made-up
  words, `data bible` writes 300/30/30 made-up sentence pairs (CI has no
  SWORD modules, and the whole Bible is slow for a test), and `demo`
  trains on 300 pairs.
"""

import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.forked_commands import ForkedCommands
from tests.forked_commands import plain_command

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = ["README.md", *sorted(f"docs/{path.name}" for path in (ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)

pytestmark = [pytest.mark.tensorflow_only, pytest.mark.slow]


def code_blocks(text):
    """`(language, body)` of each fenced block of a Markdown text, in order."""
    return [(match.group(1), match.group(2)) for match in FENCE.finditer(text)]


def commands(body):
    """The commands of a bash block: continuation lines joined, comments
    and blank lines left out."""
    joined = re.sub(r" *\\\n\s*", " ", body)
    return [
        line.strip()
        for line in joined.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def extras():
    """The optional dependency groups `pyproject.toml` defines."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(pyproject["project"]["optional-dependencies"])


def ci_command():
    """The command `.ci/run` runs (its last line)."""
    return (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]


def runnable(command, tiny_dictionary):
    """`command` as the test runs it, or None when nothing of it is left to
    run (see the module docstring)."""
    if "tests/run_backends.py" in command:
        assert command == ci_command(), "the README's test command is not .ci/run's"
        return None
    links = []
    for link in command.split(" && "):
        if re.match(r"(\S*/)?python3? -m venv ", link):
            continue
        if re.match(r"(\S*/)?pip install ", link):
            for extra in re.findall(r"\.\[([\w,-]+)\]", link):
                assert set(extra.split(",")) <= extras(), f"{link}: no such extra"
            continue
        links.append(link)
    if not links:
        return None
    command = " && ".join(links).replace(".venv/bin/", "")
    command = re.sub(r"--epochs \d+", "--epochs 1", command)
    if "keras-attention data dates" in command:
        command += " --train-size 300 --dev-size 50 --test-size 50"
    if "keras-attention data cmudict" in command:
        command += f" --dictionary {tiny_dictionary}"
    if "keras-attention data bible" in command:
        out = re.search(r"--out (\S+)", command).group(1)
        command = f"{sys.executable} -c 'import tests.docs_test as t; t.write_toy_bible(\"{out}\")'"
    if re.search(r"keras-attention demo\b", command):
        command += " --train-size 300 --test-size 50 --epochs 1"
    return command


def write_tiny_dictionary(path):
    """A CMUdict-format file of 60 made-up words."""
    rng = random.Random(0)
    phones = ["AA", "AE", "AH", "B", "D", "EH", "IY", "K", "L", "N", "S", "T"]
    words = sorted(
        {"".join(rng.choice("abdeiklnst") for _ in range(rng.randint(3, 7))) for _ in range(60)}
    )
    lines = [f"{word} {' '.join(rng.choice(phones) for _ in range(len(word)))}" for word in words]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_toy_bible(folder):
    """train/dev/test.tsv of made-up Spanish-like sentences and their English."""
    from keras_attention_cli.tsv import write_splits
    from tests.toy_text import toy_sentences

    write_splits(
        folder,
        {"train": toy_sentences(300, 1), "dev": toy_sentences(30, 2), "test": toy_sentences(30, 3)},
    )


# The output folders of the `train` and `demo` commands run so far (the
# documents run one after another in one process): a command that another
# document repeats word for word, on input files of the same bytes (the
# README's G2P recipe and demo, which docs/g2p.md and docs/serving.md show
# too), gets a copy of what it wrote (kept under `.trained` in the first
# document's folder) instead of training again.
TRAINED = {}
DEFAULT_OUT = {"demo": "demo_output"}


def trained_before(argv, folder):
    """`(key, output folder)` of a `train` or `demo` command's run (`argv`
    after `keras-attention`) in `folder`, or None for other commands. The
    key is the arguments and the bytes of the files they name."""
    if not argv or argv[0] not in ("train", "demo") or "--help" in argv:
        return None
    out = argv[argv.index("--out") + 1] if "--out" in argv else DEFAULT_OUT.get(argv[0])
    if out is None:  # an error `train` reports without training
        return None
    inputs = [(folder / arg).read_bytes() for arg in argv if (folder / arg).is_file()]
    return (tuple(argv), hashlib.sha256(b"\0".join(inputs)).hexdigest()), folder / out


def run(command, folder, env, forked=None, script=None):
    """Runs `command` in `folder`; a plain `keras-attention` command, or the
    Python file `script`, in a child of `forked` (a `ForkedCommands`), if
    given, else in bash."""
    argv = plain_command(command) if forked is not None else None
    trained = trained_before(argv, folder)
    if trained is not None and trained[0] in TRAINED:
        shutil.copytree(TRAINED[trained[0]], trained[1])
        return
    if script is not None and forked is not None:
        code, stdout, stderr = forked.run_script(script, folder)
    elif argv is not None:
        code, stdout, stderr = forked.run(argv, folder)
    else:
        result = subprocess.run(
            command, shell=True, executable="/bin/bash", cwd=folder, env=env,
            capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        code, stdout, stderr = result.returncode, result.stdout, result.stderr
    assert code == 0, f"{command}\n{stdout[-2000:]}\n{stderr[-4000:]}"
    if trained is not None:  # as it is now: a later command may add to it
        TRAINED[trained[0]] = shutil.copytree(trained[1], folder / ".trained" / str(len(TRAINED)))


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_command_and_code_block_runs(document, tmp_path):
    text = (ROOT / document).read_text(encoding="utf-8")
    for name in ("examples", "benchmarks", "docs"):
        (tmp_path / name).symlink_to(ROOT / name)
    tiny_dictionary = tmp_path / "tiny_cmudict.dict"
    write_tiny_dictionary(tiny_dictionary)
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        KERAS_BACKEND="tensorflow",
        PYTHONPATH=str(ROOT),
    )
    ran = 0
    with ForkedCommands(env) as forked:
        for language, body in code_blocks(text):
            if language == "bash":
                for command in commands(body):
                    command = runnable(command, tiny_dictionary)
                    if command is not None:
                        run(command, tmp_path, env, forked)
                        ran += 1
            elif language == "python":
                source = re.sub(r"\bepochs=\d+", "epochs=1", body)
                (tmp_path / "block.py").write_text(source, encoding="utf-8")
                run(f"{sys.executable} block.py", tmp_path, env, forked, script="block.py")
                ran += 1
    blocks = [language for language, _ in code_blocks(text) if language in ("bash", "python")]
    assert ran >= len(blocks), f"{document}: {len(blocks)} code blocks, {ran} ran"


def test_the_rules_change_only_what_they_say(tmp_path):
    tiny = tmp_path / "d.dict"
    assert runnable(ci_command(), tiny) is None
    assert runnable(".venv/bin/pip install -e .", tiny) is None
    with pytest.raises(AssertionError, match="no such extra"):
        runnable('.venv/bin/pip install -e ".[nonesuch]"', tiny)
    assert (
        runnable(
            "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/keras-attention demo",
            tiny,
        )
        == "keras-attention demo --train-size 300 --test-size 50 --epochs 1"
    )
    assert (
        runnable("keras-attention train --data a.tsv --out m --epochs 40 --units 512", tiny)
        == "keras-attention train --data a.tsv --out m --epochs 1 --units 512"
    )
    assert commands("a \\\n  b\n# c\n\nd\n") == ["a b", "d"]
    assert 'write_toy_bible("bible_data")' in runnable(
        "keras-attention data bible --out bible_data", tiny
    )


def test_plain_commands_run_forked_and_the_rest_in_bash(tmp_path):
    assert plain_command('keras-attention translate --model m "9/27/94" \'a b\'') == [
        "translate", "--model", "m", "9/27/94", "a b",
    ]  # fmt: skip
    for command in (
        "printf 'x' | keras-attention translate --model m",
        "KERAS_BACKEND=jax keras-attention train --data a.tsv --out m",
        "keras-attention evaluate --model m --data *.tsv",
        "keras-attention demo && ls",
        "python -c 'print(1)'",
    ):
        assert plain_command(command) is None, command
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with ForkedCommands(env) as forked:
        code, stdout, stderr = forked.run(["translate", "--model", "nowhere", "x"], tmp_path)
        assert code == 2 and "nowhere" in stderr
        code, stdout, _ = forked.run(["data", "dates", "--out", "d", "--train-size", "5",
                                      "--dev-size", "2", "--test-size", "2"], tmp_path)  # fmt: skip
        assert code == 0 and "d/train.tsv: 5 pairs" in stdout
        (tmp_path / "block.py").write_text("import sys\nprint(sys.argv)\nraise SystemExit(3)\n")
        assert forked.run_script("block.py", tmp_path)[:2] == (3, "['block.py']\n")
        (tmp_path / "block.py").write_text(
            "import keras_attention\nraise ValueError('in a block')\n"
        )
        code, _, stderr = forked.run_script("block.py", tmp_path)
        assert code == 1 and "ValueError: in a block" in stderr
        # A child exits as a process would: its exit handlers run (AutoGraph's
        # delete the temporary files a SavedModel export writes).
        (tmp_path / "block.py").write_text(
            "import atexit, pathlib\natexit.register(pathlib.Path('exited').touch)\n"
        )
        assert forked.run_script("block.py", tmp_path)[0] == 0
        assert (tmp_path / "exited").is_file()
    assert (tmp_path / "d" / "train.tsv").is_file()


def test_a_repeated_training_command_is_copied_only_on_the_same_input_bytes(tmp_path):
    (tmp_path / "a.tsv").write_text("x\ty\n")
    argv = ["train", "--data", "a.tsv", "--out", "m", "--epochs", "1"]
    key, out = trained_before(argv, tmp_path)
    assert out == tmp_path / "m" and key[0] == tuple(argv)
    assert trained_before(argv, tmp_path)[0] == key
    (tmp_path / "a.tsv").write_text("x\tz\n")
    assert trained_before(argv, tmp_path)[0] != key
    assert trained_before(["demo"], tmp_path)[1] == tmp_path / "demo_output"
    assert trained_before(["evaluate", "--model", "m", "--data", "a.tsv"], tmp_path) is None
    assert trained_before(None, tmp_path) is None
    assert trained_before(["train", "--help"], tmp_path) is None
    assert trained_before(["train", "--data", "a.tsv"], tmp_path) is None
