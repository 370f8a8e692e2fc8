"""Fixtures of the embodied tests: a fast stand-in for MiniLM."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest


def hashed_embed(texts):
    """A deterministic stand-in for MiniLM: one random unit vector per distinct text, so only
    identical texts are similar (cosine 1)."""
    out = []
    for text in texts:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
        v = np.random.default_rng(seed).standard_normal(384)
        out.append(v / np.linalg.norm(v))
    return np.array(out, dtype=np.float32)


@pytest.fixture
def fake_embed():
    return hashed_embed
