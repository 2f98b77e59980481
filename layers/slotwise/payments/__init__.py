"""Payments: paying for holds (Stripe or the simulated provider), Stripe webhooks applied exactly once in effect,
cancellation refunds by policy to the card or the wallet, and the wallet ledger."""
