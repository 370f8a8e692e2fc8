"""PPO: GAE and the clipped surrogate by hand, a tiny hover run, policy files, the zoo cache."""

import math

import pytest
import torch

from toolkit.control import policies
from toolkit.control.ppo import (
    Policy,
    PolicyFileError,
    PPOConfig,
    RunningNorm,
    clipped_surrogate,
    gae,
    load,
    save,
    train,
)
from toolkit.control.task import TrackingTask
from toolkit.zoo import cache

torch.set_num_threads(1)


def test_gae_against_a_hand_computation():
    # env 0: truncated after step 1 (final value 10), terminated after step 2; env 1: no ends
    gamma, lam = 0.9, 0.8
    rewards = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 1.0]])
    values = torch.tensor([[0.5, 1.0], [0.4, 1.0], [0.3, 1.0]])
    next_values = torch.tensor([[0.4, 1.0], [10.0, 1.0], [99.0, 2.0]])
    terminated = torch.tensor([[False, False], [False, False], [True, False]])
    truncated = torch.tensor([[False, False], [True, False], [False, False]])
    advantages, returns = gae(rewards, values, next_values, terminated, truncated, gamma, lam)
    # env 0: δ = (1 + .9·.4 − .5, 2 + .9·10 − .4, 3 − .3) = (.86, 10.6, 2.7);
    #        Â₂ = 2.7, Â₁ = 10.6 (the truncation cuts the trace), Â₀ = .86 + .72·10.6
    # env 1: δ = (−.1, −.1, 1 + .9·2 − 1); Â₂ = 1.8, Â₁ = −.1 + .72·1.8, Â₀ = −.1 + .72·Â₁
    a1_env1 = -0.1 + 0.72 * 1.8
    expected = torch.tensor(
        [[0.86 + 0.72 * 10.6, -0.1 + 0.72 * a1_env1], [10.6, a1_env1], [2.7, 1.8]]
    )
    torch.testing.assert_close(advantages, expected)
    torch.testing.assert_close(returns, expected + values)


def test_clipped_surrogate_against_a_hand_computation():
    ratios = torch.tensor([0.5, 1.0, 1.5, 1.1])
    advantages = torch.tensor([1.0, -1.0, 2.0, -2.0])
    old = torch.tensor([-1.0, -2.0, -0.5, -3.0])
    loss, clip_fraction = clipped_surrogate(old + ratios.log(), old, advantages, clip=0.2)
    # min(ρÂ, clip(ρ)Â) = (min(.5, .8), −1, min(3, 2.4), min(−2.2, −2.2)) = (.5, −1, 2.4, −2.2)
    assert loss.item() == pytest.approx(-(0.5 - 1 + 2.4 - 2.2) / 4)
    assert clip_fraction.item() == pytest.approx(0.5)


def test_running_norm_matches_the_pooled_statistics():
    norm = RunningNorm(3)
    data = torch.randn(50, 3, generator=torch.Generator().manual_seed(0)) * 4 + 2
    for chunk in data.split(7):
        norm.update(chunk)
    torch.testing.assert_close(norm.mean, data.double().mean(0))
    torch.testing.assert_close(norm.var, data.double().var(0, unbiased=False))


def _hover_task(num_envs, seed):
    return TrackingTask(
        num_envs, trajectory="hover", params=None, wind=False, episode_seconds=4.0, seed=seed
    )


def test_tiny_hover_run_improves_the_episode_return():
    config = PPOConfig(num_envs=16, rollout_steps=16, total_steps=30_000, hidden=(64, 64), lr=1e-3)
    policy, log = train(_hover_task, config, seed=0, progress=False)
    returns = [r for r in log["episode_return"] if not math.isnan(r)]
    first, last = sum(returns[:3]) / 3, sum(returns[-3:]) / 3
    assert last > 1.5 * first, (first, last)
    assert len(log["env_steps"]) == math.ceil(30_000 / 256)
    assert policy.meta["obs_mode"] == "imc" and not policy.training


