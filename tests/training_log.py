"""Reading the `training_log.csv` that `keras-attention train` writes."""

import csv


def logged_losses(out):
    """The per-epoch training losses logged in model folder `out`."""
    with open(out / "training_log.csv", newline="") as f:
        return [float(row["loss"]) for row in csv.DictReader(f)]
