"""Training the zoo's own byte-level BPE tokenizers."""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

EOS = "<|endoftext|>"
PAD = "<|pad|>"


def train_bpe_tokenizer(
    texts: Iterable[str], vocab_size: int, add_bos: bool = False
) -> PreTrainedTokenizerFast:
    """A GPT-2-style byte-level BPE tokenizer trained on ``texts``.

    Byte-level means any string can be encoded (no unknown tokens), and a leading
    space belongs to the word that follows it, as in GPT-2. ``<|endoftext|>``
    serves as BOS and EOS; ``<|pad|>`` is a separate padding token so that padded
    positions are never confused with a real end of text. With ``add_bos`` every encoded
    text starts with ``<|endoftext|>``, as each text does in the zoo's packed training rows,
    so a prompt is seen in the context the model learned it in.
    """
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS, PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    if add_bos:
        tokenizer.post_processor = processors.TemplateProcessing(
            single=f"{EOS} $A", special_tokens=[(EOS, tokenizer.token_to_id(EOS))]
        )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=EOS,
        eos_token=EOS,
        pad_token=PAD,
        model_max_length=None,
    )
