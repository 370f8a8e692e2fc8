"""Taste → music: taste profiles, crossmodal-correspondence rules, a composer, synthesis,
audio features, text understanding and the MusicGen path (Spanio et al., arXiv 2503.02823)."""
