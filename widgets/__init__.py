"""Notebook widgets: anywidget views over plain data from the toolkit.

Each widget is one ES module plus one CSS file in this package (see ``widgets.base``), so
they render offline in JupyterLab and in static HTML (``widgets.export.to_html``). Everything
in ``__all__`` loads on first use.
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

if TYPE_CHECKING:
    from widgets.agent_graph_view import AgentGraphView
    from widgets.annotator_mix_view import AnnotatorMixView
    from widgets.attention_geometry_view import AttentionGeometryView
    from widgets.episode_replay_view import EpisodeReplayView
    from widgets.lineage_view import LineageView
    from widgets.reward_sweep_view import RewardSweepView
    from widgets.search_tree_view import SearchTreeView
    from widgets.taste_playground import TastePlayground
    from widgets.token_strip import TokenStrip
    from widgets.token_weight_view import TokenWeightView
    from widgets.trajectory_view import TrajectoryView
    from widgets.word_association_view import WordAssociationView

__all__ = [
    "AgentGraphView",
    "AnnotatorMixView",
    "AttentionGeometryView",
    "EpisodeReplayView",
    "LineageView",
    "RewardSweepView",
    "SearchTreeView",
    "TastePlayground",
    "TokenStrip",
    "TokenWeightView",
    "TrajectoryView",
    "WordAssociationView",
]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
