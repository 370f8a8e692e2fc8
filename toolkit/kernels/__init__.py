"""Fused per-token log-probs and KL from hidden states, without B×T×V logits.

Token-level preference methods (TDPO, SparsePO, AlignDistil; see docs/methods/kernels.md)
need per-position quantities of full next-token distributions. Computed naively that is
``(B, T, V)`` float32 logits per model, plus autograd's copies, which is what runs out of
memory first at V = 128k. These functions take hidden states and LM-head weights instead and
form the logits one chunk of token rows at a time, forward and backward.

* ``token_logprobs`` — ``log p(y_t)`` and optionally the entropy, per position.
* ``token_kl`` — ``KL(π_ref‖π_θ)`` and/or ``KL(π_θ‖π_ref)`` per position.
* ``teacher_kl`` — ``KL(π_θ‖softmax(z*/T))`` for a teacher ``z* = Σ_k c_k z_k`` (AlignDistil).

Implementations (``IMPLS``; chosen by ``impl=`` or the environment variable named by
``ENV_VAR``, ``$TOOLKIT_KERNELS_IMPL``): ``"reference"`` (full logits), ``"chunked"`` (torch,
CPU default), ``"triton"`` (CUDA default). See ``dispatch``. ``CHUNK_BUDGET_BYTES`` is the
memory per chunk of logits by device type, from which ``default_chunk_size`` picks the rows.

Everything in ``__all__`` loads on first use; the implementation modules (``reference``,
``torch_rows``, ``triton_kernels``) are internal.
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

if TYPE_CHECKING:
    from toolkit.kernels.api import TeacherTerm, teacher_kl, token_kl, token_logprobs
    from toolkit.kernels.chunking import CHUNK_BUDGET_BYTES, default_chunk_size
    from toolkit.kernels.dispatch import ENV_VAR, IMPLS

__all__ = [
    "CHUNK_BUDGET_BYTES",
    "ENV_VAR",
    "IMPLS",
    "TeacherTerm",
    "default_chunk_size",
    "teacher_kl",
    "token_kl",
    "token_logprobs",
]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
