"""Triton kernels for one chunk of logits: per-row softmax statistics and logit gradients.

The ``ops`` of the ``"triton"`` implementation (contract in ``toolkit.kernels.chunking``; the
LM-head matmuls stay with cuBLAS). One program handles one row and walks the vocabulary in
tiles of ``BLOCK_V`` with an online softmax (Milakov & Gimelshein 2018): it keeps the running
max ``m``, ``s = Σ e^(x−m)`` and a weighted sum ``a = Σ e^(x−m)·f(x)``, rescaling both by
``e^(m_old−m_new)`` when the max grows, so one pass over the row gives

    lse = m + log s,   E_p[f] = a / s.

With ``f = x`` that is the entropy ``H = lse − E_p[x]``; with ``f = x_π − x_q`` and two streams
it is ``KL(π‖q) = E_π[z_π − z_q] − lse_π + lse_q`` (and symmetrically ``KL(q‖π)``). Backward
kernels read the saved ``lse`` and write ``dz`` over the logits in place. All arithmetic is
float32; loads upcast bf16/fp16 logits.

On the CPU the kernels run in Triton's interpreter, which needs ``TRITON_INTERPRET=1`` set
before ``triton`` is first imported (``toolkit.kernels.dispatch`` checks).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

MAX_BLOCK_V = 4096


@triton.jit
def _logprob_fwd(
    z_ptr,  # (C, V) logits, row stride stride_z
    labels_ptr,  # (C,) int64
    log_prob_ptr,  # (C,) float32 out
    entropy_ptr,  # (C,) float32 out (unused without WITH_ENTROPY)
    lse_ptr,  # (C,) float32 out
    stride_z,
    V,
    inv_temp,
    WITH_ENTROPY: tl.constexpr,
    BLOCK_V: tl.constexpr,
):
    row = tl.program_id(0).to(tl.int64)
    z_row = z_ptr + row * stride_z
    m = float("-inf")  # running max of s = z/τ
    s = 0.0  # Σ e^(s−m)
    a = 0.0  # Σ e^(s−m)·s
    for start in range(0, V, BLOCK_V):
        cols = start + tl.arange(0, BLOCK_V)  # (BLOCK_V,)
        inside = cols < V
        x = tl.load(z_row + cols, mask=inside, other=0.0).to(tl.float32) * inv_temp
        m_new = tl.maximum(m, tl.max(tl.where(inside, x, float("-inf")), axis=0))
        rescale = tl.exp(m - m_new)
        e = tl.where(inside, tl.exp(x - m_new), 0.0)
        s = s * rescale + tl.sum(e, axis=0)
        if WITH_ENTROPY:
            a = a * rescale + tl.sum(e * x, axis=0)
        m = m_new
    lse = m + tl.log(s)
    label = tl.load(labels_ptr + row)
    target = tl.load(z_row + label).to(tl.float32) * inv_temp
    tl.store(log_prob_ptr + row, target - lse)
    tl.store(lse_ptr + row, lse)
    if WITH_ENTROPY:
        tl.store(entropy_ptr + row, lse - a / s)


@triton.jit
def _logprob_bwd(
    z_ptr,  # (C, V) logits in, dz out (same buffer)
    labels_ptr,  # (C,) int64
    lse_ptr,  # (C,) float32
    entropy_ptr,  # (C,) float32 (unused without WITH_ENTROPY)
    g_log_prob_ptr,  # (C,) float32
    g_entropy_ptr,  # (C,) float32 (unused without WITH_ENTROPY)
    stride_z,
    V,
    inv_temp,
    WITH_ENTROPY: tl.constexpr,
    BLOCK_V: tl.constexpr,
):
    row = tl.program_id(0).to(tl.int64)
    z_row = z_ptr + row * stride_z
    lse = tl.load(lse_ptr + row)
    label = tl.load(labels_ptr + row)
    g_y = tl.load(g_log_prob_ptr + row)
    if WITH_ENTROPY:
        g_h = tl.load(g_entropy_ptr + row)
        entropy = tl.load(entropy_ptr + row)
    for start in range(0, V, BLOCK_V):
        cols = start + tl.arange(0, BLOCK_V)  # (BLOCK_V,)
        inside = cols < V
        z = tl.load(z_row + cols, mask=inside, other=0.0)
        log_p = z.to(tl.float32) * inv_temp - lse
        coef = g_y
        if WITH_ENTROPY:
            coef = g_y + g_h * (log_p + entropy)
        dz = -tl.exp(log_p) * coef + tl.where(cols == label, g_y, 0.0)
        tl.store(z_row + cols, (dz * inv_temp).to(z.dtype), mask=inside)


@triton.jit
def _kl_fwd(
    z_pi_ptr,  # (C, V) policy logits
    z_q_ptr,  # (C, V) float32 teacher logits
    kl_q_pi_ptr,  # (C,) float32 out: KL(q‖π)
    kl_pi_q_ptr,  # (C,) float32 out: KL(π‖q)
    lse_pi_ptr,  # (C,) float32 out
    lse_q_ptr,  # (C,) float32 out
    stride_pi,
    stride_q,
    V,
    BLOCK_V: tl.constexpr,
):
    row = tl.program_id(0).to(tl.int64)
    pi_row, q_row = z_pi_ptr + row * stride_pi, z_q_ptr + row * stride_q
    m_pi, s_pi, a_pi = float("-inf"), 0.0, 0.0  # a_pi = Σ e^(z_π−m_π)·(z_π − z_q)
    m_q, s_q, a_q = float("-inf"), 0.0, 0.0  # a_q = Σ e^(z_q−m_q)·(z_q − z_π)
    for start in range(0, V, BLOCK_V):
        cols = start + tl.arange(0, BLOCK_V)  # (BLOCK_V,)
        inside = cols < V
        x_pi = tl.load(pi_row + cols, mask=inside, other=0.0).to(tl.float32)
        x_q = tl.load(q_row + cols, mask=inside, other=0.0).to(tl.float32)
        diff = x_pi - x_q
        m_pi_new = tl.maximum(m_pi, tl.max(tl.where(inside, x_pi, float("-inf")), axis=0))
        m_q_new = tl.maximum(m_q, tl.max(tl.where(inside, x_q, float("-inf")), axis=0))
        rescale_pi, rescale_q = tl.exp(m_pi - m_pi_new), tl.exp(m_q - m_q_new)
        e_pi = tl.where(inside, tl.exp(x_pi - m_pi_new), 0.0)
        e_q = tl.where(inside, tl.exp(x_q - m_q_new), 0.0)
        s_pi = s_pi * rescale_pi + tl.sum(e_pi, axis=0)
        s_q = s_q * rescale_q + tl.sum(e_q, axis=0)
        a_pi = a_pi * rescale_pi + tl.sum(e_pi * diff, axis=0)
        a_q = a_q * rescale_q - tl.sum(e_q * diff, axis=0)
        m_pi, m_q = m_pi_new, m_q_new
    lse_pi, lse_q = m_pi + tl.log(s_pi), m_q + tl.log(s_q)
    tl.store(kl_pi_q_ptr + row, a_pi / s_pi - lse_pi + lse_q)
    tl.store(kl_q_pi_ptr + row, a_q / s_q - lse_q + lse_pi)
    tl.store(lse_pi_ptr + row, lse_pi)
    tl.store(lse_q_ptr + row, lse_q)


@triton.jit
def _kl_bwd(
    z_pi_ptr,  # (C, V) policy logits in, dz_π out (same buffer)
    z_q_ptr,  # (C, V) float32 teacher logits
    lse_pi_ptr,  # (C,) float32
    lse_q_ptr,  # (C,) float32
    kl_pi_q_ptr,  # (C,) float32
    g_kl_q_pi_ptr,  # (C,) float32
    g_kl_pi_q_ptr,  # (C,) float32
    stride_pi,
    stride_q,
    V,
    BLOCK_V: tl.constexpr,
):
    row = tl.program_id(0).to(tl.int64)
    pi_row, q_row = z_pi_ptr + row * stride_pi, z_q_ptr + row * stride_q
    lse_pi, lse_q = tl.load(lse_pi_ptr + row), tl.load(lse_q_ptr + row)
    kl_pi_q = tl.load(kl_pi_q_ptr + row)
    g_f, g_r = tl.load(g_kl_q_pi_ptr + row), tl.load(g_kl_pi_q_ptr + row)
    for start in range(0, V, BLOCK_V):
        cols = start + tl.arange(0, BLOCK_V)  # (BLOCK_V,)
        inside = cols < V
        z_pi = tl.load(pi_row + cols, mask=inside, other=0.0)
        log_pi = z_pi.to(tl.float32) - lse_pi
        log_q = tl.load(q_row + cols, mask=inside, other=0.0).to(tl.float32) - lse_q
        dz = tl.exp(log_pi) * (g_f + g_r * (log_pi - log_q - kl_pi_q)) - g_f * tl.exp(log_q)
        tl.store(pi_row + cols, dz.to(z_pi.dtype), mask=inside)


def _launch(kernel, z: torch.Tensor, *args, **constexprs) -> None:
    """One program per row of ``z (C, V)``; ``args`` follow the kernel's signature."""
    block = min(MAX_BLOCK_V, triton.next_power_of_2(z.shape[1]))
    kernel[(z.shape[0],)](*args, BLOCK_V=block, num_warps=8 if block >= 2048 else 4, **constexprs)


