"""The manufacturer's published documents the HTTPS server serves, shaped by the behaviour."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from harness.sim.catalog import MODEL, Behaviour

SECURITY_TXT = "/.well-known/security.txt"
POLICY = "/security/policy"
SUPPORT = "/support"
PRIVACY = "/privacy"
TELEMETRY = "/privacy/telemetry"
DELETE_DATA = "/support/delete-your-data"
SETUP_GUIDE = "/support/secure-setup"
SETUP_CHECK = "/support/check-your-setup"
ACK_TIMELINE = "We acknowledge every report within 5 working days."
STATUS_TIMELINE = "We send status updates at least every 30 days until the issue is resolved."
SUPPORT_END = dt.date(2030, 12, 31)


@dataclass(frozen=True)
class Document:
    content_type: str
    body: str


def _html(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>\n'
            f"<body>\n<h1>{title}</h1>\n{body}\n</body></html>\n")


def _security_txt(kind: str, base: str, now: dt.datetime) -> str:
    expires = now + (dt.timedelta(days=-30) if kind == "expired" else dt.timedelta(days=365))
    lines = ["# SimIoT Ltd security contact (RFC 9116)"]
    if kind != "no_contact":
        lines += ["Contact: mailto:security@simiot.example", "Contact: https://simiot.example/security/report"]
    lines += [f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}", f"Policy: {base}{POLICY}",
              "Preferred-Languages: en", f"Canonical: {base}{SECURITY_TXT}"]
    return "\n".join(lines) + "\n"


def _policy(timelines: bool) -> str:
    body = ("<p>SimIoT Ltd welcomes reports of security vulnerabilities in its products. Report them to "
            '<a href="mailto:security@simiot.example">security@simiot.example</a>.</p>')
    if timelines:
        body += f"\n<p>{ACK_TIMELINE}</p>\n<p>{STATUS_TIMELINE}</p>"
    return _html("Vulnerability disclosure policy", body)


def _support(end_date: bool) -> str:
    if end_date:
        body = (f"<p>Security updates for the {MODEL} are provided until "
                f'<time datetime="{SUPPORT_END.isoformat()}">31 December 2030</time>.</p>')
    else:
        body = "<p>We support our products for as long as commercially reasonable.</p>"
    return _html(f"{MODEL} support", body)


def _privacy(kind: str) -> str:
    # Each kind of personal data in its own paragraph: what it is, why, who, how long.
    items = [
        ("Owner name", "the name you give the hub's owner in the companion app. We use it to personalise "
         "the companion app for you."),
        ("Location", "the town or postcode you enter in the companion app. We use it to run local weather "
         "scenes, for example closing the blinds when rain is forecast."),
        ("Usage statistics", "how long the hub is active and which scenes run, sent only while you "
         "consent to usage analytics in the companion app. We use them for product improvement analytics: "
         "to improve the companion app and the hub firmware."),
    ]
    if kind == "incomplete":
        items = [i for i in items if i[0] != "Location"]
    rows = "\n".join(f"<p><strong>{what}</strong>: {why}</p>" for what, why in items)
    return _html(f"{MODEL} privacy notice", (
        f"<p>SimIoT Ltd is the controller of the personal data the {MODEL} and the SimIoT companion app "
        "process. SimIoT Ltd processes it in the EU and shares it with no one else.</p>\n"
        f"<h2>What we process and why</h2>\n{rows}\n"
        "<h2>How long we keep it</h2>\n<p>We keep your data while the hub is registered to you. A factory "
        f'reset erases it from the hub; see <a href="{DELETE_DATA}">deleting your data</a>.</p>\n'
        f'<p>The technical data the hub reports is described in <a href="{TELEMETRY}">telemetry</a>.</p>'))


def _telemetry(listed: bool) -> str:
    if not listed:
        return _html(f"{MODEL} telemetry", "<p>The hub sends some technical data to SimIoT Ltd to help us "
                     "improve our products.</p>")
    items = [
        ("Uptime", "seconds since the hub started, to detect units that restart unexpectedly"),
        ("Temperature", "the hub's internal temperature, to detect overheating units"),
        ("Signal strength", "the Wi-Fi signal strength (RSSI), to diagnose connection problems"),
        ("Firmware version", "the installed firmware version, to plan and verify firmware updates"),
    ]
    rows = "\n".join(f"<li><strong>{what}</strong>: {why}.</li>" for what, why in items)
    return _html(f"{MODEL} telemetry", (
        "<p>Every few seconds the hub reports the following technical data to SimIoT Ltd over an encrypted "
        f"connection. It contains no personal data.</p>\n<ul>\n{rows}\n</ul>"))


def _delete_data() -> str:
    return _html("Deleting your data from the hub", (
        "<p>A factory reset erases all user data from the hub: the owner name, the location, usage "
        "statistics, the Wi-Fi credentials and every setting, and restores the factory settings and the "
        "password printed on the label.</p>\n<ol>\n"
        "<li>Connect to the hub's service console and log in.</li>\n"
        "<li>Type <code>factory-reset</code> and press Enter.</li>\n"
        "<li>Wait until the hub reports that the reset is complete and the login prompt appears.</li>\n</ol>"))


def _setup_guide() -> str:
    return _html(f"Setting up your {MODEL} securely", (
        "<ol>\n<li>Log in with the password printed on the label of your hub; every hub has its own.</li>\n"
        "<li>Change the password with the <code>passwd</code> command to one only you know.</li>\n"
        "<li>Connect the hub to a Wi-Fi network protected with WPA2 or WPA3 "
        "(<code>wifi set &lt;ssid&gt; &lt;passphrase&gt;</code>).</li>\n"
        "<li>Connect it to your broker over an encrypted mqtts:// connection only.</li>\n"
        "<li>Install the latest firmware update before you use the hub.</li>\n</ol>"))


def _setup_check() -> str:
    return _html(f"Checking that your {MODEL} is set up securely", (
        "<ul>\n<li>Run <code>version</code> and check that the firmware version is the latest one listed "
        f'on our <a href="{SUPPORT}">support page</a>.</li>\n'
        "<li>Run <code>mqtt status</code> and make sure the broker connection is encrypted (mqtts://).</li>\n"
        "<li>Run <code>wifi show</code> and verify that the hub uses your WPA2 or WPA3 network.</li>\n"
        "<li>Log out and confirm that the label password is refused once you have changed it.</li>\n</ul>"))


def published(base: str) -> dict[str, str]:
    """Runtime facts under ``https``: the URL of every document the site may serve."""
    return {"security_txt": base + SECURITY_TXT, "policy": base + POLICY, "support": base + SUPPORT,
            "privacy": base + PRIVACY, "telemetry": base + TELEMETRY, "delete_data": base + DELETE_DATA,
            "setup_guide": base + SETUP_GUIDE, "setup_check": base + SETUP_CHECK}


def documents(behaviour: Behaviour, base: str, now: dt.datetime | None = None) -> dict[str, Document]:
    """Path -> document; a path not in the mapping is a 404."""
    now = now or dt.datetime.now(dt.UTC)
    html = "text/html; charset=utf-8"
    docs = {POLICY: Document(html, _policy(behaviour.policy_timelines)),
            SUPPORT: Document(html, _support(behaviour.support_end_date)),
            TELEMETRY: Document(html, _telemetry(behaviour.telemetry_notice))}
    if behaviour.security_txt != "absent":
        docs[SECURITY_TXT] = Document("text/plain; charset=utf-8", _security_txt(behaviour.security_txt, base, now))
    if behaviour.privacy_notice != "absent":
        docs[PRIVACY] = Document(html, _privacy(behaviour.privacy_notice))
    if behaviour.deletion_instructions:
        docs[DELETE_DATA] = Document(html, _delete_data())
    if behaviour.setup_guide:
        docs[SETUP_GUIDE] = Document(html, _setup_guide())
    if behaviour.setup_check_guide:
        docs[SETUP_CHECK] = Document(html, _setup_check())
    return docs
