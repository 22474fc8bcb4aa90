"""What metrics add to one webhook, timed in-process: the real decorator and middleware
around a view that does nothing, against the same view bare.

    .venv/bin/python -m bench.metrics_cost            # both modes, one line each

Each mode runs in a process of its own: prometheus_client picks in-memory values or
files (gunicorn's PROMETHEUS_MULTIPROC_DIR) when it is first imported. The figure is
the best of several rounds (the machine is shared and noisy; the minimum is the cost,
the rest is other processes), in microseconds per webhook.
"""

import json
import os
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path

ROUNDS = 7
CALLS = 20_000


def measure() -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopods.settings.test")
    import django

    django.setup()
    from django.http import HttpResponse
    from django.test import RequestFactory

    from integrations.channel import InboundMessage, Sender
    from octopods import metrics

    answer = HttpResponse("ok")
    request = RequestFactory().post("/hooks/telegram/k/")
    request.resolver_match = type("Match", (), {"view_name": "channels:webhook"})()
    events = [
        InboundMessage(
            provider_message_id="1",
            sender=Sender(external_id="1"),
            sent_at=None,
            type="text",
            text="hi",
        )
    ]

    def view(request, kind, key):
        return answer

    def bare():
        return view(request, kind="telegram", key="k")

    counted_view = metrics.webhook_counted(view)

    def handler(request):
        response = counted_view(request, kind="telegram", key="k")
        metrics.messages_stored("telegram", events)  # the view's one line
        return response

    instrumented = metrics.RequestMetricsMiddleware(handler)

    def with_metrics():
        return instrumented(request)

    def best(function) -> float:
        return min(timeit.repeat(function, number=CALLS, repeat=ROUNDS)) / CALLS * 1e6

    with_metrics()  # label children made once, as the first webhook does
    bare_us, metrics_us = best(bare), best(with_metrics)
    return {
        "mode": "multiprocess" if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else "in-memory",
        "bare_us": round(bare_us, 2),
        "with_metrics_us": round(metrics_us, 2),
        "extra_us": round(metrics_us - bare_us, 2),
    }


def run(multiprocess: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    with tempfile.TemporaryDirectory(prefix="octopods-metrics-cost-") as folder:
        if multiprocess:
            env["PROMETHEUS_MULTIPROC_DIR"] = folder
        output = subprocess.run(
            [sys.executable, "-m", "bench.metrics_cost", "--one"],
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    if "--one" in sys.argv:
        print(json.dumps(measure()))
        return
    for multiprocess in (False, True):
        figures = run(multiprocess)
        print(
            f"{figures['mode']:>12}: bare view {figures['bare_us']} µs, with metrics "
            f"{figures['with_metrics_us']} µs: {figures['extra_us']} µs more per webhook"
        )


if __name__ == "__main__":
    main()
