import numpy as np
import pytest

from toolkit.music.classifier import CHANCE, HUMAN_RECOGNITION, TasteClassifier
from toolkit.music.features import FEATURES

CENTRES = {  # well-separated feature centres: (spectral_centroid, tempo, roughness)
    "sweet": (2500.0, 90.0, 0.01),
    "sour": (3500.0, 160.0, 0.05),
    "bitter": (900.0, 60.0, 0.04),
    "salty": (1800.0, 130.0, 0.02),
}


def pieces(per_taste, seed):
    rng = np.random.default_rng(seed)
    features, tastes = [], []
    for taste, (centroid, tempo, roughness) in CENTRES.items():
        for _ in range(per_taste):
            row = {name: float(rng.normal(0.0, 1.0)) for name in FEATURES}
            row["spectral_centroid"] = centroid + rng.normal(0, 100)
            row["tempo"] = tempo + rng.normal(0, 5)
            row["roughness"] = roughness + rng.normal(0, 0.002)
            features.append(row)
            tastes.append(taste)
    return features, tastes


def test_separable_features_are_recognised():
    train, test = pieces(20, seed=0), pieces(10, seed=1)
    model = TasteClassifier(seed=0).fit(*train)
    assert model.labels == ("sweet", "sour", "bitter", "salty")
    assert model.score(*test) >= 0.95
    assert set(model.predict(test[0])) <= set(model.labels)


def test_confusion_rows_are_shares_of_the_intended_taste():
    model = TasteClassifier().fit(*pieces(20, seed=0))
    features, tastes = pieces(10, seed=2)
    matrix, labels = model.confusion(features, tastes)
    assert labels == model.labels and matrix.shape == (4, 4)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    assert np.all(np.diag(matrix) >= 0.9)
    assert np.mean(np.diag(matrix)) == pytest.approx(model.score(features, tastes))


def test_confusion_row_without_pieces_is_nan():
    model = TasteClassifier().fit(*pieces(20, seed=0))
    features, tastes = pieces(5, seed=3)
    keep = [i for i, t in enumerate(tastes) if t != "salty"]
    matrix, labels = model.confusion([features[i] for i in keep], [tastes[i] for i in keep])
    salty = labels.index("salty")
    assert np.all(np.isnan(matrix[salty]))
    np.testing.assert_allclose(np.delete(matrix, salty, axis=0).sum(axis=1), 1.0)


def test_seeded_fit_is_deterministic():
    train, test = pieces(8, seed=4), pieces(8, seed=5)
    first = TasteClassifier(seed=3, C=0.1).fit(*train).predict(test[0])
    assert TasteClassifier(seed=3, C=0.1).fit(*train).predict(test[0]) == first


def test_errors():
    features, tastes = pieces(3, seed=0)
    with pytest.raises(ValueError, match="12 feature dicts but 11 tastes"):
        TasteClassifier().fit(features, tastes[:-1])
    with pytest.raises(ValueError, match="at least two distinct tastes"):
        TasteClassifier().fit(features[:3], tastes[:3])
    with pytest.raises(ValueError, match="unknown taste"):
        TasteClassifier().fit(features, ["spicy"] * len(features))
    with pytest.raises(ValueError, match="not fitted"):
        TasteClassifier().predict(features)
    with pytest.raises(ValueError, match="C must be > 0"):
        TasteClassifier(C=0)
    model = TasteClassifier().fit(features, tastes)
    with pytest.raises(ValueError, match="not among the fitted"):
        model.confusion(features[:1], ["umami"])
    with pytest.raises(ValueError, match="missing"):
        model.predict([{"tempo": 1.0}])


def test_human_baselines():
    assert HUMAN_RECOGNITION == {"sweet": 0.569, "bitter": 0.314}
    assert CHANCE == 0.25
    assert all(rate > CHANCE for rate in HUMAN_RECOGNITION.values())
