"""Notifications: the notifier consumer (in-app items, e-mail with .ics through SES) and the in-app inbox API."""
