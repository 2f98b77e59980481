"""The audit log, the platform counters the admin console reads, and the admin console's use cases."""
