*** Settings ***
Documentation     EN 303 645 conformance suites for Robot Framework (TS 103 701 test cases).
...
...               The same test cases as test_suites/pytest, on the same Device, procedures and
...               checks (harness.cases); every verdict goes to the same results log. Run them with
...               ``harness run PROFILE --lab LAB --runner robot`` (or ``--runner both``).
...               Files are ordered like the pytest run: per unit 5.1-1-2, 5.1-4-2, then 5.11-1-2.
Metadata          Standard    ETSI EN 303 645 v2.1.1, assessed per ETSI TS 103 701 v1.1.1
