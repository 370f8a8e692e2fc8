"""Attention geometry and KV-cache compression (Godey et al., arXiv 2503.02812, Q-Filters)."""
