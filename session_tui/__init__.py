"""session-tui: a keyboard-driven terminal admin for contacts and memberships."""

__version__ = "0.1.0"

# The Alembic head revision (session_tui/data/migrations/versions), shown by
# `session-tui --version` without importing Alembic; tests/test_config.py keeps it in sync.
SCHEMA_VERSION = "0004"
