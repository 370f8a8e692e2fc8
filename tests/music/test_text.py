import pytest
import torch

from toolkit.music.params import MusicParams
from toolkit.music.taste import TASTES, TasteProfile
from toolkit.music.text import (
    describe,
    musical_cues,
    negated_tastes,
    text_to_params,
    text_to_taste,
)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest on one thread when the CPU cores are shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def top_tastes(profile: TasteProfile, n: int) -> list[str]:
    values = profile.as_dict()
    return sorted(TASTES, key=values.get, reverse=True)[:n]


def test_literal_taste_word_is_dominant():
    profile = text_to_taste("a bitter, dark piece")
    assert profile.dominant == "bitter"
    assert profile.bitter > 0.5


def test_unseen_wording_lands_near_the_right_taste():
    assert "bitter" in top_tastes(text_to_taste("like espresso and burnt toast"), 2)
    assert text_to_taste("honey and candy floss").dominant == "sweet"
    assert text_to_taste("savoury soup").dominant == "umami"


@pytest.mark.parametrize("text", ["", "   ", "the train leaves at noon"])
def test_empty_or_unrelated_text_is_neutral_with_a_warning(text):
    with pytest.warns(UserWarning, match="neutral taste profile"):
        profile = text_to_taste(text)
    assert profile == TasteProfile()


def test_cues_from_plain_words():
    cues = musical_cues("slow staccato piano")
    assert cues["tempo_bpm"] < MusicParams().tempo_bpm
    assert cues["articulation"] < 0.5
    assert cues["instrument"] == "piano"
    assert musical_cues("Fast, LOUD trumpets in a minor key") == {
        "tempo_bpm": 150.0,
        "loudness": 0.9,
        "instrument": "brass",
        "mode": "minor",
    }
    assert musical_cues("harsh, clashing chords on a violin")["instrument"] == "strings"
    assert musical_cues("harmonious and smooth")["consonance"] > 0.5


def test_negated_cues_are_ignored():
    assert musical_cues("not fast") == {}
    assert musical_cues("not too loud, without dissonant chords") == {}
    assert musical_cues("no drums, slow marimba") == {"tempo_bpm": 60.0, "instrument": "marimba"}


@pytest.mark.parametrize(
    ("text", "cues"),
    [
        ("I don't want it loud", {}),
        ("it isn\u2019t fast, just legato", {"articulation": 0.95}),
        ("not fast at all", {}),
        ("not at all fast", {}),
        ("never staccato", {}),
        ("not fast but loud", {"loudness": 0.9}),
    ],
)
def test_negation_forms_of_cues(text, cues):
    assert musical_cues(text) == cues


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("not sweet at all", {"sweet"}),
        ("no sugar, no salt", {"sweet", "salty"}),
        ("neither sweet nor sour", {"sweet", "sour"}),
        ("it isn't bitter", {"bitter"}),
        ("not sweet, but sweet after all", set()),
        ("sweet and not too sour", {"sour"}),
        ("a sweet dessert", set()),
    ],
)
def test_negated_tastes(text, negated):
    assert negated_tastes(text) == negated


def test_a_negated_taste_is_not_boosted():
    assert text_to_taste("sweet").sweet == 1.0
    assert text_to_taste("not sweet at all").sweet == 0.0
    contrast = text_to_taste("not sweet, but very bitter")
    assert contrast.sweet == 0.0 and contrast.dominant == "bitter"
    profile, _ = text_to_params("a dessert that is not sweet at all", base=lambda p: MusicParams())
    assert profile.sweet == 0.0


def test_every_taste_negated_is_neutral_with_a_warning():
    with pytest.warns(UserWarning, match="every taste is negated"):
        profile = text_to_taste("not sweet, not sour, not bitter, not salty, no umami")
    assert profile == TasteProfile()


def test_text_to_params_applies_the_cues_over_the_base():
    profile, params = text_to_params(
        "sweet like honey, a slow legato flute", base=lambda p: MusicParams()
    )
    assert profile.dominant == "sweet"
    assert params == MusicParams().with_overrides(
        tempo_bpm=60.0, articulation=0.95, instrument="flute"
    )


def test_describe_reads_like_a_caption():
    slow_sweet = MusicParams(tempo_bpm=60, consonance=0.9, articulation=0.95, pitch_center=78)
    caption = describe(TasteProfile(sweet=0.9, sour=0.1), slow_sweet)
    assert caption.startswith("A sweet, consonant piece")
    assert "The tempo is slow and peaceful" in caption
    assert "sour" not in caption
    umami = describe(TasteProfile(umami=1.0), MusicParams(consonance=0.5))
    assert umami.startswith("An umami piece")
    assert describe(TasteProfile(), MusicParams(consonance=0.5)).startswith("A piece")
