"""Accounts: profiles, roles, consent, and the user's own data (GDPR)."""
