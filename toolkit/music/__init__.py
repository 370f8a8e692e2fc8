"""Taste → music (Spanio et al., arXiv 2503.02823): taste profiles, crossmodal-correspondence
rules, a composer, synthesis, audio features, text understanding and the MusicGen path.

* :mod:`~toolkit.music.taste`, :mod:`~toolkit.music.params` — taste profiles (over ``TASTES``)
  and the musical parameters they become.
* :mod:`~toolkit.music.mapping` — the cited rules from taste to parameters.
* :mod:`~toolkit.music.composer`, :mod:`~toolkit.music.synth` — a seeded three-voice composer
  and its renderer (FluidSynth or a numpy synthesizer).
* :mod:`~toolkit.music.features`, :mod:`~toolkit.music.classifier`, :mod:`~toolkit.music.study`
  — audio features (named in ``FEATURES``), the audio-only taste classifier and the notebook's
  experiments (``NEUTRAL`` labels the pieces composed for no taste).
* :mod:`~toolkit.music.text` — text → taste (MiniLM) and explicit musical cues.
* :mod:`~toolkit.music.musicgen` — captions → audio with MusicGen, and an offline tiny model.
* :mod:`~toolkit.music.listening` — the listening-test statistics.
* :mod:`~toolkit.music.evidence` — the notebook's claim, gated on the classifier sanity check.

Everything in ``__all__`` loads on first use; the tuning constants of each module stay in that
module. Equations and defaults: ``docs/methods/taste_music.md``.
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

if TYPE_CHECKING:
    from toolkit.music.classifier import CHANCE, HUMAN_RECOGNITION, TasteClassifier
    from toolkit.music.composer import Key, Note, Piece, compose
    from toolkit.music.evidence import direction_claim
    from toolkit.music.features import FEATURES, audio_features, feature_matrix
    from toolkit.music.listening import (
        ListeningReport,
        Rating,
        TasteTest,
        analyse,
        read_ratings,
        simulate_panel,
        write_template,
    )
    from toolkit.music.mapping import RULES, Rule, citations, expected_directions, params_from_taste
    from toolkit.music.musicgen import (
        caption_tokenizer,
        finetune,
        generate_audio,
        load_musicgen,
        tiny_musicgen,
    )
    from toolkit.music.params import MusicParams
    from toolkit.music.study import (
        NEUTRAL,
        ClassifierResult,
        TastePiece,
        classify_tastes,
        direction_table,
        profile_of,
        taste_pieces,
        taste_pipeline,
    )
    from toolkit.music.synth import audio_player, fluidsynth_available, read_wav, render, write_wav
    from toolkit.music.taste import TASTES, TasteProfile
    from toolkit.music.text import describe, musical_cues, text_to_params, text_to_taste

__all__ = [
    "CHANCE",
    "FEATURES",
    "HUMAN_RECOGNITION",
    "NEUTRAL",
    "RULES",
    "TASTES",
    "ClassifierResult",
    "Key",
    "ListeningReport",
    "MusicParams",
    "Note",
    "Piece",
    "Rating",
    "Rule",
    "TasteClassifier",
    "TastePiece",
    "TasteProfile",
    "TasteTest",
    "analyse",
    "audio_features",
    "audio_player",
    "caption_tokenizer",
    "citations",
    "classify_tastes",
    "compose",
    "describe",
    "direction_claim",
    "direction_table",
    "expected_directions",
    "feature_matrix",
    "finetune",
    "fluidsynth_available",
    "generate_audio",
    "load_musicgen",
    "musical_cues",
    "params_from_taste",
    "profile_of",
    "read_ratings",
    "read_wav",
    "render",
    "simulate_panel",
    "taste_pieces",
    "taste_pipeline",
    "text_to_params",
    "text_to_taste",
    "tiny_musicgen",
    "write_template",
    "write_wav",
]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
