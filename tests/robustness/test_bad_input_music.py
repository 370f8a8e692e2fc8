"""Bad input at the taste → music entry points: a clear TypeError / ValueError naming the
argument, never a silent wrong result, a crash deep inside, or a corrupted file or model."""

import math
import wave

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.music import listening, musicgen, study
from toolkit.music.classifier import TasteClassifier
from toolkit.music.composer import MAX_BARS, compose
from toolkit.music.features import FEATURES, audio_features, feature_matrix
from toolkit.music.mapping import params_from_taste
from toolkit.music.params import RANGES, MusicParams
from toolkit.music.synth import read_wav, render, write_wav
from toolkit.music.taste import TASTES, TasteProfile
from toolkit.music.text import (
    CUE_WORDS,
    describe,
    musical_cues,
    negated_tastes,
    text_to_params,
    text_to_taste,
)

FAST = settings(max_examples=25, deadline=None)
SR = 8000
PIECE = compose(MusicParams(), bars=1)
HEADER = ",".join(listening.RATINGS_COLUMNS)
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


def tone(seconds=1.0):
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


# --- MusicParams and TasteProfile --------------------------------------------------------


@FAST
@given(field=st.sampled_from(sorted(RANGES)), value=NON_FINITE)
def test_music_params_refuse_non_finite_numbers(field, value):
    with pytest.raises(ValueError, match=field):
        MusicParams(**{field: value})


@FAST
@given(field=st.sampled_from(sorted(RANGES)), excess=st.floats(1e-3, 1e6))
def test_music_params_refuse_out_of_range(field, excess):
    lo, hi = RANGES[field]
    for value in (lo - excess, hi + excess):
        with pytest.raises(ValueError, match=field):
            MusicParams(**{field: value})


@pytest.mark.parametrize("value", ["fast", None, True, [100]])
def test_music_params_refuse_non_numbers(value):
    with pytest.raises(TypeError, match="tempo_bpm"):
        MusicParams(tempo_bpm=value)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"mode": "dorian"}, ValueError, "mode"),
        ({"mode": None}, TypeError, "mode"),
        ({"instrument": "kazoo"}, ValueError, "instrument"),
        ({"instrument": 3}, TypeError, "instrument"),
    ],
)
def test_music_params_refuse_bad_categories(kwargs, error, match):
    with pytest.raises(error, match=match):
        MusicParams(**kwargs)


def test_music_params_accept_numpy_numbers_and_round_the_pitch():
    params = MusicParams(pitch_center=np.int64(60), tempo_bpm=np.float32(90.0))
    assert params.pitch_center == 60 and params.tempo_bpm == 90.0
    assert MusicParams(pitch_center=60.4).pitch_center == 60
    with pytest.raises(ValueError, match="unknown parameter.*tempo"):
        MusicParams().with_overrides(tempo=90)


@FAST
@given(taste=st.sampled_from(TASTES), value=st.one_of(NON_FINITE, st.floats(1.0001, 1e9)))
def test_taste_profile_refuses_bad_intensities(taste, value):
    for bad in (value, -value):
        with pytest.raises(ValueError, match=taste):
            TasteProfile(**{taste: bad})


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: TasteProfile(sweet="1"), TypeError, "sweet"),
        (lambda: TasteProfile.pure("spicy"), ValueError, "taste"),
        (lambda: TasteProfile.pure(None), TypeError, "taste"),
        (lambda: TasteProfile.from_dict(None), TypeError, "values"),
        (lambda: TasteProfile.from_dict({1: 0.5, "x": 0.1}), ValueError, "unknown taste"),
        (lambda: TasteProfile().blend({"sweet": 1.0}, 0.5), TypeError, "other"),
        (lambda: TasteProfile().blend(TasteProfile(), "0.5"), TypeError, "blend weight"),
        (lambda: TasteProfile().blend(TasteProfile(), math.nan), ValueError, "blend weight"),
        (lambda: params_from_taste(None), TypeError, "profile"),
        (lambda: params_from_taste({"sweet": math.nan}), ValueError, "sweet"),
        (lambda: params_from_taste({"spicy": 1.0}), ValueError, "spicy"),
    ],
)
def test_taste_profile_entry_points(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- compose, render, wav files ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"bars": 2.5}, TypeError, "bars"),
        ({"bars": "4"}, TypeError, "bars"),
        ({"bars": True}, TypeError, "bars"),
        ({"bars": 0}, ValueError, "bars"),
        ({"bars": MAX_BARS + 1}, ValueError, "bars"),
        ({"beats_per_bar": 0}, ValueError, "beats_per_bar"),
        ({"beats_per_bar": 100}, ValueError, "beats_per_bar"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"seed": None}, TypeError, "seed"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_compose_refuses_bad_lengths_and_seeds(kwargs, error, match):
    with pytest.raises(error, match=match):
        compose(MusicParams(), **kwargs)


