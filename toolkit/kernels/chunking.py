"""The chunk loop: logits for a block of token rows at a time, forward and backward, never all N.

Both fast implementations run these autograd functions; they differ only in ``ops``, the
module that turns a block of logits into per-row statistics and back into logit gradients
(``torch_rows`` in torch, ``triton_kernels`` in Triton). An ``ops`` module provides

    logprob_forward(z, labels, inv_temp, with_entropy) -> (log_prob, entropy | None, lse)
    logprob_backward(z, labels, lse, entropy, g_log_prob, g_entropy, inv_temp) -> dz
    kl_forward(z_pi, z_q) -> (kl_q_pi, kl_pi_q, lse_pi, lse_q)
    kl_backward(z_pi, z_q, lse_pi, lse_q, kl_pi_q, g_kl_q_pi, g_kl_pi_q) -> dz_pi

Forward functions get whole rows ``z (C, V)``; backward functions get a tile ``z (R, V_b)`` of
vocabulary columns ``[v0, v0 + V_b)``, with ``labels − v0`` (a label outside ``[0, V_b)`` is in
another tile) and the row statistics saved by the forward, which is all a logit gradient needs.
Teacher logits are float32, row vectors ``(C,)`` float32 (float64 for float64 inputs). The
logits passed in are scratch: ``ops`` may overwrite them (the Triton kernels write ``dz`` there).

Memory and time. The forward keeps only ``(N,)`` vectors per row (log-prob, entropy, lse; for
KL both lse and KL(π‖q)). The backward recomputes the logits (one extra matmul, the price of
never holding ``(N, V)``) tile by tile and accumulates ``dhidden += dz · W_b`` and
``dW_b += dzᵀ · hidden``. Tiles have as many elements as a forward chunk (``chunk_size · V``)
but are close to square, so each accumulation is a matmul with a long inner dimension and the
``V × H`` weight gradient is revisited only ``N / R`` times instead of once per forward chunk.
Accumulators are float32 for bf16/fp16 inputs (``(N + V) × H × 4`` bytes).

The recomputation costs matmuls: 4 instead of the reference's 3 for log-probs, 6 instead of 4
for KL (both heads' logits are recomputed). Where matmuls dominate, the chunked path is up to
~1.33× / 1.5× slower than the reference; it wins back what the reference spends on full
``(N, V)`` elementwise passes and fresh pages (``python -m benchmarks kernels`` measures both).

The default chunk holds ``budget // (4 V)`` rows: 32 MiB of float32 logits per chunk on the
CPU (64 rows at V = 128k; a step needs a few such buffers, ~100 MiB whatever B×T is), 256 MiB
on CUDA, where a forward chunk needs ≳ 500 rows for its matmul not to be bound by reading W.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from types import ModuleType

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from toolkit.kernels.logits import RowTerm, accumulation_dtype, teacher_logits

CHUNK_BUDGET_BYTES = {"cpu": 32 * 2**20, "cuda": 256 * 2**20}


def default_chunk_size(vocab: int, device: torch.device | str = "cpu") -> int:
    """Rows per chunk such that one ``(rows, vocab)`` float32 buffer fits the device's budget."""
    budget = CHUNK_BUDGET_BYTES.get(torch.device(device).type, CHUNK_BUDGET_BYTES["cpu"])
    return max(1, budget // (4 * vocab))


def _chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def _tiles(n: int, vocab: int, chunk_size: int) -> Iterator[tuple[slice, slice]]:
    """Backward tiles (rows, vocabulary columns) of about ``chunk_size · vocab`` elements."""
    elements = chunk_size * vocab
    rows = max(1, min(n, max(chunk_size, math.isqrt(elements))))
    columns = min(vocab, max(1, elements // rows))
    for row_block in _chunks(n, rows):
        for column_block in _chunks(vocab, columns):
            yield row_block, column_block


def _addmm_(out: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> None:
    """``out += a @ b``; a bf16/fp16 product is upcast before it is added to a float32 ``out``."""
    if out.dtype == a.dtype:
        out.addmm_(a, b)
    else:
        out += (a @ b).to(out.dtype)


class _Grads:
    """Gradients of hidden ``(N, H)``, weight ``(V, H)``, bias ``(V,)``, summed over tiles."""

    def __init__(self, hidden, weight, bias, needs: tuple[bool, bool, bool]):
        self.dtypes = (hidden.dtype, weight.dtype)
        acc = dict(dtype=accumulation_dtype(weight.dtype))
        self.hidden = torch.zeros_like(hidden, **acc) if needs[0] else None
        self.weight = torch.zeros_like(weight, **acc) if needs[1] else None
        self.bias = torch.zeros_like(bias, **acc) if bias is not None and needs[2] else None

    def add(self, dz, rows: slice, cols: slice, hidden_rows, weight_cols) -> None:
        # dz (R, V_b), hidden_rows (R, H), weight_cols (V_b, H), all in the input dtype
        if self.hidden is not None:
            _addmm_(self.hidden[rows], dz, weight_cols)  # (R, H)
        if self.weight is not None:
            _addmm_(self.weight[cols], dz.T, hidden_rows)  # (V_b, H)
        if self.bias is not None:
            self.bias[cols] += dz.sum(0, dtype=self.bias.dtype)

    def result(self) -> tuple[torch.Tensor | None, ...]:
        """``(dhidden, dweight, dbias)``, each ``None`` where not needed, in the input dtypes."""
        h_dtype, w_dtype = self.dtypes
        cast = [(self.hidden, h_dtype), (self.weight, w_dtype), (self.bias, w_dtype)]
        return tuple(None if g is None else g.to(dtype) for g, dtype in cast)


def _row_vectors(hidden: torch.Tensor, count: int) -> list[torch.Tensor]:
    n, dtype = hidden.shape[0], accumulation_dtype(hidden.dtype)
    return [torch.empty(n, device=hidden.device, dtype=dtype) for _ in range(count)]


class ChunkedLogprobs(torch.autograd.Function):
    """``log softmax(z/τ)[y]`` and entropy per row, ``z = hidden · Wᵀ + b``, chunk by chunk.

    Gradients wrt the scaled logits ``s = z/τ`` with ``p = softmax(s)``, ``H = −Σ p log p``:
    ``∂ log p_y/∂s = onehot(y) − p`` and ``∂H/∂s = −p ⊙ (log p + H)``; ``∂/∂z = (1/τ) ∂/∂s``.
    """

    @staticmethod
    def forward(ctx, hidden, weight, bias, labels, inv_temp, with_entropy, chunk_size, ops):
        # hidden (N, H), weight (V, H), bias (V,) | None, labels (N,)
        log_prob, entropy, lse = _row_vectors(hidden, 3)  # (N,) each
        for rows in _chunks(hidden.shape[0], chunk_size):
            z = F.linear(hidden[rows], weight, bias)  # (C, V)
            log_prob[rows], ent, lse[rows] = ops.logprob_forward(
                z, labels[rows], inv_temp, with_entropy
            )
            if with_entropy:
                entropy[rows] = ent
        entropy = entropy if with_entropy else None
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
        for rows, cols in _tiles(hidden.shape[0], weight.shape[0], chunk_size):
            h, w = hidden[rows], weight[cols]  # (R, H), (V_b, H)
            z = F.linear(h, w, None if bias is None else bias[cols])  # (R, V_b), recomputed
            dz = ops.logprob_backward(
                z,
                labels[rows] - cols.start,
                lse[rows],
                None if g_entropy is None else entropy[rows],
                g_log_prob[rows],
                None if g_entropy is None else g_entropy[rows],
                inv_temp,
            )
            grads.add(dz, rows, cols, h, w)
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
        kl_q_pi, kl_pi_q, lse_pi, lse_q = _row_vectors(hidden, 4)  # (N,) each
        for rows in _chunks(hidden.shape[0], chunk_size):
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
        grads = _Grads(hidden, weight, None, (*ctx.needs_input_grad[:2], False))
        for rows, cols in _tiles(hidden.shape[0], weight.shape[0], chunk_size):
            h, w = hidden[rows], weight[cols]  # (R, H), (V_b, H)
            dz = ops.kl_backward(
                F.linear(h, w),  # (R, V_b), recomputed
                teacher_logits(terms, rows, cols),  # (R, V_b), recomputed
                lse_pi[rows],
                lse_q[rows],
                kl_pi_q[rows],
                g_kl_q_pi[rows],
                g_kl_pi_q[rows],
            )
            grads.add(dz, rows, cols, h, w)
        return *grads.result()[:2], None, None, None


def logprobs_rows(ops: ModuleType):
    """The ``Backend.logprobs`` entry point running ``ChunkedLogprobs`` with ``ops``."""

    def run(hidden, weight, bias, labels, inv_temp, with_entropy, chunk_size):
        size = chunk_size or default_chunk_size(weight.shape[0], hidden.device)
        return ChunkedLogprobs.apply(
            hidden, weight, bias, labels, inv_temp, with_entropy, size, ops
        )

    return run


def kl_rows(ops: ModuleType):
    """The ``Backend.kl`` entry point running ``ChunkedKL`` with ``ops``."""

    def run(hidden, weight, terms: list[RowTerm], chunk_size):
        size = chunk_size or default_chunk_size(weight.shape[0], hidden.device)
        return ChunkedKL.apply(hidden, weight, terms, size, ops)

    return run
