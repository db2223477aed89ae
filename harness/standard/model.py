"""The catalogue's value types: one EN 303 645 edition with its provisions, test cases and PSTI map.

Instances come from ``harness.standard.load_catalogue`` and are shared (cached), so treat them as
read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("conceptual", "functional", "conceptual+functional")


@dataclass(frozen=True)
class Provision:
    id: str
    clause: str
    status: str  # "M", "R", "MC", "RC"
    conditions: tuple[int, ...]
    summary: str
    mandatory: bool  # M or MC
    conditional: bool  # MC or RC
    test_cases: list[str] = field(default_factory=list)
    psti: list[int] = field(default_factory=list)
    features: tuple[str, ...] = ()  # V3.1.3 Table B.1 feature letters of an MF / RF / MCF status
    unassessed: str = ""  # why no test case counts for it (an edition reported via another's assessment)

    @property
    def status_text(self) -> str:
        """The status as Table B.1 prints it, e.g. ``MC(11,12)``, ``MF(a)``, ``MCF(14,e)``."""
        marks = [str(c) for c in self.conditions] + list(self.features)
        if not marks:
            return self.status
        return f"{self.status}({','.join(marks)})"


@dataclass(frozen=True)
class TestCase:
    __test__ = False  # not a pytest class, whatever the importing module is called

    id: str
    provision: str
    kind: str  # one of KINDS
    units: int
    ixit: tuple[str, ...]
    automated: bool = False
    automated_by: str | None = None  # the suite module that runs it
    automated_kind: str | None = None  # what that automation exercises (coverage.yaml `kind`)


@dataclass(frozen=True)
class PstiRequirement:
    number: int
    title: str
    provisions: list[str]
    deemed_compliance: bool
    note: str = ""


@dataclass(frozen=True)
class SchemeEntry:
    """One requirement, mechanism group or level of another scheme and the provisions bearing on it."""

    id: str
    title: str
    provisions: list[str]
    strength: str  # direct / partial / indicative: how far the provisions' verdicts say anything about it
    note: str = ""
    beyond_harness: str = ""  # what the scheme asks that this harness does not do
    requirements: tuple[str, ...] = ()


@dataclass(frozen=True)
class SchemeMapping:
    """EN 303 645 provisions mapped onto another scheme (EN 18031-1, Singapore CLS)."""

    scheme: str
    reference: str
    title: str
    note: str  # how far the mapping can be trusted, in the report's words
    entries: list[SchemeEntry]
    status: str = ""  # e.g. when it became mandatory
    translated_from: str | None = None  # the edition its provision ids were written for, when translated


@dataclass(frozen=True)
class Applicability:
    applicable: bool
    reason: str
    support: str | None = None  # the ICS answer for the provision ("Y", "N", "N/A"), if any
    unanswered: tuple[int, ...] = ()  # listed conditions the ICS leaves open (applicable until answered)
    unanswered_features: tuple[str, ...] = ()  # listed V3.1.3 features the ICS leaves open


@dataclass
class Catalogue:
    edition: str
    title: str
    reference: str
    conditions: dict[int, str]
    clauses: dict[str, str]
    provisions: dict[str, Provision]
    test_cases: dict[str, TestCase]
    psti: list[PstiRequirement]
    assessment: str | None = None  # e.g. "ETSI TS 103 701 V1.1.1 (2021-08)"
    ixit_documents: dict[str, str] = field(default_factory=dict)
    features: dict[str, str] = field(default_factory=dict)  # V3.1.3 Table B.1 features by letter
    assessed_via: str | None = None  # the edition whose assessment spec supplies the test cases
    provision_map: dict[str, str] = field(default_factory=dict)  # that edition's provision -> this one's
    mappings: list[SchemeMapping] = field(default_factory=list)

    def translate(self, provision_id: str) -> str:
        """This edition's id for a provision id a results record carries (records name the provision
        of the edition the test cases assess)."""
        return self.provision_map.get(provision_id, provision_id)

    def mapping(self, scheme: str) -> SchemeMapping | None:
        return next((m for m in self.mappings if m.scheme == scheme), None)

    def applicability(self, provision_id: str, ics: Any) -> Applicability:
        """Whether ``provision_id`` applies to the product an ICS describes (Table B.1 rules)."""
        from harness.standard.applicability import decide

        prov = self.provisions.get(provision_id)
        if prov is None:
            raise KeyError(f"EN 303 645 {self.edition} has no provision {provision_id!r}")
        return decide(prov, self.conditions, ics, self.features)

    def coverage_table(self) -> list[dict[str, Any]]:
        """One row per test case, in document order: what the harness automates and what it does not."""
        return [
            {"id": tc.id, "provision": tc.provision, "status": self.provisions[tc.provision].status,
             "kind": tc.kind, "automated": tc.automated, "automated_by": tc.automated_by}
            for tc in self.test_cases.values()
        ]

    @property
    def automated(self) -> list[TestCase]:
        return [tc for tc in self.test_cases.values() if tc.automated]
