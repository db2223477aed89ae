*** Settings ***
Documentation     EN 303 645 clause 5.2 — Means to manage reports of vulnerabilities (TS 103 701 group 5.2).
Library           harness.robot.HarnessLibrary

*** Test Cases ***
5.2-1-1 Disclosure policy declared
    [Documentation]    IXIT 2-UserInfo says where the vulnerability disclosure policy is published,
    ...                gives a contact, and states the acknowledgement and status-update timelines.
    [Tags]    5.2-1-1    allure.label.provision:5.2-1    scope:profile
    ${result}=    Check Disclosure Policy Declared
    Conclude    ${result}

5.2-1-2 Disclosure policy published
    [Documentation]    The published policy is reachable without an account and gives a contact
    ...                plus the acknowledgement and status-update timelines (security.txt per
    ...                RFC 9116 where declared).
    [Tags]    5.2-1-2    allure.label.provision:5.2-1    scope:profile
    ${result}=    Check Disclosure Policy Published
    Conclude    ${result}
