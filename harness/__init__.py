"""Hardware-in-the-loop conformance harness for ETSI EN 303 645 (TS 103 701) and UK PSTI."""

__version__ = "0.1.0"
