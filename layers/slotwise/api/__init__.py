"""HTTP edge shared by every function: the resolver factory (`app`), problem+json mapping and the route table.

Kept empty on purpose: the CDK app reads `slotwise.api.routes` without loading Powertools' resolver.
"""