def _rows(*vectors: torch.Tensor) -> list[torch.Tensor]:
    """``(C,)`` float32 contiguous copies (or the vectors themselves) for the kernels."""
    return [v.float().contiguous() for v in vectors]


def logprob_forward(z, labels, inv_temp: float, with_entropy: bool):
    """Row ``log p_y``, entropy (or ``None``) and ``lse`` of ``softmax(z/τ)``; ``z (C, V)``."""
    z, (C, V) = z.contiguous(), z.shape
    log_prob, entropy, lse = (z.new_empty(C, dtype=torch.float32) for _ in range(3))
    args = (z, labels.contiguous(), log_prob, entropy, lse, z.stride(0), V, inv_temp)
    _launch(_logprob_fwd, z, *args, WITH_ENTROPY=with_entropy)
    return log_prob, entropy if with_entropy else None, lse


def logprob_backward(z, labels, lse, entropy, g_log_prob, g_entropy, inv_temp: float):
    """``dz (C, V)``, written over ``z``."""
    z, V = z.contiguous(), z.shape[1]
    with_entropy = g_entropy is not None
    if not with_entropy:  # placeholders for pointers the kernel does not read
        entropy = g_entropy = lse
    args = (z, labels.contiguous(), *_rows(lse, entropy, g_log_prob, g_entropy), z.stride(0), V)
    _launch(_logprob_bwd, z, *args, inv_temp, WITH_ENTROPY=with_entropy)
    return z


def kl_forward(z_pi, z_q):
    """Row ``KL(q‖π)``, ``KL(π‖q)``, ``lse_π``, ``lse_q``; ``z_pi``, ``z_q`` ``(C, V)``."""
    z_pi, z_q, (C, V) = z_pi.contiguous(), z_q.contiguous(), z_pi.shape
    outs = [z_pi.new_empty(C, dtype=torch.float32) for _ in range(4)]
    _launch(_kl_fwd, z_pi, z_pi, z_q, *outs, z_pi.stride(0), z_q.stride(0), V)
    return tuple(outs)


def kl_backward(z_pi, z_q, lse_pi, lse_q, kl_pi_q, g_kl_q_pi, g_kl_pi_q):
    """``dz_π (C, V)``, written over ``z_pi``."""
    z_pi, z_q, V = z_pi.contiguous(), z_q.contiguous(), z_pi.shape[1]
    vectors = _rows(lse_pi, lse_q, kl_pi_q, g_kl_q_pi, g_kl_pi_q)
    _launch(_kl_bwd, z_pi, z_pi, z_q, *vectors, z_pi.stride(0), z_q.stride(0), V)
    return z_pi
