"""session-tui: a keyboard-driven terminal admin for contacts and memberships."""

__version__ = "0.1.0"
