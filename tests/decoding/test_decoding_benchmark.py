"""The decoding benchmark's smoke settings run, agree batched vs reference, and tabulate."""

from benchmarks import bench_decoding


def test_smoke_run_gives_identical_outputs_and_a_table():
    settings = bench_decoding.settings(smoke=True, device="cpu")
    rows = bench_decoding.run(settings, "cpu")
    assert len(rows) == len(settings["top_k"]) * len(settings["lookahead"])
    assert all(r["identical"] and r["batched_vs_greedy"] > 0 for r in rows)
    text = bench_decoding.table({"settings": {**settings, "smoke": True}, "rows": rows})
    assert text.count("\n|") == len(rows) + 1 and "identical outputs" in text
