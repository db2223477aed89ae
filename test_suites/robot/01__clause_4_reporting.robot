*** Settings ***
Documentation     EN 303 645 clause 4 — Reporting implementation (TS 103 701 test case 4-1-1).
Library           harness.robot.HarnessLibrary

*** Test Cases ***
4-1-1 Justification for every recommendation not met
    [Documentation]    The ICS gives a justification for every recommendation the product does
    ...                not implement and for every provision it declares not applicable.
    [Tags]    4-1-1    allure.label.provision:4-1    scope:profile
    ${result}=    Check ICS Justifications
    Conclude    ${result}