@pytest.mark.parametrize("params", [TasteProfile(sweet=1.0), {"tempo_bpm": 90}, None])
def test_compose_wants_music_params(params):
    with pytest.raises(TypeError, match="params_from_taste"):
        compose(params)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: PIECE.piano_roll(0), ValueError, "fs"),
        (lambda: PIECE.piano_roll(-5), ValueError, "fs"),
        (lambda: PIECE.piano_roll(math.nan), ValueError, "fs"),
        (lambda: PIECE.voice("drums"), ValueError, "voice"),
        (lambda: render(None), TypeError, "piece"),
        (lambda: render(PIECE, sample_rate=22050.5), TypeError, "sample_rate"),
        (lambda: render(PIECE, sample_rate="22050"), TypeError, "sample_rate"),
        (lambda: render(PIECE, sample_rate=None), TypeError, "sample_rate"),
        (lambda: render(PIECE, sample_rate=500), ValueError, "sample_rate"),
        (lambda: render(PIECE, sample_rate=10**7), ValueError, "sample_rate"),
        (lambda: render(PIECE, backend="midi"), ValueError, "backend"),
        (lambda: render(PIECE, backend=None), TypeError, "backend"),
    ],
)
def test_piece_and_render_entry_points(call, error, match):
    with pytest.raises(error, match=match):
        call()


@FAST
@given(index=st.integers(0, SR - 1), value=NON_FINITE)
def test_write_wav_names_the_non_finite_sample_and_writes_nothing(tmp_path_factory, index, value):
    path = tmp_path_factory.mktemp("wav") / "out.wav"
    audio = tone()
    audio[index] = value
    with pytest.raises(ValueError, match=f"at sample {index}"):
        write_wav(audio, path, SR)
    assert list(path.parent.iterdir()) == []


@pytest.mark.parametrize(
    ("audio", "sample_rate", "error", "match"),
    [
        (np.stack([tone(), tone()]), SR, ValueError, "audio.T"),
        (np.zeros((SR, 3)), SR, ValueError, "shape"),
        (np.zeros((1, 1, SR)), SR, ValueError, "shape"),
        (np.array([], dtype=np.float32), SR, ValueError, "empty"),
        ((tone() * 32767).astype(np.int16), SR, TypeError, "32768"),
        (tone().astype(complex), SR, TypeError, "floating point"),
        (None, SR, TypeError, "audio"),
        ("abc", SR, TypeError, "audio"),
        (tone(), 0, ValueError, "sample_rate"),
        (tone(), -1, ValueError, "sample_rate"),
        (tone(), 8000.5, TypeError, "sample_rate"),
        (tone(), None, TypeError, "sample_rate"),
        (tone(), math.nan, TypeError, "sample_rate"),
    ],
)
def test_write_wav_refuses_before_touching_the_file(tmp_path, audio, sample_rate, error, match):
    path = tmp_path / "kept.wav"
    write_wav(tone(0.1), path, SR)
    before = path.read_bytes()
    with pytest.raises(error, match=match):
        write_wav(audio, path, sample_rate)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["kept.wav"]
    with pytest.raises(error, match=match):
        write_wav(audio, tmp_path / "new.wav", sample_rate)
    assert not (tmp_path / "new.wav").exists()


def test_write_wav_stereo_round_trips(tmp_path):
    stereo = np.stack([tone(), -tone()], axis=1)
    path = write_wav(stereo, tmp_path / "s.wav", SR)
    with wave.open(str(path)) as f:
        assert (f.getnchannels(), f.getnframes()) == (2, SR)
    mono, rate = read_wav(path)
    assert rate == SR and np.allclose(mono, 0.0, atol=1e-4)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda d: write_wav(tone(), None, SR), TypeError, "path"),
        (lambda d: write_wav(tone(), d / "missing" / "x.wav", SR), FileNotFoundError, "missing"),
        (lambda d: read_wav(None), TypeError, "path"),
        (lambda d: read_wav(d / "absent.wav"), FileNotFoundError, "absent"),
        (lambda d: read_wav(d / "garbage.wav"), ValueError, "garbage.wav.*not a PCM wav"),
        (lambda d: read_wav(d / "empty.wav"), ValueError, "empty.wav.*not a PCM wav"),
    ],
)
def test_wav_paths(tmp_path, call, error, match):
    (tmp_path / "garbage.wav").write_text("hello")
    (tmp_path / "empty.wav").write_text("")
    with pytest.raises(error, match=match):
        call(tmp_path)


