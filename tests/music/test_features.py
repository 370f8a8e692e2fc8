import math

import numpy as np
import pytest

from toolkit.music.features import FEATURES, audio_features, feature_matrix

SR = 16000


def sine(freq, seconds=2.0, amplitude=0.5, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def clicks(rate, seconds=4.0, sr=SR):
    x = np.zeros(int(seconds * sr), dtype=np.float32)
    x[(np.arange(0, seconds, 1 / rate) * sr).astype(int)] = 0.8
    return x


def note(midi, seconds, sr=SR, harmonics=6):
    """A plucked harmonic tone: 5 ms attack, exponential decay, 20 ms release."""
    t = np.arange(int(seconds * sr)) / sr
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    envelope = np.exp(-3 * t) * np.minimum(1, t / 0.005) * np.minimum(1, (seconds - t) / 0.02)
    return envelope * sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, harmonics + 1))


def test_keys_are_the_features_and_values_are_finite_floats():
    features = audio_features(sine(440), SR)
    assert tuple(features) == FEATURES
    assert all(isinstance(v, float) and math.isfinite(v) for v in features.values())


@pytest.mark.parametrize("sr", [16000, 22050, 44100])
def test_a4_sine_has_pitch_69_and_centroid_440(sr):
    features = audio_features(sine(440, sr=sr), sr)
    assert features["pitch_mean"] == pytest.approx(69.0, abs=0.05)
    assert features["pitch_range"] < 0.1
    assert features["spectral_centroid"] == pytest.approx(440.0, rel=0.01)
    assert features["roughness"] < 1e-3
    assert 40.0 <= features["tempo"] <= 200.0


def test_higher_tone_has_higher_pitch_and_centroid():
    low, high = audio_features(sine(440), SR), audio_features(sine(880), SR)
    assert high["pitch_mean"] == pytest.approx(81.0, abs=0.05)
    assert high["spectral_centroid"] > 1.9 * low["spectral_centroid"]


@pytest.mark.parametrize(("rate", "bpm"), [(1.5, 90.0), (2.0, 120.0), (3.0, 180.0)])
def test_click_train_onset_rate_and_tempo(rate, bpm):
    features = audio_features(clicks(rate), SR)
    assert features["onset_rate"] == pytest.approx(rate, abs=0.05)
    assert features["tempo"] == pytest.approx(bpm, rel=0.03)


def test_clicks_faster_than_200_bpm_report_a_tempo_inside_the_range():
    features = audio_features(clicks(4.0), SR)  # 240 BPM is out of range; 120 is the pulse
    assert features["onset_rate"] == pytest.approx(4.0, abs=0.05)
    assert features["tempo"] == pytest.approx(120.0, rel=0.03)


def test_melody_onsets_and_pitch_statistics():
    midis = np.random.default_rng(0).integers(55, 68, 16)
    audio = 0.3 * np.concatenate([note(m, 0.25) for m in midis])
    features = audio_features(audio, SR)
    assert features["onset_rate"] == pytest.approx(4.0, abs=0.1)
    assert features["tempo"] == pytest.approx(120.0, rel=0.03)  # the 8th-note pulse: 240 → 120
    assert features["pitch_mean"] == pytest.approx(midis.mean(), abs=0.5)
    p10, p90 = np.percentile(midis, [10, 90])
    assert features["pitch_range"] == pytest.approx(p90 - p10, abs=1.0)


def test_minor_second_is_rougher_than_major_third_and_fifth():
    def dyad(semitones, tone):
        return tone(60) + tone(60 + semitones)

    for tone in (lambda m: sine(440 * 2 ** ((m - 69) / 12), amplitude=0.3), lambda m: note(m, 2)):
        rough = {iv: audio_features(dyad(iv, tone), SR)["roughness"] for iv in (1, 4, 7)}
        assert rough[1] > 2 * rough[4] > 0
        assert rough[4] > rough[7]


def test_roughness_does_not_depend_on_gain():
    chord = note(60, 2) + note(61, 2)
    assert audio_features(0.5 * chord, SR)["roughness"] == pytest.approx(
        audio_features(0.05 * chord, SR)["roughness"], rel=1e-6
    )


def test_loudness_is_rms_in_dbfs():
    assert audio_features(sine(440, amplitude=1.0), SR)["loudness"] == pytest.approx(
        -3.01, abs=0.01
    )
    quiet = audio_features(sine(440, amplitude=0.1), SR)["loudness"]
    loud = audio_features(sine(440, amplitude=0.2), SR)["loudness"]
    assert loud - quiet == pytest.approx(20 * math.log10(2), abs=1e-6)


@pytest.mark.parametrize(
    ("audio", "sr", "match"),
    [
        (np.array([], dtype=np.float32), SR, "empty"),
        (np.full(SR, np.nan), SR, "non-finite value nan at sample 0"),
        (np.concatenate([sine(440), [np.inf]]), SR, "non-finite value inf at sample"),
        (np.zeros((2, SR)), SR, "1-D"),
        (sine(440), 0, "sample_rate"),
        (sine(440), -16000, "sample_rate"),
        (sine(440)[:100], SR, "at least"),
        (np.zeros(SR, dtype=np.float32), SR, "silent"),
    ],
)
def test_bad_audio_raises(audio, sr, match):
    with pytest.raises(ValueError, match=match):
        audio_features(audio, sr)


@pytest.mark.parametrize(
    ("audio", "sr", "match"),
    [
        (sine(440), True, "sample_rate"),
        ((sine(440) * 32767).astype(np.int16), SR, "floating point"),
    ],
)
def test_wrong_types_raise_type_error(audio, sr, match):
    with pytest.raises(TypeError, match=match):
        audio_features(audio, sr)


def test_feature_matrix_orders_columns_and_ignores_extra_keys():
    rows = [
        dict(zip(FEATURES, range(len(FEATURES)), strict=True)),
        {**dict.fromkeys(FEATURES, 1.0), "x": 9},
    ]
    matrix = feature_matrix(rows)
    assert matrix.shape == (2, len(FEATURES))
    np.testing.assert_array_equal(matrix[0], np.arange(float(len(FEATURES))))
    np.testing.assert_array_equal(matrix[1], np.ones(len(FEATURES)))


def test_feature_matrix_errors():
    with pytest.raises(ValueError, match="at least one"):
        feature_matrix([])
    with pytest.raises(ValueError, match=r"dict 1 is missing \['tempo'\]"):
        good = dict.fromkeys(FEATURES, 1.0)
        feature_matrix([good, {k: v for k, v in good.items() if k != "tempo"}])
    with pytest.raises(ValueError, match="non-finite roughness"):
        feature_matrix([{**dict.fromkeys(FEATURES, 1.0), "roughness": math.nan}])


def test_staccato_sounds_for_less_of_the_time_than_legato():
    def melody(held):
        slots = [
            np.pad(note(m, 0.25 * held), (0, round(0.25 * (1 - held) * SR)))
            for m in (60, 62, 64, 65) * 3
        ]
        return 0.3 * np.concatenate(slots)

    legato, staccato = (audio_features(melody(h), SR)["sustain"] for h in (1.0, 0.3))
    assert legato > 0.9 and staccato < 0.5
    assert 0.0 <= staccato <= legato <= 1.0