def _policy_with_statistics(seed=0):
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        policy = Policy(9, 11, hidden=(16, 16), meta={"obs_mode": "plain"})
        policy.obs_norm.update(torch.randn(20, 9) * 3 + 1)
        policy.critic_norm.update(torch.randn(20, 11))
        with torch.no_grad():
            policy.log_std.fill_(-1.0)
    return policy.eval()


def test_save_load_round_trip_gives_identical_actions(tmp_path):
    policy = _policy_with_statistics()
    path = save(policy, tmp_path / "sub" / "policy.pt")
    loaded = load(path)
    obs = torch.randn(32, 9, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(loaded.act(obs), policy.act(obs), rtol=0, atol=0)
    assert loaded.spec() == policy.spec()
    for key, value in policy.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    assert [p.name for p in path.parent.iterdir()] == ["policy.pt"]


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_corrupted_file_is_refused_clearly(tmp_path, damage):
    path = save(_policy_with_statistics(), tmp_path / "policy.pt")
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":  # one bit of log_std's stored value (−1.0 = bf800000)
        data[data.index(b"\x00\x00\x80\xbf" * 4) + 2] ^= 0x01
    else:
        data = bytearray(b"not a policy at all")
    path.write_bytes(bytes(data))
    with pytest.raises(PolicyFileError, match="corrupted"):
        load(path)


def test_mismatched_files_are_refused(tmp_path):
    other = tmp_path / "other.pt"
    torch.save({"format": "something-else/3"}, other)
    with pytest.raises(PolicyFileError, match="is not a toolkit.control.ppo/1 policy file"):
        load(other)
    blob_path = save(_policy_with_statistics(), tmp_path / "policy.pt")
    blob = torch.load(blob_path, weights_only=True)
    blob["state"]["log_std"] = torch.zeros(7)  # a tampered tensor no longer matches the digest
    torch.save(blob, blob_path)
    with pytest.raises(PolicyFileError, match="SHA-256"):
        load(blob_path)


def test_failed_save_leaves_the_old_file_and_no_debris(tmp_path, monkeypatch):
    path = tmp_path / "policy.pt"
    old = _policy_with_statistics(seed=0)
    save(old, path)

    def broken_save(obj, fh):
        fh.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save(_policy_with_statistics(seed=1), path)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["policy.pt"]
    obs = torch.randn(4, 9)
    torch.testing.assert_close(load(path).act(obs), old.act(obs), rtol=0, atol=0)


def test_load_policy_trains_once_and_caches(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    recipe = policies._recipe("imc", "circle")
    recipe["ppo"] = PPOConfig(num_envs=8, rollout_steps=8, total_steps=128).to_dict()
    recipe["task"]["episode_seconds"] = 0.2
    monkeypatch.setitem(policies.RECIPES, "tiny-imc", recipe)
    monkeypatch.setattr(policies, "EVAL_ENVS", 4)
    calls = []
    real_train = policies.train
    monkeypatch.setattr(policies, "train", lambda *a, **k: calls.append(1) or real_train(*a, **k))
    first = policies.load_policy("tiny-imc")
    second = policies.load_policy("tiny-imc")
    log = policies.policy_training_log("tiny-imc")
    assert len(calls) == 1
    assert log["env_steps"][-1] == 128 and len(log["reward"]) == 2
    assert set(first.meta["metrics"]) == {"train", "ood", "train_seconds"}
    assert first.meta["task"]["obs_mode"] == "imc" and first.obs_dim == 54
    obs = torch.randn(3, first.obs_dim)
    torch.testing.assert_close(first.act(obs), second.act(obs), rtol=0, atol=0)
    entry = policies._entry("tiny-imc", recipe, rebuild=False)  # the cached entry, not rebuilt
    assert entry.parent == tmp_path / "zoo" and len(calls) == 1
    assert cache.read_manifest(entry)["metrics"]["ood"] == first.meta["metrics"]["ood"]
    task = policies.make_task(first, 2, params="ood")
    assert task.obs_mode == "imc" and task.episode_steps == 10
    with pytest.raises(ValueError, match="name must be one of"):
        policies.load_policy("no-such-policy")
