"""The data layer: models, database access, repositories, filters and CSV.

Nothing in this package may import Textual (enforced by tests/test_layers.py).
"""
