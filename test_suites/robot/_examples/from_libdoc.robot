*** Settings ***
Documentation     A suite written only from the HarnessLibrary keyword documentation
...               (docs/robot/harness-library.html), as a lab engineer new to the harness would.
...
...               It lives under ``_examples`` (Robot skips directories starting with ``_``), so it
...               is not part of the conformance suites; run it on its own:
...               ``harness run PROFILE --lab LAB --runner robot --robot-suites test_suites/robot/_examples``.
Library           harness.robot.HarnessLibrary

*** Test Cases ***
Console reports the firmware version
    [Documentation]    Not a conformance test case (no TS 103 701 id tag): it uses the unit and
    ...                its console like any Robot test and records no verdict.
    Open Unit    state=logged_in
    ${version}=    Run Procedure    read_version
    Should Be Equal    ${version}[outcome]    ok
    Send To Link    version
    ${line}=    Expect On Link    firmware \\S+    timeout=5
    Should Contain    ${line}    ${version}[captures][version]

5.11-4-1 Factory reset confirms the deletion of user data
    [Documentation]    The unit tells the user that their data is being erased when they ask for
    ...                a factory reset on its console. A verdict the suite decides itself with
    ...                `Record Verdict`; silence is a lab-side timeout (INCONCLUSIVE), not a FAIL.
    [Tags]    5.11-4-1    allure.label.provision:5.11-4
    Open Unit    state=logged_in
    Drain Link
    Send To Link    factory-reset
    ${said}=    Expect On Link    (?i)(erasing|erased|deleted|wiped)[^\\r\\n]*|Rebooting    timeout=10
    Forget Unit State
    Expect On Link    login_prompt    timeout=30
    Add Evidence    console answer to factory-reset    ${said}    kind=observation
    IF    'Rebooting' in '''${said}'''
        Record Verdict    FAIL    the unit rebooted without telling the user their data is erased
    ELSE
        Record Verdict    PASS    the console confirmed the deletion: ${said}
    END

5.1-4-2 Password change and erasure combined
    [Documentation]    Two checks of the library combined: the worst verdict wins.
    [Tags]    5.1-4-2    allure.label.provision:5.1-4
    Open Unit    state=logged_in
    ${change}=    Check User Can Change Password
    ${verdict}=    Verdict Of    ${change}
    Log    password change: ${verdict}
    ${erase}=    Check User Data Erasure
    ${both}=    Combine Results    ${change}    ${erase}
    Conclude    ${both}
