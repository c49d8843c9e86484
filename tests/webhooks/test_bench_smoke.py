"""bench/webhooks.py runs end to end on a small load (its figures are not checked here)."""

from __future__ import annotations

from bench import webhooks as bench


async def test_the_webhook_benchmark_runs_and_every_delivery_arrives_signed(server_url_base, capsys):
    results = await bench.run(leads=40, endpoints=2, latency_seconds=0.5, baseline_share=0.5, postgres_url=server_url_base)
    assert results["deliveries"] == 80 and results["baseline_deliveries"] == 40
    assert results["latency_deliveries"] > 0 and results["p99"] >= results["p50"] > 0
    assert results["per_second"] > 0 and results["baseline_per_second"] > 0
    assert results["bad"] == 0 and results["verified"] >= 2
    bench.report(results, 40, 2)
    assert "deliveries/s" in capsys.readouterr().out
