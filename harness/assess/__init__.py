"""The assessor's part of a run: open items, recorded decisions and their staleness."""
