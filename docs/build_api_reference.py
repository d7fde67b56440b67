"""Builds the API reference from the docstrings into `site/` (pdoc).

Usage: python docs/build_api_reference.py [--out site]

It fails (exit status 1, one line per problem) when a public module, class,
function or method has no docstring, when a name in `keras_attention.__all__`
is missing from the pages, or when pdoc warns while rendering. The page of
`keras_attention_cli.main` carries the `--help` text of the command and of each
of its subcommands, taken from the parser itself, so it cannot drift from
the code.
"""

import argparse
import importlib
import inspect
import os
import pkgutil
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "keras_attention"
# The command line, documented beside the library.
COMMAND_PACKAGE = "keras_attention_cli"
# The checkout this script lives in is the one documented, installed or not
# (an editable install's import hook hides submodules from pkgutil).
sys.path.insert(0, str(ROOT))


def public_modules():
    """`keras_attention`, `keras_attention_cli` and every submodule of
    theirs whose dotted name has no `_` part."""
    names = []
    for top in (PACKAGE, COMMAND_PACKAGE):
        package = importlib.import_module(top)
        names += [top] + [
            info.name
            for info in pkgutil.walk_packages(package.__path__, prefix=f"{top}.")
            if not any(part.startswith("_") for part in info.name.split("."))
        ]
    return [importlib.import_module(name) for name in sorted(names)]


def missing_docstrings(modules):
    """`module.name` of every public object defined in `modules` without a docstring."""
    missing = []
    for module in modules:
        if not (module.__doc__ or "").strip():
            missing.append(module.__name__)
        for name, value in vars(module).items():
            if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
                continue
            if not (inspect.isclass(value) or inspect.isfunction(value)):
                continue
            if not inspect.getdoc(value):
                missing.append(f"{module.__name__}.{name}")
            if inspect.isclass(value):
                for member, attribute in vars(value).items():
                    function = getattr(attribute, "__func__", attribute)
                    if (
                        not member.startswith("_")
                        and inspect.isfunction(function)
                        and not _keras_api(value, member)
                        and not inspect.getdoc(getattr(value, member))
                    ):
                        missing.append(f"{module.__name__}.{name}.{member}")
    return missing


def _keras_api(cls, member):
    """Whether `member` overrides a method of a base class from outside the
    package (a Keras layer's `build`, `call`, `get_config`): its contract is
    Keras' own, and the class docstring says what it does here."""
    return any(
        member in vars(base)
        for base in cls.__mro__[1:]
        if not base.__module__.startswith(PACKAGE) and base is not object
    )


def command_line_help():
    """Markdown with the `--help` of `keras-attention` and of each subcommand."""
    from keras_attention_cli import main as cli

    parser = cli.build_parser()
    sections = [("keras-attention --help", parser.format_help())]
    for action in parser._subparsers._group_actions:  # argparse keeps subcommands only here
        for name, subparser in action.choices.items():
            sections.append((f"keras-attention {name} --help", subparser.format_help()))
    return "\n".join(
        f"\n## `{title}`\n\n```text\n{text.rstrip()}\n```\n" for title, text in sections
    )


def pdoc_specs(modules):
    """The modules to name to pdoc so that it writes a page for each of
    `modules` once: pdoc walks into a package's submodules itself, except
    where the package's `__all__` leaves them out."""
    return [
        module.__name__
        for module in modules
        if module.__name__ in (PACKAGE, COMMAND_PACKAGE)
        or hasattr(sys.modules[module.__name__.rpartition(".")[0]], "__all__")
    ]


def build(out):
    import pdoc
    import pdoc.render

    modules = public_modules()
    package = importlib.import_module(PACKAGE)
    for name in package.__all__:  # imported on first use: now, so that pdoc finds them
        getattr(package, name)
    problems = [f"no docstring: {name}" for name in missing_docstrings(modules)]
    cli = sys.modules[f"{COMMAND_PACKAGE}.main"]
    cli.__doc__ = f"{cli.__doc__.rstrip()}\n\n# Reference\n{command_line_help()}"
    pdoc.render.configure(docformat="google", footer_text=f"{PACKAGE} API reference")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdoc.pdoc(*pdoc_specs(modules), output_directory=Path(out))
    problems += [
        f"pdoc warned: {warning.message}"
        for warning in caught
        if "pdoc" in (warning.filename or "")
    ]
    problems += [
        f"no page: {module.__name__}"
        for module in modules
        if not (Path(out) / f"{module.__name__.replace('.', '/')}.html").exists()
    ]
    page = (Path(out) / f"{PACKAGE}.html").read_text(encoding="utf-8")
    problems += [
        f"not in the pages: {name}" for name in package.__all__ if f'id="{name}"' not in page
    ]
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", default=str(ROOT / "site"), help="folder to write the pages into (default: site/)"
    )
    args = parser.parse_args(argv)
    problems = build(args.out)
    for problem in problems:
        print(f"build_api_reference: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"API reference in {args.out}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
