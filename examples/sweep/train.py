"""One trial of the sweep: logistic regression on a small synthetic data set, in plain Python.

Logs "loss" and "accuracy" once per epoch to the run it was submitted as (or prints them
when started with plain `python train.py`).
"""

from __future__ import annotations

import argparse
import math
import random

from runyard import OfflineRun, Run


def make_data(count: int = 200, seed: int = 0) -> list[tuple[float, float, int]]:
    """Points (x1, x2, label) around the line x1 + 0.5 x2 = 0, with some label noise."""
    rng = random.Random(seed)
    points = []
    for _ in range(count):
        x1, x2 = rng.uniform(-1, 1), rng.uniform(-1, 1)
        label = 1 if x1 + 0.5 * x2 + rng.gauss(0, 0.3) > 0 else 0
        points.append((x1, x2, label))
    return points


def sigmoid(z: float) -> float:
    """The logistic function, clamped so that a big learning rate cannot overflow it."""
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def train(lr: float, epochs: int, run: Run | OfflineRun) -> None:
    """Full-batch gradient descent; logs the epoch's loss and accuracy to `run`."""
    data = make_data()
    w1 = w2 = b = 0.0
    for _ in range(epochs):
        g1 = g2 = gb = loss = 0.0
        correct = 0
        for x1, x2, label in data:
            p = sigmoid(w1 * x1 + w2 * x2 + b)
            loss -= math.log(max(p, 1e-12)) if label else math.log(max(1.0 - p, 1e-12))
            correct += int((p >= 0.5) == bool(label))
            g1 += (p - label) * x1
            g2 += (p - label) * x2
            gb += p - label
        n = len(data)
        w1, w2, b = w1 - lr * g1 / n, w2 - lr * g2 / n, b - lr * gb / n
        run.log("loss", loss / n)
        run.log("accuracy", correct / n)


def main() -> None:
    """Parse --lr and --epochs and train."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate")
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    run = Run.get_context()
    train(args.lr, args.epochs, run)
    print(f"lr={args.lr} trained for {args.epochs} epochs")


if __name__ == "__main__":
    main()
