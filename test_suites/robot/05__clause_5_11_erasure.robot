*** Settings ***
Documentation     EN 303 645 clause 5.11 — Make it easy for users to delete user data (TS 103 701 group 5.11).
Library           harness.robot.HarnessLibrary

*** Test Cases ***
5.11-1-2 Factory reset erases user data
    [Documentation]    Typical user data (Wi-Fi credentials) planted on the unit is gone after the
    ...                documented erasure function (factory reset), and the absence is read back
    ...                from the live unit.
    [Tags]    5.11-1-2    allure.label.provision:5.11-1
    Open Unit    state=logged_in
    ${result}=    Check User Data Erasure
    Conclude    ${result}
