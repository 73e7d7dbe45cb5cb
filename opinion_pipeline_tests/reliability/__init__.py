"""Reliability and security evidence (issue 5): faults, crashes, overlap, bad input, soak."""
