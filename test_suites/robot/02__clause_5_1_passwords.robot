*** Settings ***
Documentation     EN 303 645 clause 5.1 — No universal default passwords (TS 103 701 group 5.1).
Library           harness.robot.HarnessLibrary

*** Test Cases ***
5.1-1-2 No universal default password
    [Documentation]    Public default credentials never log in, before or after a factory reset,
    ...                and the unit's label password is its own.
    ...
    ...                At factory default the unit's label password must work and must differ from
    ...                every other unit's; then every dictionary credential is tried on the login.
    ...                The unit is factory reset and both are repeated: a reset must not bring back
    ...                a universal default. A refusal counts only when the unit printed it and
    ...                answered right after.
    [Tags]    5.1-1-2    allure.label.provision:5.1-1
    Open Unit    state=factory_default
    ${result}=    Check No Universal Default Password
    Conclude    ${result}

5.1-2-1 Label password generation declared
    [Documentation]    The declared generation mechanism and the label passwords of every unit on
    ...                the bench show no counters, no derivation from public identifiers, no
    ...                dictionary words and enough entropy.
    [Tags]    5.1-2-1    allure.label.provision:5.1-2    scope:profile
    ${result}=    Check Label Password Generation
    Conclude    ${result}

5.1-2-2 Label passwords resist automated attack
    [Documentation]    The label passwords the units actually accept (observed by 5.1-1-2 on each
    ...                unit, by either runner, possibly in other processes) show no regularity an
    ...                automated attack on the product class could exploit.
    [Tags]    5.1-2-2    allure.label.provision:5.1-2    scope:cross_unit
    ${result}=    Check Label Passwords Resist Automated Attack
    Conclude    ${result}

5.1-4-2 User can change password
    [Documentation]    The user can change every password with the documented procedure: each
    ...                account of IXIT 1-AuthMech and each credential 5.1-1-2 found working.
    ...                Afterwards the new password logs in and the old one is refused, on the
    ...                console and on the mechanism's own interface; an account with no way to
    ...                change it fails, named. The delivered passwords are restored at the end.
    [Tags]    5.1-4-2    allure.label.provision:5.1-4
    Open Unit    state=logged_in
    ${result}=    Check User Can Change Password
    Conclude    ${result}
