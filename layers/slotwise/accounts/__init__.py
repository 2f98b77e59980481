"""Accounts made by someone else and passwords chosen through e-mailed links (invitations, forgot, set, reset).

Above `slotwise.identity` (users, tokens, the links' store) and `slotwise.notifications` (the mail sender), which
is why it is a package of its own: identity never imports notifications.
"""
