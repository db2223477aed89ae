"""Test-case procedures shared by every runner (pytest suites, the Robot library).

One module per clause. A function here is the sequence of device actions of one TS 103 701 test
case plus the check call that judges it; it returns the ``CheckResult`` and never ends the test
itself. The runners only bind identity (the test case id, the unit) and turn the result into their
own outcome, so the pytest and the Robot run of a test case decide by the very same code.
"""
