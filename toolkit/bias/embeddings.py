"""WEAT and SEAT on any encoder: the packaged MiniLM or a causal LM's mean-pooled hidden states.

:func:`weat` embeds the four word sets, scores every target against every attribute by
cosine similarity and runs :func:`toolkit.bias.stats.association_test` (Caliskan et al.,
Science 2017). With ``templates`` (e.g. :data:`~toolkit.bias.wordsets.SEAT_TEMPLATES`) each
word is embedded inside every template and its vector is the mean over templates: SEAT
(May et al., NAACL 2019) with one item per word. May et al. treat each sentence as an item;
averaging keeps the permutation test over words, whose number is what the sets really sample.

An encoder is anything with ``encode(texts) -> (N, d)`` and a ``tokenizer``: the zoo's
:class:`~toolkit.zoo.SentenceEncoder`, or :class:`HiddenStateEncoder` around a causal LM.
A word that its tokenizer turns into no tokens is refused by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from toolkit._checks import check_int, describe
from toolkit.bias.stats import AssociationResult, association_test
from toolkit.bias.wordsets import check_templates, check_word_sets
from toolkit.zoo.tokenizer import check_texts


def start_ids(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """The token a document starts with: BOS, else EOS (the zoo's LMs train on ``EOS text``)."""
    token = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    return [] if token is None else [token]


@dataclass
class HiddenStateEncoder:
    """Sentence vectors from a causal LM: the mean of one layer's hidden states over the text's
    tokens (the document-start token that precedes them is not pooled).

    ``layer`` indexes ``output_hidden_states`` (0: embeddings, -1: last layer).
    """

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    layer: int = -1
    batch_size: int = 64

    def __post_init__(self):
        if not isinstance(self.model, torch.nn.Module):
            raise TypeError(f"model must be a Hugging Face model, got {describe(self.model)}")
        if not isinstance(self.tokenizer, PreTrainedTokenizerBase):
            raise TypeError(
                f"tokenizer must be a Hugging Face tokenizer, got {describe(self.tokenizer)}"
            )
        check_int("layer", self.layer)
        check_int("batch_size", self.batch_size, minimum=1)
        n_layers = getattr(self.model.config, "num_hidden_layers", None)
        if n_layers is not None and not -(n_layers + 1) <= self.layer <= n_layers:
            raise ValueError(
                f"layer must index the model's {n_layers + 1} hidden states "
                f"(-{n_layers + 1} .. {n_layers}), got {self.layer}"
            )

    @torch.no_grad()
    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        """``(N, d)`` mean-pooled hidden states of ``texts``."""
        texts = check_texts(texts)
        check_token_counts(self.tokenizer, texts, "texts")
        self.model.eval()
        prefix = start_ids(self.tokenizer)
        pad = self.tokenizer.pad_token_id
        pad = pad if pad is not None else (prefix[0] if prefix else 0)
        out = []
        for lo in range(0, len(texts), self.batch_size):
            chunk = texts[lo : lo + self.batch_size]
            ids = [prefix + self.tokenizer(t, add_special_tokens=False)["input_ids"] for t in chunk]
            width = max(len(s) for s in ids)
            batch = torch.full((len(ids), width), pad, dtype=torch.long)
            attention = torch.zeros_like(batch)
            pool = torch.zeros(len(ids), width)
            for i, seq in enumerate(ids):
                batch[i, : len(seq)] = torch.tensor(seq)
                attention[i, : len(seq)] = 1
                pool[i, len(prefix) : len(seq)] = 1
            device = self.model.device
            hidden = self.model(
                input_ids=batch.to(device),
                attention_mask=attention.to(device),
                output_hidden_states=True,
            ).hidden_states[self.layer]
            pool = pool.to(hidden.device, hidden.dtype).unsqueeze(-1)
            out.append(((hidden * pool).sum(1) / pool.sum(1)).float().cpu())
        return torch.cat(out)


def check_token_counts(tokenizer: PreTrainedTokenizerBase, words: Sequence[str], name: str) -> None:
    """Every word becomes at least one token (an emoji an encoder does not know, or a
    zero-width character, can become none, and then has no vector)."""
    for i, word in enumerate(words):
        if not tokenizer(word, add_special_tokens=False)["input_ids"]:
            raise ValueError(
                f"{name}[{i}] {word!r} tokenizes to no tokens with this tokenizer; replace it "
                "with a word the model can read"
            )


def _check_encoder(encoder: object) -> None:
    if not callable(getattr(encoder, "encode", None)):
        raise TypeError(
            "encoder must have encode(texts) -> (N, d), e.g. zoo.load_sentence_encoder() or "
            f"HiddenStateEncoder(model, tokenizer); got {describe(encoder)}"
        )
    if not isinstance(getattr(encoder, "tokenizer", None), PreTrainedTokenizerBase):
        raise TypeError(f"encoder must carry its Hugging Face tokenizer, got {describe(encoder)}")


def embed_words(
    encoder: object, words: Sequence[str], templates: Sequence[str] | None = None, *, name="words"
) -> torch.Tensor:
    """``(N, d)`` unit vectors of ``words``: each word alone, or the mean over ``templates``
    (each with one ``{word}`` placeholder) of the word's sentence embeddings."""
    _check_encoder(encoder)
    check_token_counts(encoder.tokenizer, words, name)
    if templates is None:
        vectors = torch.as_tensor(encoder.encode(list(words))).float()
    else:
        templates = check_templates("templates", templates, ("word",))
        texts = [t.format(word=w) for w in words for t in templates]
        vectors = torch.as_tensor(encoder.encode(texts)).float()
        vectors = torch.nn.functional.normalize(vectors, dim=-1)
        vectors = vectors.view(len(words), len(templates), -1).mean(1)
    return torch.nn.functional.normalize(vectors, dim=-1)


def weat(
    encoder: object,
    x: Sequence[str],
    y: Sequence[str],
    a: Sequence[str],
    b: Sequence[str],
    *,
    templates: Sequence[str] | None = None,
    n_permutations: int = 10_000,
    n_bootstrap: int = 1_000,
    confidence: float = 0.95,
    seed: int = 0,
    alternative: str = "greater",
) -> AssociationResult:
    """WEAT (or SEAT with ``templates``) of targets ``x``, ``y`` and attributes ``a``, ``b``.

    ``d > 0`` means ``x`` sits closer to ``a`` (and ``y`` to ``b``) than the other way round.
    The words are checked first (:func:`~toolkit.bias.wordsets.check_word_sets`); the result
    names them (``words_x``, ``words_y``) beside each word's association.
    """
    x, y, a, b = check_word_sets(x, y, a, b)
    vectors = {
        name: embed_words(encoder, words, templates, name=name)
        for name, words in (("x", x), ("y", y), ("a", a), ("b", b))
    }
    result = association_test(
        vectors["x"] @ vectors["a"].T,
        vectors["x"] @ vectors["b"].T,
        vectors["y"] @ vectors["a"].T,
        vectors["y"] @ vectors["b"].T,
        n_permutations=n_permutations,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        seed=seed,
        alternative=alternative,
    )
    return replace(result, words_x=x, words_y=y)
