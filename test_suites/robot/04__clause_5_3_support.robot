*** Settings ***
Documentation     EN 303 645 clause 5.3 — Keep software updated: the defined support period (TS 103 701 5.3-13).
Library           harness.robot.HarnessLibrary

*** Test Cases ***
5.3-13-1 Support period declared
    [Documentation]    IXIT 2-UserInfo declares the support period with an end date and where it
    ...                is published.
    [Tags]    5.3-13-1    allure.label.provision:5.3-13    scope:profile
    ${result}=    Check Support Period Declared
    Conclude    ${result}

5.3-13-2 Support period published
    [Documentation]    The support period is published where declared, readable without
    ...                registration, and states the same end date as the IXIT.
    [Tags]    5.3-13-2    allure.label.provision:5.3-13    scope:profile
    ${result}=    Check Support Period Published
    Conclude    ${result}
