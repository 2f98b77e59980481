"""A user's saved (favourite) resources."""
