"""Tests of ctsim.teaching."""
