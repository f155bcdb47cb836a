"""Widgets of the Memberships screen."""
