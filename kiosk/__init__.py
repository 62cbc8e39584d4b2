"""Kiosk for Vietnam's public electronic bulletin boards."""

__version__ = "0.1.0"