# --- features and classifier -------------------------------------------------------------


@pytest.mark.parametrize(
    ("audio", "sample_rate", "error", "match"),
    [
        (tone(), "8000", TypeError, "sample_rate"),
        (tone(), math.inf, ValueError, "sample_rate"),
        (None, SR, TypeError, "audio"),
        (np.arange(SR), SR, TypeError, "floating point"),
    ],
)
def test_audio_features_bad_input(audio, sample_rate, error, match):
    with pytest.raises(error, match=match):
        audio_features(audio, sample_rate)


@FAST
@given(index=st.integers(0, SR - 1), value=NON_FINITE)
def test_audio_features_names_the_non_finite_sample(index, value):
    audio = tone()
    audio[index] = value
    with pytest.raises(ValueError, match=f"sample {index}"):
        audio_features(audio, SR)


ROW = dict.fromkeys(FEATURES, 1.0)


@pytest.mark.parametrize(
    ("rows", "error", "match"),
    [
        (None, TypeError, "rows"),
        (ROW, TypeError, "rows"),
        ([ROW, None], TypeError, "feature dict 1"),
        ([ROW, {**ROW, "tempo": "fast"}], TypeError, "feature dict 1 .*tempo"),
        ([{**ROW, "loudness": math.nan}], ValueError, "loudness"),
    ],
)
def test_feature_matrix_bad_rows(rows, error, match):
    with pytest.raises(error, match=match):
        feature_matrix(rows)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"C": "1"}, TypeError, "C"),
        ({"C": math.nan}, ValueError, "C"),
        ({"C": 0}, ValueError, "C"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_classifier_constructor(kwargs, error, match):
    with pytest.raises(error, match=match):
        TasteClassifier(**kwargs)


def test_a_failed_fit_keeps_the_fitted_model():
    rng = np.random.default_rng(0)
    rows = [dict(zip(FEATURES, rng.normal(size=len(FEATURES)), strict=True)) for _ in range(8)]
    tastes = ["sweet", "bitter"] * 4
    model = TasteClassifier().fit(rows, tastes)
    before = model.predict(rows)
    with pytest.raises(TypeError, match="tastes"):
        model.fit(rows, "sweetbitter")
    with pytest.raises(ValueError, match=r"tastes\[3\]"):
        model.fit(rows, ["sweet", "bitter", "sweet", "spicy"] * 2)
    with pytest.raises(TypeError, match="feature dict 2"):
        model.fit([*rows[:2], {**rows[2], "tempo": None}, *rows[3:]], tastes)
    assert model.predict(rows) == before


# --- text --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, 123, b"slow", ["slow"]])
@pytest.mark.parametrize("entry", [musical_cues, text_to_taste, text_to_params, negated_tastes])
def test_text_entry_points_want_a_str(entry, text):
    with pytest.raises(TypeError, match="text"):
        entry(text)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: text_to_taste("sweet", encoder="minilm"), TypeError, "encoder"),
        (lambda: text_to_params("", base="mapping"), TypeError, "base"),
        (lambda: describe(None, MusicParams()), TypeError, "profile"),
        (lambda: describe(TasteProfile(), {"tempo_bpm": 90}), TypeError, "params"),
    ],
)
def test_text_other_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


@FAST
@given(text=st.text(max_size=200))
def test_musical_cues_of_any_text_are_valid_overrides(text):
    MusicParams().with_overrides(**musical_cues(text))


CUES = sorted({w for table in CUE_WORDS.values() for words in table.values() for w in words})


@FAST
@given(
    word=st.sampled_from(CUES),
    frame=st.sampled_from(
        [
            "not {}",
            "not {} at all",
            "never {}",
            "without {}",
            "no {}",
            "isn't {}",
            "don't make it {}",
            "it isn\u2019t {}",
            "NOT {}!",
        ]
    ),
)
def test_negated_cues_set_nothing(word, frame):
    assert musical_cues(frame.format(word)) == {}


@FAST
@given(taste=st.sampled_from(TASTES), frame=st.sampled_from(["not {} at all", "never {}"]))
def test_a_negated_taste_word_is_negated(taste, frame):
    assert negated_tastes(frame.format(taste)) == {taste}
    assert negated_tastes(f"{frame.format(taste)}, but {taste} after all") == set()


