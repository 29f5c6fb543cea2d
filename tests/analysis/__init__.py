"""Tests of ctsim.analysis."""
