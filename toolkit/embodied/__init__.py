"""Data efficiency of end-to-end vs neuro-symbolic agents in a household (after LAMBDA,
Jaafar et al., arXiv 2412.05313).

A multi-room, multi-floor household as a grid graph behind the Gymnasium API, language-conditioned
pick-and-place tasks with templated, paraphrased instructions, a noisy scripted expert, and two
agents that learn from N of its demos:

* :mod:`~toolkit.embodied.vocab` — object, color, receptacle and room names with seen and
  held-out surface forms, instruction templates, held-out object/room combinations;
* :mod:`~toolkit.embodied.world` — ``HouseSpec`` (a house by hand) and ``House`` (its arrays and
  distances), ``generate_house`` (seeded layouts), the actions;
* :mod:`~toolkit.embodied.tasks` — goals, tasks checked for solvability (``ImpossibleTask``),
  instructions, the seen / held-out splits and their episodes;
* :mod:`~toolkit.embodied.env` — ``HouseEnv`` (Gymnasium) and ``BatchedHouses`` (many
  episodes stepped as arrays), partial observation of the current room;
* :mod:`~toolkit.embodied.planner` — A* over the world graph with pick/place operators, the
  noisy expert, demos;
* :mod:`~toolkit.embodied.grounding` — MiniLM nearest-anchor grounding parser, its calibration
  on demos' instructions, "cannot ground" with the closest candidates, cached embeddings;
* :mod:`~toolkit.embodied.agents` — the end-to-end (behaviour-cloned transformer) and the
  neuro-symbolic (parse, plan, execute) agents, batched rollouts;
* :mod:`~toolkit.embodied.experiments` — success against demo count, intervals, data to reach
  a success rate, failure categories;
* :mod:`~toolkit.embodied.replay` — an episode as plain data for the replay widget.

Everything in ``__all__`` loads on first use. Design and defaults: ``docs/methods/embodied.md``.
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

if TYPE_CHECKING:
    from toolkit.embodied.agents import (
        STOP,
        BCConfig,
        EndToEndAgent,
        EpisodeResult,
        NeuroSymbolicAgent,
        PolicyNet,
        demo_observations,
        rollout,
    )
    from toolkit.embodied.env import OBS_DIM, BatchedHouses, HouseEnv, static_features
    from toolkit.embodied.experiments import (
        AGENTS,
        FAILURES,
        Curve,
        data_to_reach,
        failure_category,
        mean_interval,
        run_curve,
        summarize,
        wilson_interval,
    )
    from toolkit.embodied.grounding import (
        EmbeddingCache,
        GroundingParser,
        Mention,
        Parse,
        Ungrounded,
        noun_phrases,
    )
    from toolkit.embodied.planner import (
        Demo,
        expert_demo,
        expert_demos,
        goal_reached,
        initial_state,
        plan,
        step_state,
    )
    from toolkit.embodied.replay import episode_frames
    from toolkit.embodied.tasks import (
        Episode,
        Goal,
        ImpossibleTask,
        Split,
        Task,
        make_episodes,
        make_splits,
        make_task,
        render_instruction,
        sample_episode,
        sample_task,
    )
    from toolkit.embodied.world import ACTIONS, N_ACTIONS, House, HouseSpec, generate_house

__all__ = [
    "ACTIONS",
    "AGENTS",
    "FAILURES",
    "N_ACTIONS",
    "OBS_DIM",
    "STOP",
    "BCConfig",
    "BatchedHouses",
    "Curve",
    "Demo",
    "EmbeddingCache",
    "EndToEndAgent",
    "Episode",
    "EpisodeResult",
    "Goal",
    "GroundingParser",
    "House",
    "HouseEnv",
    "HouseSpec",
    "ImpossibleTask",
    "Mention",
    "NeuroSymbolicAgent",
    "Parse",
    "PolicyNet",
    "Split",
    "Task",
    "Ungrounded",
    "data_to_reach",
    "demo_observations",
    "episode_frames",
    "expert_demo",
    "expert_demos",
    "failure_category",
    "generate_house",
    "goal_reached",
    "initial_state",
    "make_episodes",
    "make_splits",
    "make_task",
    "mean_interval",
    "noun_phrases",
    "plan",
    "render_instruction",
    "rollout",
    "run_curve",
    "sample_episode",
    "sample_task",
    "static_features",
    "step_state",
    "summarize",
    "wilson_interval",
]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
