"""session-tui: a keyboard-driven terminal admin for contacts and memberships."""

__version__ = "0.1.0"

# The Alembic head revision (session_tui/data/migrations/versions): shown by
# `session-tui --version` and used as `data.migrate.HEAD_REVISION`, without importing
# Alembic. Whoever adds a migration updates it (tests/test_startup.py checks).
SCHEMA_VERSION = "0006"
