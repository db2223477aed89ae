"""Published guidance and notices (5.11-3, 5.11-4, 5.12-2, 5.12-3, 6-1, 6-5): what a page must name,
and the confirmation a deletion must show.

Pure: the pages are fetched (harness.cases.guidance) and judged here. The rules are mechanical so
that two labs reach the same verdict on the same page:

* A page is judged only when it was read anonymously (harness.checks.published.reachability: 401,
  403, 404 and a page that needs an account are FAIL, lab-side trouble INCONCLUSIVE).
* A *term* is found when it occurs as whole words, case-insensitive, with hyphens, underscores and
  runs of white space read alike ("factory-reset" = "Factory reset") and an optional plural "s".
* A page is cut into *passages*: paragraphs, list items, table rows (cells of one row stay together),
  headings. A short passage (a heading or a table's first cell, eight words or fewer) is read
  together with the passage after it.
* A declared *purpose* is stated when a passage that names the item holds at least half (and at
  least one) of the purpose's words of four letters or more, leaving out common words; words are
  compared on their first five letters ("notifications" and "notify" are the same word).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from harness.checks.published import FetchedDocument, excerpt, plain_text, reachability
from harness.verdict import CheckResult, Evidence, combine

__all__ = ["DeletionRun", "command_terms", "judge_deletion_confirmation", "judge_deletion_instructions",
           "judge_privacy_notice", "judge_setup_check_guide", "judge_setup_guide", "judge_telemetry_notice",
           "mentions", "passages", "purpose_words", "shown_by_unit", "states_purpose", "strip_chrome"]

_COMMON = frozenset("""
about after also been being both each from have into just like made make many more most much must
only other over same shall should some such than that their them then there these they this those
through under used uses using very were what when where which while will with within would your
yours user users device devices product unit units command console menu select choose click enter
type open order""".split())
_LEGAL_FORM = re.compile(r"[\s,]+(ltd\.?|limited|inc\.?|incorporated|gmbh|oy|ab|as|llc|plc|s\.?a\.?|b\.?v\.?|ag|"
                         r"co\.?|corp\.?|corporation|sarl|srl|spa|kk)$", re.I)
_SHORT_PASSAGE = 8


def _norm(text: str) -> str:
    return re.sub(r"[\s\-_]+", " ", text.lower()).strip()


def mentions(text: str, term: str) -> bool:
    """``term`` occurs in ``text`` as whole words (see the module rules)."""
    t = _norm(term)
    if not t:
        return False
    return re.search(rf"(?<![a-z0-9]){re.escape(t)}(?:e?s)?(?![a-z0-9])", _norm(text)) is not None


_CHROME_TAGS = frozenset({"nav", "footer", "script", "style", "noscript", "template"})
_CHROME_ROLES = frozenset({"navigation", "contentinfo", "banner", "complementary", "search"})
_BANNER = re.compile(r"cookie|gdpr|onetrust|consent-(?:banner|manager|bar)|cmp-banner|cc-(?:banner|window)", re.I)
_CHROME_NAMES = frozenset("""nav navbar navigation main-nav site-nav main-menu menu menubar breadcrumb breadcrumbs
sidebar side-bar site-header site-footer footer topbar top-bar""".split())
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


class _ChromeStripper(HTMLParser):
    """The page without what every page of a site carries around its content: navigation,
    header and footer bars, side bars, cookie and consent banners. Their words (Privacy, Security,
    Account, Firmware updates, "make sure you review our privacy policy") are no guidance."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.skip: tuple[str, int] | None = None  # the element being dropped and its nesting depth
        self.content = 0  # open <main>/<article>: an <aside> there is a call-out of the text ("Tip: …")

    def _chrome(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        a = {k: v or "" for k, v in attrs}
        return (tag in _CHROME_TAGS or (tag == "aside" and not self.content)
                or a.get("role", "").lower() in _CHROME_ROLES
                or any(_BANNER.search(t) or t.lower() in _CHROME_NAMES for t in f"{a.get('id', '')} {a.get('class', '')}".split()))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip is not None:
            if tag == self.skip[0]:
                self.skip = (tag, self.skip[1] + 1)
            return
        if tag not in _VOID and self._chrome(tag, attrs):
            self.skip = (tag, 1)
            return
        self.content += tag in ("main", "article")
        self.out.append(self.get_starttag_text() or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip is None:
            self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if self.skip is not None:
            if tag == self.skip[0]:
                depth = self.skip[1] - 1
                self.skip = None if depth == 0 else (tag, depth)
            return
        if tag in ("main", "article") and self.content:
            self.content -= 1
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self.skip is None:
            self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.handle_data(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.handle_data(f"&#{name};")


def strip_chrome(text: str) -> str:
    """An HTML page without its navigation, header/footer bars and cookie banners (see
    _ChromeStripper). A ``<header>`` is dropped only when it holds no heading (a site bar, not
    the title of the content)."""
    text = re.sub(r"<\s*header\b[^>]*>(?:(?!<\s*h[1-6]\b).)*?<\s*/\s*header\s*>", "\n", text, flags=re.S | re.I)
    parser = _ChromeStripper()
    try:
        parser.feed(text)
        parser.close()
    except Exception:  # a page the parser cannot follow is read as it came
        return text
    return "".join(parser.out)


def passages(doc: FetchedDocument, *, headings: bool = True) -> list[str]:
    """Paragraphs, list items, table rows and (unless ``headings`` is false) headings and the
    title of a page, as visible text; navigation, header and footer bars and cookie banners are
    left out (strip_chrome)."""
    text = doc.text
    html = "html" in doc.content_type.lower() or re.search(r"<\s*(html|body|p|li|div|h[1-6])\b", text, re.I)
    if html:
        text = strip_chrome(text)
        if not headings:
            text = re.sub(r"<\s*(title|h[1-6])\b[^>]*>.*?<\s*/\s*\1\s*>", "\n", text, flags=re.S | re.I)
        # Cells of one row, and a term with its description, stay in one passage.
        text = re.sub(r"<\s*/\s*(td|th|dt)\s*>", " — ", text, flags=re.I)
        lines = plain_text(FetchedDocument(doc.url, doc.status, "text/html", text)).splitlines()
    else:
        lines = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    out = [" ".join(line.split()).strip(" —") for line in lines]
    return [p for p in out if p]


def _with_next(parts: list[str]) -> list[str]:
    """Each passage, a short one joined with the passage after it (a heading and its text)."""
    out = []
    for i, p in enumerate(parts):
        if len(p.split()) <= _SHORT_PASSAGE and i + 1 < len(parts):
            out.append(f"{p} {parts[i + 1]}")
        else:
            out.append(p)
    return out


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z']*", text.lower())


def purpose_words(purpose: str) -> list[str]:
    """The words of a declared purpose that must reappear: four letters or more, not common words."""
    words = [w for w in _words(purpose) if len(w) >= 4 and w not in _COMMON]
    return list(dict.fromkeys(words or [w for w in _words(purpose) if len(w) >= 3]))


def _stem(word: str) -> str:
    return word[:5]


def states_purpose(passage: str, purpose: str) -> bool:
    wanted = {_stem(w) for w in purpose_words(purpose)}
    if not wanted:
        return False
    have = {_stem(w) for w in _words(passage)}
    return len(wanted & have) >= max(1, math.ceil(len(wanted) / 2))


def command_terms(initiation: str) -> list[str]:
    """What names a deletion function's starting step: its command-like words (written with a
    hyphen, underscore, slash, dot or digits, or quoted: `factory-reset`, /api/erase), else every
    word of four letters or more that is not a common word."""
    quoted = re.findall(r"(?:^|(?<=[\s(]))[`'\"“‘]([^`'\"”’]+)[`'\"”’]", initiation)
    tokens = re.findall(r"[A-Za-z0-9/][\w./-]*[\w]|[A-Za-z]", initiation)
    special = [t for t in tokens if re.search(r"[A-Za-z]", t) and re.search(r"[-_./]|\d", t)]
    terms = [q.strip() for q in quoted if q.strip()] + special
    if not terms:
        terms = [w for w in _words(initiation) if len(w) >= 4 and w not in _COMMON]
    return list(dict.fromkeys(terms))


def _doc_evidence(doc: FetchedDocument) -> Evidence:
    return Evidence("document", doc.url, {"url": doc.url, "http status": doc.status, "content type": doc.content_type,
                                          "error": doc.error, "authenticated": doc.authenticated,
                                          **doc.provenance()})


def _read(doc: FetchedDocument | None, what: str) -> tuple[CheckResult | None, list[str]]:
    """The passages of a page read anonymously, or the verdict for a page that was not."""
    if doc is None:
        return CheckResult.inconclusive(f"{what} was not fetched"), []
    problem = reachability(doc, what)
    if problem is not None:
        problem.evidence = [_doc_evidence(doc), *problem.evidence]
        return problem, []
    kind = doc.content_type.split(";")[0].strip().lower()
    if "pdf" in kind or doc.text.lstrip().startswith("%PDF-") or (kind and not kind.startswith("text/")
                                                                and "html" not in kind and "xml" not in kind):
        return CheckResult.inconclusive(
            f"{what} at {doc.url} is {kind or 'a PDF'}, which the harness does not read: record a text copy "
            "(lab configuration fetch.copies) or judge it by hand", _doc_evidence(doc)), []
    parts = passages(doc)
    if not passages(doc, headings=False):  # a title alone (a cookie wall, a script-rendered page) says nothing
        # A page whose text a script fills in looks empty to an anonymous GET: not a finding.
        return CheckResult.inconclusive(
            f"{what} at {doc.url} has no readable text outside navigation bars and cookie banners (a page "
            "rendered by a script, or behind a cookie wall, needs a text copy in fetch.copies)", _doc_evidence(doc)), []
    return None, parts


def _field(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    return value.strip() if isinstance(value, str) else ""


# --- 5.11-3: deletion instructions --------------------------------------------------------------------

def _names_target(text: str, target: str, personal_data: list[dict[str, Any]]) -> list[str]:
    """The words by which the page names what a function deletes: the target itself, or a
    keyword of the 21-PersData item the target is."""
    if target and mentions(text, target):
        return [target]
    for item in personal_data:
        if _norm(_field(item, "data")) == _norm(target):
            return [k for k in (item.get("keywords") or []) if isinstance(k, str) and mentions(text, k)][:1]
    return []


def judge_deletion_instructions(doc: FetchedDocument | None, functions: list[dict[str, Any]],
                                personal_data: list[dict[str, Any]]) -> CheckResult:
    """5.11-3-1: the deletion instructions are readable without an account and cover every IXIT
    25-DelFunc function: each is named by how it is started (the command-like words of its
    ``initiation``, e.g. ``factory-reset``) and by what it deletes (its ``target``, or a keyword of
    the 21-PersData item of that name)."""
    if not functions:
        return CheckResult.inconclusive("the profile declares no IXIT 25-DelFunc (the deletion functions the "
                                        "instructions must cover)")
    problem, parts = _read(doc, "the deletion instructions page")
    if problem is not None or doc is None:
        return problem or CheckResult.inconclusive("the deletion instructions were not fetched")
    text = "\n".join(parts)
    rows, missing = [], []
    for f in functions:
        target, initiation = _field(f, "target"), _field(f, "initiation")
        terms = command_terms(initiation)
        started = [t for t in terms if mentions(text, t)]
        deleted = _names_target(text, target, personal_data)
        ok = bool(terms) and len(started) == len(terms) and bool(deleted)
        rows.append({"deletion function": target, "initiation": initiation, "terms looked for": terms,
                     "start named": started, "deleted data named": deleted, "covered": ok})
        if not ok:
            gaps = []
            if len(started) < len(terms) or not terms:
                gaps.append(f"how it is started ({', '.join(t for t in terms if t not in started) or 'no initiation declared'})")
            if not deleted:
                gaps.append(f"what it deletes ({target or 'no target declared'})")
            missing.append(f"{target or '?'}: {' and '.join(gaps)}")
    ev = [_doc_evidence(doc), Evidence("table", "IXIT 25-DelFunc functions in the instructions", rows)]
    if missing:
        return CheckResult.failed(f"the deletion instructions at {doc.url} do not name {'; '.join(missing)}", *ev)
    return CheckResult.passed(f"the deletion instructions at {doc.url} are readable without an account and name "
                              f"how to start each of the {len(rows)} declared deletion functions and what it deletes",
                              *ev)


# --- 5.11-4: confirmation of a deletion ---------------------------------------------------------------

@dataclass
class DeletionRun:
    """One IXIT 25-DelFunc function run on a unit: what the device showed while it ran.

    outcome is the procedure's outcome (None: not run, ``detail`` says why); shown the text the
    unit sent on its links meanwhile; alive_after whether it answered right after."""

    target: str
    procedure: str
    confirmation: str | None
    outcome: str | None
    shown: str = ""
    alive_after: bool | None = None
    detail: str = ""


def shown_by_unit(transcript: str) -> str:
    """What the unit sent in a span of a link transcript (``<`` lines), without the echo of what
    the harness typed (``>`` lines): a console echoes ``factory-reset``, which is no confirmation
    that a reset was done; an echo is the typed text alone or after a prompt (``hub# factory-reset``)."""
    sent: list[str] = []
    lines: list[str] = []
    for line in transcript.splitlines():
        _, _, rest = line.strip(" ").partition(" ")  # the time stamp, then the direction
        if rest.startswith("> "):
            text = rest[2:].strip()
            if text and text != "«secret input»":
                sent.append(text)
        elif rest.startswith("< "):
            lines.append(rest[2:])
    echoes = [re.compile(rf"(?:^|[#$>:\]%)]\s*){re.escape(t)}\s*$") for t in sent]
    return "\n".join(ln for ln in lines if not any(e.search(ln.strip()) for e in echoes))


def _last_lines(text: str, n: int = 6) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return excerpt(" | ".join(lines[-n:]), 400)


def judge_deletion_confirmation(runs: list[DeletionRun]) -> CheckResult:
    """5.11-4-1: every declared deletion function, run on the unit, ends with the confirmation its
    IXIT 25-DelFunc entry declares (``confirmation``, a regular expression), in what the unit showed.
    A run that did not complete, a unit that did not answer afterwards, or a function without a
    declared confirmation is INCONCLUSIVE; a completed deletion without the confirmation is FAIL."""
    if not runs:
        return CheckResult.inconclusive("the profile declares no IXIT 25-DelFunc (no deletion function to run)")
    parts: list[CheckResult] = []
    rows = []
    for run in runs:
        row: dict[str, Any] = {"deletion function": run.target, "procedure": run.procedure,
                               "confirmation declared": run.confirmation, "outcome": run.outcome,
                               "alive after": run.alive_after, "confirmation shown": None}
        rows.append(row)
        name = f"deletion function {run.target!r}"
        if not run.confirmation:
            parts.append(CheckResult.inconclusive(
                f"IXIT 25-DelFunc {run.target!r} declares no confirmation (the regular expression of what the "
                "device shows once the deletion is done)"))
            continue
        try:
            pattern = re.compile(run.confirmation)
        except re.error as exc:
            parts.append(CheckResult.inconclusive(f"IXIT 25-DelFunc {run.target!r}: confirmation "
                                                  f"{run.confirmation!r} is not a regular expression ({exc})"))
            continue
        if run.outcome is None:
            parts.append(CheckResult.inconclusive(f"{name} was not run: {run.detail or 'no reason recorded'}"))
            continue
        if run.outcome != "ok":
            parts.append(CheckResult.inconclusive(f"{name}: the procedure {run.procedure!r} did not complete "
                                                  f"({run.detail or run.outcome})"))
            continue
        if run.alive_after is not True:
            parts.append(CheckResult.inconclusive(f"{name}: the unit did not answer after the procedure "
                                                  f"{run.procedure!r}, so its output cannot be judged complete"))
            continue
        if not run.shown.strip():
            parts.append(CheckResult.inconclusive(f"{name}: nothing the unit showed during {run.procedure!r} was "
                                                  "recorded"))
            continue
        m = pattern.search(run.shown)
        if m is None:
            row["shown (last lines)"] = _last_lines(run.shown)
            parts.append(CheckResult.failed(
                f"{name} completed ({run.procedure!r}) without the confirmation /{run.confirmation}/; the unit "
                f"showed: {_last_lines(run.shown)}"))
            continue
        row["confirmation shown"] = excerpt(m.group(0), 200)
        parts.append(CheckResult.passed(f"{name} confirmed: {excerpt(m.group(0), 120)!r}",
                                        Evidence("observation", f"confirmation of {run.target}",
                                                 {"matched": m.group(0), "procedure": run.procedure})))
    seen = "; ".join(f"{r['deletion function']}: {r['confirmation shown']!r}" for r in rows if r["confirmation shown"])
    result = combine(parts, all_passed_reason=(
        f"each of the {len(runs)} declared deletion functions showed its confirmation once done ({seen})"))
    result.evidence = [*result.evidence, Evidence("table", "deletion functions run", rows)]
    return result


# --- 5.12-2 / 5.12-3: set-up guidance -----------------------------------------------------------------

SECURITY_TOPIC = re.compile(
    r"pass(?:word|phrase|code)s?|\bpins?\b|credential|firmware|\bupdat|encrypt|\btls\b|https|mqtts|\bwpa[23]?\b|"
    r"two[- ]factor|\b2fa\b|multi[- ]factor|\baccount|\bpair(?:ing)?\b|certificate|\bdisabl|remote access|"
    r"\block(?:ed|s)?\b|secur|privacy|permission|\bguest network", re.I)
CHECK_VERB = re.compile(r"\b(?:check|verify|confirm|make sure|ensure|see (?:whether|if|that)|look (?:for|at)|"
                        r"review|inspect|test (?:whether|that|if))", re.I)


def _guide(doc: FetchedDocument | None, what: str, need_check: bool) -> CheckResult:
    problem, _ = _read(doc, what)
    if problem is not None or doc is None:
        return problem or CheckResult.inconclusive(f"{what} was not fetched")
    parts = passages(doc, headings=False)  # a heading says what the page is about, not what to do
    steps = [p for p in parts if SECURITY_TOPIC.search(p) and (not need_check or CHECK_VERB.search(p))]
    ev = [_doc_evidence(doc), Evidence("table", f"{what}: steps found",
                                       [{"step": excerpt(s, 200)} for s in steps[:12]])]
    if not steps:
        wanted = "how to check a security setting" if need_check else "a set-up step concerning security"
        return CheckResult.failed(f"{what} at {doc.url} is readable but gives no step that says {wanted} "
                                  f"({len(parts)} passages read)", *ev)
    return CheckResult.passed(f"{what} at {doc.url} is readable without an account and gives {len(steps)} "
                              f"step(s) on security, e.g. {excerpt(steps[0], 120)!r}", *ev)


def judge_setup_guide(doc: FetchedDocument | None) -> CheckResult:
    """5.12-2-1: the secure set-up guide is readable without an account and holds at least one
    step (paragraph, list item or row) on a security topic: passwords, updates, encryption, Wi-Fi
    security, accounts, pairing, disabling a service."""
    return _guide(doc, "the secure set-up guide", need_check=False)


def judge_setup_check_guide(doc: FetchedDocument | None) -> CheckResult:
    """5.12-3-1: the guide to checking the set-up is readable without an account and holds at least
    one step that tells the user to check, verify or confirm something on a security topic."""
    return _guide(doc, "the guide to checking the set-up", need_check=True)


# --- 6-1 / 6-5: what is processed, why, by whom ---------------------------------------------------------

def _processor_named(text: str, processor: str) -> bool:
    names = [n.strip() for n in re.split(r",|;|\band\b|/", processor) if n.strip()]
    return bool(names) and all(mentions(text, _LEGAL_FORM.sub("", n).strip() or n) for n in names)


def _items(doc: FetchedDocument, parts: list[str], items: list[dict[str, Any]], doc_name: str, ixit: str,
           need_processor: bool) -> CheckResult:
    joined = "\n".join(parts)
    windows = _with_next(parts)
    rows, missing, undeclared = [], [], []
    for item in items:
        data = _field(item, "data")
        keywords = [k for k in (item.get("keywords") or []) if isinstance(k, str) and k.strip()] or [data]
        purpose = _field(item, "purpose")
        naming = [w for w in windows if any(mentions(w, k) for k in keywords if k)]
        row: dict[str, Any] = {"item": data, "keywords": keywords, "purpose declared": purpose or None,
                               "named": bool(naming), "purpose stated": None}
        gaps = []
        if not naming:
            gaps.append(f"not named (looked for {', '.join(keywords)})")
        if not purpose:
            undeclared.append(f"{ixit} {data!r} declares no purpose")
        elif naming:
            stated = [w for w in naming if states_purpose(w, purpose)]
            row["purpose stated"] = excerpt(stated[0], 200) if stated else False
            if not stated:
                gaps.append(f"named without its purpose ({purpose!r})")
        if need_processor:
            processor = _field(item, "processed_by")
            row["processed by"] = processor or None
            if not processor:
                undeclared.append(f"{ixit} {data!r} declares no processed_by")
            else:
                row["processor named"] = _processor_named(joined, processor)
                if not row["processor named"]:
                    gaps.append(f"who processes it ({processor}) not named")
        rows.append(row)
        if gaps:
            missing.append(f"{data!r} {' and '.join(gaps)}")
    ev = [_doc_evidence(doc), Evidence("table", f"IXIT {ixit} items in {doc_name}", rows)]
    if missing:
        return CheckResult.failed(f"{doc_name} at {doc.url} does not describe every {ixit} item: "
                                  f"{'; '.join(missing)}", *ev)
    if undeclared:
        return CheckResult.inconclusive(f"{doc_name} names every item, but the declaration to compare with is "
                                        f"incomplete: {'; '.join(undeclared)}", *ev)
    return CheckResult.passed(f"{doc_name} at {doc.url} is readable without an account and names each of the "
                              f"{len(rows)} {ixit} items with its purpose"
                              + (" and who processes it" if need_processor else ""), *ev)


def judge_privacy_notice(doc: FetchedDocument | None, personal_data: list[dict[str, Any]]) -> CheckResult:
    """6-1-2: the privacy notice is readable without an account and, for every IXIT 21-PersData
    item, names it (a ``keywords`` entry, default its ``data``) in a passage that states its declared
    ``purpose``, and names who processes it (``processed_by``, a legal form such as Ltd optional)."""
    if not personal_data:
        return CheckResult.inconclusive("the profile declares no IXIT 21-PersData (the personal data the notice "
                                        "must describe)")
    problem, parts = _read(doc, "the privacy notice")
    if problem is not None or doc is None:
        return problem or CheckResult.inconclusive("the privacy notice was not fetched")
    return _items(doc, parts, personal_data, "the privacy notice", "21-PersData", need_processor=True)


def judge_telemetry_notice(doc: FetchedDocument | None, telemetry: list[dict[str, Any]]) -> CheckResult:
    """6-5-2: the telemetry notice (by default the privacy notice) is readable without an account
    and, for every IXIT 24-TelData item, names it (a ``keywords`` entry, default its ``data``) in a
    passage that states its declared ``purpose``."""
    if not telemetry:
        return CheckResult.inconclusive("the profile declares no IXIT 24-TelData (the telemetry the notice must "
                                        "describe)")
    problem, parts = _read(doc, "the telemetry notice")
    if problem is not None or doc is None:
        return problem or CheckResult.inconclusive("the telemetry notice was not fetched")
    return _items(doc, parts, telemetry, "the telemetry notice", "24-TelData", need_processor=False)
