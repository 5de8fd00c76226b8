"""keras_feasible: gradient-free training of Keras models by projection onto constraint sets."""

import pathlib

import setuptools

HERE = pathlib.Path(__file__).parent

setuptools.setup(
    name="keras_feasible",
    version="0.1.0",
    description=(
        "Train Keras models without gradients: training as a feasibility problem solved by "
        "iterated projections (Douglas-Rachford, alternating projections and relatives)."
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    packages=setuptools.find_packages(include=["keras_feasible", "keras_feasible.*"]),
    package_data={"keras_feasible.datasets": ["data/*/*"]},
    python_requires=">=3.10",
    install_requires=[
        "tensorflow>=2.16",
        "keras>=3.0",
        "numpy",
        "tensorflow-datasets",
        "tensorboard",
        "absl-py",
    ],
    extras_require={
        "test": ["pytest", "pytest-xdist", "hypothesis", "scipy"],
        "mnist1d": ["mnist1d"],
        "plots": ["matplotlib"],
    },
)
