"""Errors of the firmware package tooling."""


class FirmwareError(Exception):
    """Bad input to the firmware tooling (unreadable file, unknown kind, missing key).

    Not a LabFault: it is raised while preparing test packages, before any device is involved;
    a suite that cannot prepare its package turns it into INCONCLUSIVE itself.
    """


class PackageError(FirmwareError):
    """The bytes are not a well-formed package of the format that was asked for."""
