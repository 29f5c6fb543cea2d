"""Tests of ctsim.core."""
