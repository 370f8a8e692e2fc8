"""The cache never serves a partial entry and builds each entry once."""

import json
import subprocess
import sys
import textwrap

import pytest

from toolkit.zoo import cache

RECIPE = {"size": 3}


def write_files(directory):
    (directory / "weights.bin").write_bytes(b"\x00\x01" * 100)
    (directory / "config.json").write_text(json.dumps({"size": 3}))
    return {"score": 1.0}


def test_build_then_reuse(tmp_path):
    calls = []

    def build(directory):
        calls.append(directory)
        return write_files(directory)

    first = cache.ensure_entry("toy", RECIPE, build, root=tmp_path)
    second = cache.ensure_entry("toy", RECIPE, build, root=tmp_path)
    assert first == second and len(calls) == 1
    manifest = cache.read_manifest(first)
    assert manifest["metrics"] == {"score": 1.0}
    assert set(manifest["files"]) == {"weights.bin", "config.json"}
    assert not any((tmp_path / ".tmp").iterdir())


def test_recipe_change_is_a_new_entry(tmp_path):
    a = cache.ensure_entry("toy", {"size": 3}, write_files, root=tmp_path)
    b = cache.ensure_entry("toy", {"size": 4}, write_files, root=tmp_path)
    assert a != b and a.exists() and b.exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: (d / "zoo_manifest.json").unlink(),  # build died before the manifest
        lambda d: (d / "zoo_manifest.json").write_text("{not json"),
        lambda d: (d / "weights.bin").write_bytes(b"truncated"),  # file changed on disk
        lambda d: (d / "weights.bin").unlink(),  # file missing
    ],
)
def test_partial_or_corrupt_entry_is_rebuilt_not_loaded(tmp_path, damage):
    entry = cache.ensure_entry("toy", RECIPE, write_files, root=tmp_path)
    (entry / "qfilters").mkdir()
    (entry / "qfilters" / "qfilters.json").write_text("{}")  # the user's, saved next to it
    damage(entry)
    assert cache.read_manifest(entry) is None
    assert [e.status for e in cache.list_entries(tmp_path)] == ["partial"]
    rebuilt = cache.ensure_entry("toy", RECIPE, write_files, root=tmp_path)
    assert rebuilt == entry and cache.read_manifest(rebuilt) is not None
    assert (rebuilt / "weights.bin").read_bytes() == b"\x00\x01" * 100
    assert (rebuilt / "qfilters" / "qfilters.json").read_text() == "{}"


def test_files_the_toolkit_did_not_write_keep_an_entry_ready(tmp_path):
    entry = cache.ensure_entry("toy", RECIPE, write_files, root=tmp_path)
    (entry / "notes.txt").write_text("mine")
    assert cache.read_manifest(entry) is not None
    assert cache.ensure_entry("toy", RECIPE, write_files, root=tmp_path, rebuild=True) == entry
    assert (entry / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("caller_threads", [1, 3])
def test_a_build_trains_on_the_same_threads_whoever_calls_it(tmp_path, caller_threads):
    """A test process on one thread and a notebook on the machine's count build the same bits."""
    torch = pytest.importorskip("torch")
    seen = []

    def build(directory):
        seen.append(torch.get_num_threads())
        if caller_threads == 3:
            raise RuntimeError("build failed")
        return write_files(directory)

    before = torch.get_num_threads()
    torch.set_num_threads(caller_threads)
    try:
        if caller_threads == 3:
            with pytest.raises(RuntimeError, match="build failed"):
                cache.ensure_entry("toy", RECIPE, build, root=tmp_path)
        else:
            entry = cache.ensure_entry("toy", RECIPE, build, root=tmp_path)
            assert cache.read_manifest(entry)["build_threads"] == cache.BUILD_THREADS
        assert torch.get_num_threads() == caller_threads  # the caller's count comes back
    finally:
        torch.set_num_threads(before)
    assert seen == [cache.BUILD_THREADS]


def test_failed_build_leaves_previous_entry_untouched(tmp_path):
    entry = cache.ensure_entry("toy", RECIPE, write_files, root=tmp_path)

    def broken(directory):
        (directory / "weights.bin").write_bytes(b"half")
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError):
        cache.ensure_entry("toy", RECIPE, broken, root=tmp_path, rebuild=True)
    assert cache.read_manifest(entry) is not None
    assert (entry / "weights.bin").read_bytes() == b"\x00\x01" * 100
    assert not any((tmp_path / ".tmp").iterdir())


def test_remove_entries(tmp_path):
    cache.ensure_entry("toy", RECIPE, write_files, root=tmp_path)
    cache.ensure_entry("other", RECIPE, write_files, root=tmp_path)
    (tmp_path / ".tmp" / "toy-abc-123-deadbeef").mkdir()  # abandoned build
    (tmp_path / ".tmp" / "toy-extra-abc-123-deadbeef").mkdir()  # another model's
    removed = cache.remove_entries("toy", root=tmp_path)
    assert len(removed) == 2 and (tmp_path / ".tmp" / "toy-extra-abc-123-deadbeef").exists()
    assert [e.name for e in cache.list_entries(tmp_path)] == ["other"]
    cache.remove_entries(root=tmp_path)
    assert cache.list_entries(tmp_path) == []


BUILDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from toolkit.zoo import cache

    root, counter = Path(sys.argv[1]), Path(sys.argv[2])

    def build(directory):
        with open(counter, "a") as fh:
            fh.write("built\\n")
        time.sleep(1.0)  # a slow build: the other process must wait, not build again
        (directory / "weights.bin").write_bytes(b"w" * 1000)
        return {}

    print(cache.ensure_entry("toy", {"size": 3}, build, root=root))
    """
)


def test_two_processes_build_once(tmp_path):
    counter = tmp_path / "builds.txt"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", BUILDER, str(tmp_path / "zoo"), str(counter)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outputs[0] == outputs[1]
    assert counter.read_text().count("built") == 1
    assert [e.status for e in cache.list_entries(tmp_path / "zoo")] == ["ready"]
