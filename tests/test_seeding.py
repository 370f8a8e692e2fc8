import random

import numpy as np
import pytest
import torch

from toolkit import seed_everything


def draw():
    return random.random(), float(np.random.rand()), torch.randn(3).tolist()


def test_same_seed_same_draws_different_seed_different_draws():
    seed_everything(7)
    first = draw()
    seed_everything(7)
    assert draw() == first
    seed_everything(8)
    assert draw() != first


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True, None])
def test_bad_seed_is_refused(bad):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(bad)
