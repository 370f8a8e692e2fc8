"""Data for the agents: scikit-learn's handwritten digits split across agents, non-IID.

The digits ship inside scikit-learn (``sklearn.datasets.load_digits``, no download): 1,797
8 × 8 grey-level images of the digits 0–9, a copy of the test set of the UCI "Optical
Recognition of Handwritten Digits" data (Alpaydin & Kaynak, 1998; UCI Machine Learning
Repository, CC BY 4.0), distributed with scikit-learn under its BSD-3-Clause licence. Pixels are
scaled from 0–16 to ``[0, 1]``.

:func:`split_non_iid` gives every agent the same number of training samples with a skewed
label mix: a share ``label_skew`` of agent ``k``'s samples comes from its *home* class
``k mod C``, the rest is drawn from what is left of every class. The test set stays whole:
every agent's model is scored on the same held-out images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from toolkit._checks import check_int, check_number, check_probability, describe


@dataclass(frozen=True)
class AgentData:
    """Training data stacked over agents and one shared test set.

    ``x`` (``K × n × d``) and ``y`` (``K × n``, class indices) are agent ``k``'s ``n`` training
    samples in row ``k``; ``x_test`` (``N × d``) and ``y_test`` (``N``) are held out.
    """

    x: torch.Tensor
    y: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int

    def __post_init__(self) -> None:
        for name in ("x", "y", "x_test", "y_test"):
            if not isinstance(getattr(self, name), torch.Tensor):
                raise TypeError(
                    f"{name} must be a torch.Tensor, got {describe(getattr(self, name))}"
                )
        if self.x.dim() != 3 or self.y.shape != self.x.shape[:2]:
            raise ValueError(
                f"x must be K × n × d and y K × n, got {tuple(self.x.shape)} and "
                f"{tuple(self.y.shape)}"
            )
        if self.x_test.dim() != 2 or self.x_test.shape[1] != self.x.shape[2]:
            raise ValueError(
                f"x_test must be N × d with d = {self.x.shape[2]}, got {tuple(self.x_test.shape)}"
            )
        if self.y_test.shape != self.x_test.shape[:1]:
            raise ValueError(
                f"y_test must hold one label per row of x_test, got {tuple(self.y_test.shape)}"
            )
        check_int("n_classes", self.n_classes, minimum=2)

    @property
    def n_agents(self) -> int:
        """``K``."""
        return self.x.shape[0]

    @property
    def n_features(self) -> int:
        """``d``."""
        return self.x.shape[2]

    def label_counts(self) -> np.ndarray:
        """``K × C`` counts of each label in each agent's training data."""
        return np.stack([np.bincount(row, minlength=self.n_classes) for row in self.y.numpy()])


def split_non_iid(
    y: np.ndarray, n_agents: int, *, label_skew: float = 0.5, seed: int = 0
) -> np.ndarray:
    """``K × n`` indices into ``y``, ``n = len(y) // K`` per agent, disjoint.

    A share ``label_skew`` of agent ``k``'s indices has its home label ``k mod C`` (as far as
    that class lasts, shared with agents of the same home class); the rest is drawn at random
    from the samples left. ``label_skew = 0`` is an IID split.
    """
    y = np.asarray(y)
    n_agents = check_int("n_agents", n_agents, minimum=1)
    label_skew = check_probability("label_skew", label_skew)
    if n_agents > len(y):
        raise ValueError(
            f"n_agents ({n_agents}) is larger than the number of training samples ({len(y)}); "
            "each agent needs at least one: use fewer agents or more data"
        )
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    classes = np.unique(y)
    pools = {c: list(rng.permutation(np.flatnonzero(y == c))) for c in classes}
    n = len(y) // n_agents
    n_home = round(label_skew * n)
    rows = []
    for k in range(n_agents):
        pool = pools[classes[k % len(classes)]]
        rows.append([pool.pop() for _ in range(min(n_home, len(pool)))])
    rest = list(rng.permutation([i for pool in pools.values() for i in pool]))
    for row in rows:
        row.extend(rest.pop() for _ in range(n - len(row)))
    return np.array(rows)


def load_digits_agents(
    n_agents: int,
    *,
    label_skew: float = 0.5,
    test_fraction: float = 0.2,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> AgentData:
    """The digits, pixels in ``[0, 1]``, a stratified test split, the rest split non-IID.

    scikit-learn is imported here, not with the module: agent processes that only receive an
    :class:`AgentData` start two seconds sooner.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    test_fraction = check_number(
        "test_fraction", test_fraction, minimum=0.0, maximum=0.9, strict_min=True
    )
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data / 16.0,
        digits.target,
        test_size=test_fraction,
        stratify=digits.target,
        random_state=check_int("seed", seed, minimum=0),
    )
    index = split_non_iid(y_train, n_agents, label_skew=label_skew, seed=seed)
    return AgentData(
        x=torch.as_tensor(x_train[index], dtype=dtype),
        y=torch.as_tensor(y_train[index]),
        x_test=torch.as_tensor(x_test, dtype=dtype),
        y_test=torch.as_tensor(y_test),
        n_classes=10,
    )