def test_text_to_taste_gives_a_negated_taste_zero_weight():
    assert text_to_taste("not sweet at all").sweet == 0.0


# --- listening statistics ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((3, "sweet", "sweet", 5), TypeError, "listener"),
        (("  ", "sweet", "sweet", 5), ValueError, "listener"),
        (("a", None, "sweet", 5), TypeError, "prompt_taste"),
        (("a", "sweet", "spicy", 5), ValueError, "rated_taste"),
        (("a", "sweet", "sweet", "5"), TypeError, "score"),
        (("a", "sweet", "sweet", None), TypeError, "score"),
    ],
)
def test_rating_fields(args, error, match):
    with pytest.raises(error, match=match):
        listening.Rating(*args)


@FAST
@given(score=st.one_of(NON_FINITE, st.floats(10.0001, 1e9), st.floats(-1e9, -0.0001)))
def test_rating_scores_off_the_scale(score):
    with pytest.raises(ValueError, match="score"):
        listening.Rating("a", "sweet", "sweet", score)


@pytest.mark.parametrize(
    ("lines", "match"),
    [
        ([], "empty file"),
        ([HEADER], "no ratings"),
        (
            ["listener,prompt_taste,score", "a,sweet,5"],
            r":1: missing column\(s\) \['rated_taste'\]",
        ),
        ([HEADER + ",score", "a,sweet,sweet,5,9"], r":1: column\(s\) \['score'\] appear more"),
        ([HEADER, "a,sweet,sweet,5,9"], ":2: 5 values but the header has 4 columns"),
        ([HEADER, "a,sweet,sweet,5", "b,sweet,sweet,nan"], r":3: score must be in \[0, 10\]"),
        ([HEADER, "a,sweet,sweet,5", "b,sweet,sweet,11"], r":3: score must be in \[0, 10\]"),
        ([HEADER, "a,sweet,sweet,inf"], r":2: score must be in \[0, 10\]"),
        ([HEADER, "a,sweet,sweet,seven"], ":2: score 'seven' is not a number"),
        ([HEADER, "a,sweet,spicy,5"], ":2: rated_taste"),
        ([HEADER, "a,sweet"], r":2: missing value\(s\) for \['rated_taste', 'score'\]"),
    ],
)
def test_read_ratings_names_line_and_column(tmp_path, lines, match):
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    with pytest.raises(ValueError, match=match):
        listening.read_ratings(path)


def test_read_ratings_file_problems(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes(f"{HEADER}\nJos\xe9,sweet,sweet,5\n".encode("latin-1"))
    with pytest.raises(ValueError, match="latin.csv: not UTF-8"):
        listening.read_ratings(latin)
    with pytest.raises(TypeError, match="path"):
        listening.read_ratings(None)
    with pytest.raises(TypeError, match="path"):
        listening.write_template(None)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_listeners": 2.0}, TypeError, "n_listeners"),
        ({"n_listeners": 10**9}, ValueError, "n_listeners"),
        ({"n_listeners": 2, "seed": 1.5}, TypeError, "seed"),
        ({"n_listeners": 2, "noise_sd": "1"}, TypeError, "noise_sd"),
        ({"n_listeners": 2, "noise_sd": math.inf}, ValueError, "noise_sd"),
        ({"n_listeners": 2, "noise_sd": math.nan}, ValueError, "noise_sd"),
        ({"n_listeners": 2, "effect": {"sweet": math.nan}}, ValueError, "effect"),
        ({"n_listeners": 2, "effect": {"sweet": "x"}}, TypeError, "effect"),
        ({"n_listeners": 2, "effect": 1.0}, TypeError, "effect"),
        ({"n_listeners": 2, "tastes": "sweet"}, TypeError, "tastes"),
        ({"n_listeners": 2, "tastes": None}, TypeError, "tastes"),
    ],
)
def test_simulate_panel_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        listening.simulate_panel(**kwargs)


PANEL = listening.simulate_panel(3, seed=0)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((None,), {}, TypeError, "ratings"),
        (("abc",), {}, TypeError, "ratings"),
        (([*PANEL, None],), {}, TypeError, f"item {len(PANEL)}"),
        ((PANEL,), {"alpha": "0.05"}, TypeError, "alpha"),
        ((PANEL,), {"alpha": math.nan}, ValueError, "alpha"),
        ((PANEL,), {"alpha": 1.0}, ValueError, "alpha"),
        ((PANEL,), {"zero_method": None}, TypeError, "zero_method"),
    ],
)
def test_analyse_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        listening.analyse(*args, **kwargs)


