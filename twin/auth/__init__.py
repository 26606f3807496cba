"""Accounts: password hashing, sessions, API tokens, CSRF, the current principal."""
