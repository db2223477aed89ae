"""Documents a manufacturer publishes (disclosure policy, support period, guidance and notices):
reachability and text.

Shared by the 5.2-1, 5.3-13 and harness.checks.guidance checks (5.11-3, 5.12-2, 5.12-3, 6-1, 6-5).
Pure: the fetching is done elsewhere (harness.documents).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from harness.verdict import CheckResult


@dataclass
class FetchedDocument:
    """One anonymous fetch of a published document.

    status is the HTTP status (None when no answer came); error a lab-side failure (timeout, TLS,
    out of scope): the document was not judged. authenticated=True means the document could only
    be obtained with an account (the anonymous fetch was refused and a logged-in one succeeded).
    """

    url: str
    status: int | None
    content_type: str
    text: str
    error: str | None = None
    authenticated: bool = False
    # "fetched" (read by the harness now) or "lab copy" (a copy the lab fetched where the bench
    # cannot reach; its URL, date and hash are in ``note``). ``note`` also records a weakness of
    # the transport (e.g. weak TLS) the document was read over.
    source: str = "fetched"
    note: str = ""

    def provenance(self) -> dict[str, str]:
        """The fields a certifier needs to trust how the text was obtained."""
        return {"source": self.source, **({"note": self.note} if self.note else {})}


def reachability(doc: FetchedDocument, what: str = "the document") -> CheckResult | None:
    """None when the document was read anonymously; else why not, as FAIL (device side) or
    INCONCLUSIVE (lab side, or a state the harness cannot interpret)."""
    url, status = doc.url, doc.status
    if doc.error:
        return CheckResult.inconclusive(f"{url} could not be fetched by the lab ({doc.error})")
    if status is None:
        return CheckResult.inconclusive(f"{url} gave no HTTP status")
    if 200 <= status < 300:
        if doc.authenticated:
            return CheckResult.failed(f"{what} at {url} is readable only with an account")
        return None
    if 300 <= status < 400:
        return CheckResult.inconclusive(f"{url} answered HTTP {status} (a redirect); the harness follows no "
                                        f"redirect, so declare the final URL in the IXIT")
    if status in (401, 403):
        return CheckResult.failed(f"{what} at {url} needs an account or is refused to anonymous readers "
                                  f"(HTTP {status})")
    if status in (404, 410):
        return CheckResult.failed(f"{what} is not published at {url} (HTTP {status})")
    if status in (407, 408, 429) or status >= 500:
        return CheckResult.inconclusive(f"{url} answered HTTP {status} (server, proxy or rate-limit trouble); "
                                        f"fetch it again")
    return CheckResult.inconclusive(f"{url} answered an anonymous GET with an unexpected HTTP {status}; check by hand")


_BLOCK_END = re.compile(r"<\s*(br|/p|/li|/h[1-6]|/div|/tr|/td|/th|/dt|/dd|/section|/article|/header|/footer|/ul|/ol|/table|/title)\b[^>]*>", re.I)


def looks_like_html(doc_text: str, content_type: str = "") -> bool:
    return "html" in content_type.lower() or bool(re.search(r"<\s*(html|body|p|div|h[1-6]|time)\b", doc_text, re.I))


def html_to_text(text: str) -> str:
    """Visible text of an HTML page; block ends become newlines so sentences stay apart."""
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"<\s*(script|style)\b.*?<\s*/\s*\1\s*>", " ", text, flags=re.S | re.I)
    text = _BLOCK_END.sub("\n", text)
    text = re.sub(r"<[^>]*>", " ", text)
    text = html.unescape(text)
    return re.sub(r"[ \t\r\f\v\xa0]+", " ", text)


def plain_text(doc: FetchedDocument) -> str:
    return html_to_text(doc.text) if looks_like_html(doc.text, doc.content_type) else doc.text


def sentences(text: str) -> list[str]:
    out = []
    for line in re.split(r"\r\n|\r|\n", text):
        for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])", line):
            s = s.strip(" \t-*•#>")
            if s:
                out.append(s)
    return out


def excerpt(s: str, limit: int = 300) -> str:
    return s if len(s) <= limit else s[: limit - 1] + "…"
