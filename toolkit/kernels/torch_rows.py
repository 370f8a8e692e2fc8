"""Per-row softmax statistics of a block of logits, and their logit gradients, in torch.

The ``ops`` of the ``"chunked"`` implementation (see ``toolkit.kernels.chunking`` for the
contract). Every function works on a ``(C, V)`` block in float32 (float64 for float64
inputs) and overwrites its scratch inputs where that saves a ``(C, V)`` buffer.
"""

from __future__ import annotations

import torch

from toolkit.kernels.logits import upcast


def _scaled(z: torch.Tensor, inv_temp: float) -> torch.Tensor:
    """``s = z / τ`` upcast to float32 (C, V); may be ``z`` itself."""
    s = upcast(z)
    return s.mul_(inv_temp) if inv_temp != 1.0 else s


def logprob_forward(z, labels, inv_temp: float, with_entropy: bool):
    """``log p_y = s_y − lse(s)`` and ``H = lse(s) − Σ_v p_v s_v`` with ``p = softmax(s)``."""
    s = _scaled(z, inv_temp)  # (C, V)
    lse = torch.logsumexp(s, -1)  # (C,)
    log_prob = s.gather(1, labels[:, None])[:, 0] - lse
    entropy = None
    if with_entropy:
        p = (s - lse[:, None]).exp_()  # (C, V)
        entropy = lse - torch.linalg.vecdot(p, s)
    return log_prob, entropy, lse


def logprob_backward(z, labels, lse, entropy, g_log_prob, g_entropy, inv_temp: float):
    """``dz = (1/τ)·[g_y·(onehot(y) − p) − g_H·p ⊙ (log p + H)]`` on a vocabulary tile."""
    log_p = _scaled(z, inv_temp).sub_(lse[:, None])  # (C, V)
    coef = g_log_prob[:, None]  # (C, 1), becomes (C, V) with an entropy gradient
    if g_entropy is not None:
        coef = (log_p + entropy[:, None]).mul_(g_entropy[:, None]).add_(coef)
    dz = log_p.exp_().mul_(coef).neg_()  # −p ⊙ coef
    here = (labels >= 0) & (labels < dz.shape[1])  # the label is in this vocabulary tile
    dz.scatter_add_(1, labels.clamp(0, dz.shape[1] - 1)[:, None], (g_log_prob * here)[:, None])
    if inv_temp != 1.0:
        dz.mul_(inv_temp)
    return dz.to(z.dtype)


def kl_forward(z_pi, z_q):
    """``KL(q‖π) = Σ q (log q − log π)`` and ``KL(π‖q) = Σ π (log π − log q)`` per row."""
    z_pi = upcast(z_pi)
    lse_pi, lse_q = torch.logsumexp(z_pi, -1), torch.logsumexp(z_q, -1)  # (C,)
    log_pi = z_pi - lse_pi[:, None]  # (C, V)
    log_q = z_q.sub_(lse_q[:, None])  # (C, V), in place
    diff = log_q - log_pi  # (C, V)
    kl_q_pi = torch.linalg.vecdot(log_q.exp_(), diff)
    kl_pi_q = -torch.linalg.vecdot(log_pi.exp_(), diff)
    return kl_q_pi, kl_pi_q, lse_pi, lse_q


def kl_backward(z_pi, z_q, lse_pi, lse_q, kl_pi_q, g_kl_q_pi, g_kl_pi_q):
    """``dz_π = g_f·(π − q) + g_r·π ⊙ (log π − log q − KL(π‖q))``, in ``z_pi``'s dtype."""
    log_pi = upcast(z_pi) - lse_pi[:, None]  # (C, V)
    log_q = z_q.sub_(lse_q[:, None])  # (C, V), in place
    coef = (log_pi - log_q).sub_(kl_pi_q[:, None]).mul_(g_kl_pi_q[:, None])
    coef.add_(g_kl_q_pi[:, None])  # g_f + g_r·(log π − log q − KL(π‖q))
    dz = log_pi.exp_().mul_(coef).sub_(log_q.exp_().mul_(g_kl_q_pi[:, None]))
    return dz.to(z_pi.dtype)
