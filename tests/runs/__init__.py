"""Tests of ctsim.runs."""
