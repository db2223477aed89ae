"""lab.yaml for the families whose units talk to their maker's own cloud broker (camera, plug): the
lab cannot re-point the units, so it observes that broker with an observer account instead of
starting its own. One template so both families describe the same lab the same way; the hub's
lab.yaml (a lab broker the suites start) is harness.simctl's."""

from __future__ import annotations

FILE = "lab.yaml"

TEMPLATE = """\
# Lab configuration for a {persona} simulator run, written by `harness sim --persona {persona}`.
schema_version: 1
name: "simulator ({persona})"
runtime: runtime.json
secrets: {{file: secrets.json, environment: false}}
fetch: {{allow: [127.0.0.0/8], ca: {{runtime: https.ca}}, timeout: 5}}
networks: [127.0.0.0/8]
# {broker_note}
broker:
  start: false
  url: {url}
  ca: {ca}
  observer: {{user: {observer}, password: {{secret: {secret}}}}}
capture: {{interface: lo}}
"""


def observed_cloud_lab(persona: str, broker_note: str, url: str, ca: str, observer: str, secret: str) -> str:
    """`ca` is YAML as written: a path, or a reference such as `{runtime: cloud.ca}`; `secret` names
    the observer's password in secrets.json."""
    return TEMPLATE.format(persona=persona, broker_note=broker_note, url=url, ca=ca, observer=observer,
                           secret=secret)