# --- study and MusicGen ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: study.taste_pieces("sweet", [0]), TypeError, "tastes"),
        (lambda: study.taste_pieces(["sweet"], [0.5]), TypeError, r"seeds\[0\]"),
        (lambda: study.taste_pieces(["sweet"], [0, -1]), ValueError, r"seeds\[1\]"),
        (lambda: study.taste_pieces(["neutral"], [0], intensity=math.nan), ValueError, "intensity"),
        (lambda: study.cohens_d([1.0, math.nan], [1.0, 2.0]), ValueError, r"a\[1\]"),
        (lambda: study.cohens_d([1.0, 2.0], ["x", 2.0]), TypeError, r"b\[0\]"),
        (lambda: study.direction_table([], min_effect=math.nan), ValueError, "min_effect"),
        (lambda: study.direction_table([None]), TypeError, r"pieces\[0\]"),
        (lambda: study.taste_pipeline(TasteProfile(), None, 0), TypeError, "text"),
        (lambda: study.taste_pipeline(TasteProfile(), "", 1.5), TypeError, "seed"),
        (lambda: study.taste_pipeline(None, "", 0), TypeError, "profile"),
    ],
)
def test_study_entry_points(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: musicgen.resample(tone(), 0, SR), ValueError, "source_rate"),
        (lambda: musicgen.resample(tone(), SR, 8000.5), TypeError, "target_rate"),
        (lambda: musicgen.caption_tokenizer(0), ValueError, "vocab_size"),
        (lambda: musicgen.tiny_musicgen(1.5), TypeError, "vocab_size"),
        (lambda: musicgen.load_musicgen(None), TypeError, "name_or_path"),
        (lambda: musicgen.load_musicgen("  "), TypeError, "name_or_path"),
        (lambda: musicgen.delay_pattern(torch.zeros(5), 0), ValueError, "codes"),
        (lambda: musicgen.delay_pattern([[1, 2]], 0), TypeError, "codes"),
    ],
)
def test_musicgen_helpers(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.fixture(scope="module")
def tiny():
    tokenizer = musicgen.caption_tokenizer(300)
    return musicgen.tiny_musicgen(len(tokenizer)), tokenizer


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"captions": "a sweet piece"}, TypeError, "captions"),
        ({"captions": []}, ValueError, "captions"),
        ({"captions": ["ok", None]}, TypeError, r"captions\[1\]"),
        ({"captions": ["ok"], "max_new_tokens": 2}, ValueError, "max_new_tokens"),
        ({"captions": ["ok"], "max_new_tokens": 8.0}, TypeError, "max_new_tokens"),
    ],
)
def test_generate_audio_arguments(tiny, kwargs, error, match):
    with pytest.raises(error, match=match):
        musicgen.generate_audio(*tiny, **kwargs)


@pytest.mark.parametrize(
    ("pairs", "kwargs", "error", "match"),
    [
        ([("sweet", np.zeros(800, np.float32))], {"steps": 0}, ValueError, "steps"),
        ([("sweet", np.zeros(800, np.float32))], {"lr": math.nan}, ValueError, "lr"),
        ([("sweet", np.zeros(800, np.float32))], {"batch_size": 1.5}, TypeError, "batch_size"),
        ([], {}, ValueError, "pairs"),
        ("sweet", {}, TypeError, "pairs"),
        (
            [("sweet", np.zeros(800, np.float32)), (None, np.zeros(800))],
            {},
            TypeError,
            r"pairs\[1\]",
        ),
        ([("sweet", np.full(800, np.nan, np.float32))], {}, ValueError, r"pairs\[0\] waveform"),
        ([("sweet", np.zeros(800, np.int16))], {}, TypeError, r"pairs\[0\] waveform"),
    ],
)
def test_finetune_refuses_bad_input_without_touching_the_model(tiny, pairs, kwargs, error, match):
    model, tokenizer = tiny
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(error, match=match):
        musicgen.finetune(model, tokenizer, pairs, SR, **{"steps": 1, **kwargs}, progress=False)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize(
    ("audio", "sample_rate", "error", "match"),
    [
        (np.stack([tone(0.1), np.full(800, np.nan, np.float32)]), SR, ValueError, r"audio\[1\]"),
        (tone(0.1), 8000.5, TypeError, "sample_rate"),
        (None, SR, TypeError, "audio"),
    ],
)
def test_audio_codes_arguments(tiny, audio, sample_rate, error, match):
    with pytest.raises(error, match=match):
        musicgen.audio_codes(tiny[0], audio, sample_rate)
