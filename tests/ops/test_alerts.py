"""The alerting rules (ops/alerts.yml) query only what Octopods exports, by labels the
metrics have, and each points at the README's part that says what to do."""

import re
from pathlib import Path

import yaml

from octopods import metrics

ROOT = Path(__file__).resolve().parent.parent.parent
RULES = yaml.safe_load((ROOT / "ops/alerts.yml").read_text())["groups"][0]["rules"]
# Prometheus's own: whether a scrape target answered.
PROMETHEUS = {"up": {"job", "instance"}}


def exported() -> dict[str, set[str]]:
    """Every series name Octopods exports, with the labels it carries."""
    series = {}
    for metric in (
        metrics.WEBHOOKS,
        metrics.MESSAGES_STORED,
        metrics.MESSAGES_RELAYED,
        metrics.MESSAGES_FAILED,
        metrics.RELAY_ATTEMPTS,
        metrics.RELAY_BACKOFFS,
        metrics.PROVIDER_ERRORS,
    ):
        series[metric._name + "_total"] = set(metric._labelnames)
    for metric in (metrics.PROVIDER_SECONDS, metrics.REQUEST_SECONDS):
        for suffix in ("_bucket", "_sum", "_count"):
            series[metric._name + suffix] = set(metric._labelnames)
    for name in (metrics.BACKLOG, metrics.OLDEST_DUE, metrics.WAITING):
        series[name] = {"inbox", "direction"}
    series[metrics.BACKLOG_UP] = set()
    assert set(series) == metrics.metric_names()
    return series | PROMETHEUS


def test_every_alert_queries_exported_series_by_their_labels():
    series = exported()
    for rule in RULES:
        expr = rule["expr"]
        for name, matchers in re.findall(r"\b([a-z_]+)\{([^}]*)\}", expr):
            labels = set(re.findall(r"(\w+)\s*[=!]~?", matchers))
            assert labels <= series[name], (rule["alert"], name, labels - series[name])
        named = set(re.findall(r"\b(octopods_\w+|up)\b(?=\{|\[|\)|\s|$)", expr))
        assert named and named <= set(series), (rule["alert"], named - set(series))
        grouped = {
            label.strip()
            for label in ",".join(re.findall(r"by \(([^)]*)\)", expr)).split(",")
            if label.strip()
        }
        assert all(grouped <= series[name] for name in named), (rule["alert"], grouped)


def test_every_alert_says_what_it_means_and_where_to_read_what_to_do():
    readme = (ROOT / "README.md").read_text()
    assert "## Operating Octopods" in readme
    for rule in RULES:
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"]
        assert annotations["runbook"] == "README.md#operating-octopods"
        assert f"`{rule['alert']}`" in readme, f"README does not explain {rule['alert']}"
