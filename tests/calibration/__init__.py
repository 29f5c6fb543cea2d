"""Tests of ctsim.calibration."""
