"""Training the zoo's own byte-level BPE tokenizers."""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from toolkit._checks import check_bool, check_int, describe

EOS = "<|endoftext|>"
PAD = "<|pad|>"
MIN_VOCAB = 258  # the 256 byte tokens and the two special tokens


def check_texts(texts: object, name: str = "texts") -> list[str]:
    """``texts`` as a non-empty list of ``str`` (a bare string is refused: it is not a list
    of texts, and iterating it would give its characters)."""
    if isinstance(texts, str | bytes) or not isinstance(texts, Iterable):
        raise TypeError(f"{name} must be a list of strings, got {describe(texts)}")
    texts = list(texts)
    if not texts:
        raise ValueError(f"{name} must not be empty")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"{name}[{i}] must be a str, got {describe(text)}")
    return texts


def train_bpe_tokenizer(
    texts: Iterable[str], vocab_size: int, add_bos: bool = False
) -> PreTrainedTokenizerFast:
    """A GPT-2-style byte-level BPE tokenizer trained on ``texts``.

    Byte-level means any string can be encoded (no unknown tokens), and a leading
    space belongs to the word that follows it, as in GPT-2. ``<|endoftext|>``
    serves as BOS and EOS; ``<|pad|>`` is a separate padding token so that padded
    positions are never confused with a real end of text. With ``add_bos`` every encoded
    text starts with ``<|endoftext|>``, as each text does in the zoo's packed training rows,
    so a prompt is seen in the context the model learned it in. ``vocab_size`` counts the
    256 byte tokens and the two special tokens, so it is at least 258.
    """
    texts = check_texts(texts)
    check_int("vocab_size", vocab_size, minimum=MIN_VOCAB)
    check_bool("add_bos", add_bos)
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
