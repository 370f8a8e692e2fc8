"""The chunk loop: logits for a few token rows at a time, forward and backward, never all N.

Both fast implementations run these autograd functions; they differ only in ``ops``, the
module that turns one chunk's logits into per-row statistics and back into logit gradients
(``torch_rows`` in torch, ``triton_kernels`` in Triton). An ``ops`` module provides

    logprob_forward(z, labels, inv_temp, with_entropy) -> (log_prob, entropy | None, lse)
    logprob_backward(z, labels, lse, entropy, g_log_prob, g_entropy, inv_temp) -> dz
    kl_forward(z_pi, z_q) -> (kl_q_pi, kl_pi_q, lse_pi, lse_q)
    kl_backward(z_pi, z_q, lse_pi, lse_q, kl_pi_q, g_kl_q_pi, g_kl_pi_q) -> dz_pi

on ``z (C, V)`` logits (policy dtype; teacher logits float32) and ``(C,)`` float32 row vectors.
The logits passed in are scratch: ``ops`` may overwrite them (the Triton kernels write ``dz``
in place). Row statistics are float32 for float32/bf16/fp16 inputs (float64 for float64).

Memory. The forward keeps only ``(N,)`` vectors (log-prob, entropy, log-sum-exp per row); the
backward recomputes each chunk's logits (one extra matmul per chunk, the price of never
holding ``(N, V)``) and turns ``dz (C, V)`` into ``dhidden = dz · W`` and
``dW += dzᵀ · hidden``. ``dW`` is accumulated in float32 (``V × H × 4`` bytes) for bf16/fp16
weights. The default chunk holds ``CHUNK_BUDGET_BYTES // (4 V)`` rows, i.e. 32 MiB per
``(C, V)`` float32 buffer (64 rows at V = 128k); a chunk step needs a few such buffers
(logits, probabilities, gradient), so the working set is ~100 MiB whatever B×T is.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from toolkit.kernels.logits import RowTerm, accumulation_dtype, teacher_logits

CHUNK_BUDGET_BYTES = 32 * 2**20


def default_chunk_size(vocab: int) -> int:
    """Rows per chunk such that one ``(rows, vocab)`` float32 buffer fits ``CHUNK_BUDGET_BYTES``."""
    return max(1, CHUNK_BUDGET_BYTES // (4 * vocab))


def _chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


class _Grads:
    """Gradients of hidden ``(N, H)``, weight ``(V, H)`` and bias ``(V,)`` from chunk ``dz``."""

    def __init__(self, hidden, weight, bias, needs: tuple[bool, bool, bool]):
        self.weight_ = weight
        self.hidden = torch.empty_like(hidden) if needs[0] else None
        acc = accumulation_dtype(weight.dtype)
        self.weight = torch.zeros_like(weight, dtype=acc) if needs[1] else None
        self.bias = torch.zeros_like(bias, dtype=acc) if bias is not None and needs[2] else None

    def add(self, dz: torch.Tensor, rows: slice, hidden_rows: torch.Tensor) -> None:
        # dz (C, V), hidden_rows (C, H), both in the input dtype
        if self.hidden is not None:
            self.hidden[rows] = dz @ self.weight_  # (C, H)
        if self.weight is not None:
            if self.weight.dtype == dz.dtype:
                self.weight.addmm_(dz.T, hidden_rows)  # (V, H)
            else:  # bf16/fp16 products, float32 sum: a vocab slice at a time bounds the temporary
                step = max(1, CHUNK_BUDGET_BYTES // (2 * hidden_rows.shape[1]))
                for vocab in _chunks(dz.shape[1], step):
                    self.weight[vocab] += (dz[:, vocab].T @ hidden_rows).float()
        if self.bias is not None:
            self.bias += dz.sum(0, dtype=self.bias.dtype)

    def result(self) -> tuple[torch.Tensor | None, ...]:
        """``(dhidden, dweight, dbias)``, each ``None`` where not needed, in the input dtypes."""
        dtype = self.weight_.dtype
        return self.hidden, *(None if g is None else g.to(dtype) for g in (self.weight, self.bias))


class ChunkedLogprobs(torch.autograd.Function):
    """``log softmax(z/τ)[y]`` and entropy per row, ``z = hidden · Wᵀ + b``, chunk by chunk.

    Gradients wrt the scaled logits ``s = z/τ`` with ``p = softmax(s)``, ``H = −Σ p log p``:
    ``∂ log p_y/∂s = onehot(y) − p`` and ``∂H/∂s = −p ⊙ (log p + H)``; ``∂/∂z = (1/τ) ∂/∂s``.
    """

    @staticmethod
    def forward(ctx, hidden, weight, bias, labels, inv_temp, with_entropy, chunk_size, ops):
        # hidden (N, H), weight (V, H), bias (V,) | None, labels (N,)
        n = hidden.shape[0]
        row = dict(device=hidden.device, dtype=accumulation_dtype(hidden.dtype))
        log_prob, lse = torch.empty(n, **row), torch.empty(n, **row)  # (N,)
        entropy = torch.empty(n, **row) if with_entropy else None
        for rows in _chunks(n, chunk_size):
            z = F.linear(hidden[rows], weight, bias)  # (C, V)
            log_prob[rows], ent, lse[rows] = ops.logprob_forward(
                z, labels[rows], inv_temp, with_entropy
            )
            if with_entropy:
                entropy[rows] = ent
        ctx.save_for_backward(hidden, weight, bias, labels, lse, entropy)
        ctx.config = (inv_temp, chunk_size, ops)
        return log_prob, entropy

    @staticmethod
    @once_differentiable
    def backward(ctx, g_log_prob, g_entropy):
        hidden, weight, bias, labels, lse, entropy = ctx.saved_tensors
        inv_temp, chunk_size, ops = ctx.config
        grads = _Grads(hidden, weight, bias, ctx.needs_input_grad[:3])
        if g_log_prob is None:
            g_log_prob = torch.zeros_like(lse)
        for rows in _chunks(hidden.shape[0], chunk_size):
            z = F.linear(hidden[rows], weight, bias)  # (C, V), recomputed
            dz = ops.logprob_backward(
                z,
                labels[rows],
                lse[rows],
                None if g_entropy is None else entropy[rows],
                g_log_prob[rows],
                None if g_entropy is None else g_entropy[rows],
                inv_temp,
            )
            grads.add(dz, rows, hidden[rows])
        return *grads.result(), None, None, None, None, None


class ChunkedKL(torch.autograd.Function):
    """``KL(q‖π)`` and ``KL(π‖q)`` per row, ``π = softmax(hidden · Wᵀ)``, ``q = softmax(z*)``.

    ``z*`` is the teacher combination of ``toolkit.kernels.logits`` (no gradient). Gradients
    wrt the policy logits: ``∂KL(q‖π)/∂z = π − q`` and
    ``∂KL(π‖q)/∂z = π ⊙ (log π − log q − KL(π‖q))``.
    """

    @staticmethod
    def forward(ctx, hidden, weight, terms, chunk_size, ops):
        # hidden (N, H), weight (V, H); terms: teacher RowTerms over the same N rows
        n = hidden.shape[0]
        row = dict(device=hidden.device, dtype=accumulation_dtype(hidden.dtype))
        kl_q_pi, kl_pi_q = torch.empty(n, **row), torch.empty(n, **row)  # (N,)
        lse_pi, lse_q = torch.empty(n, **row), torch.empty(n, **row)  # (N,)
        for rows in _chunks(n, chunk_size):
            z_pi = F.linear(hidden[rows], weight)  # (C, V)
            z_q = teacher_logits(terms, rows)  # (C, V) float32
            kl_q_pi[rows], kl_pi_q[rows], lse_pi[rows], lse_q[rows] = ops.kl_forward(z_pi, z_q)
        ctx.save_for_backward(hidden, weight, lse_pi, lse_q, kl_pi_q)
        ctx.config = (terms, chunk_size, ops)
        return kl_q_pi, kl_pi_q

    @staticmethod
    @once_differentiable
    def backward(ctx, g_kl_q_pi, g_kl_pi_q):
        hidden, weight, lse_pi, lse_q, kl_pi_q = ctx.saved_tensors
        terms, chunk_size, ops = ctx.config
        grads = _Grads(hidden, weight, None, ctx.needs_input_grad[:2] + (False,))
        for rows in _chunks(hidden.shape[0], chunk_size):
            z_pi = F.linear(hidden[rows], weight)  # (C, V), recomputed
            z_q = teacher_logits(terms, rows)  # (C, V), recomputed
            dz = ops.kl_backward(
                z_pi,
                z_q,
                lse_pi[rows],
                lse_q[rows],
                kl_pi_q[rows],
                g_kl_q_pi[rows],
                g_kl_pi_q[rows],
            )
            grads.add(dz, rows, hidden[rows])
        return *grads.result()[:2], None, None, None


def logprobs_rows(ops: ModuleType):
    """The ``Backend.logprobs`` entry point running ``ChunkedLogprobs`` with ``ops``."""

    def run(hidden, weight, bias, labels, inv_temp, with_entropy, chunk_size):
        size = chunk_size or default_chunk_size(weight.shape[0])
        return ChunkedLogprobs.apply(
            hidden, weight, bias, labels, inv_temp, with_entropy, size, ops
        )

    return run


def kl_rows(ops: ModuleType):
    """The ``Backend.kl`` entry point running ``ChunkedKL`` with ``ops``."""

    def run(hidden, weight, terms: list[RowTerm], chunk_size):
        size = chunk_size or default_chunk_size(weight.shape[0])
        return ChunkedKL.apply(hidden, weight, terms, size, ops)

    return run
