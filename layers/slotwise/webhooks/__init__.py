"""Outbound webhooks: vendors and admins subscribe a URL to domain events; Slotwise POSTs each event to it, signed.

catalogue   the event types one may subscribe to, and whose events a vendor's subscription receives
urls        the SSRF rules a URL passes at registration and again, after a fresh DNS lookup, at every delivery
signing     the `Slotwise-Signature` header (HMAC-SHA256 over "<timestamp>.<body>")
backoff     when a failed delivery is tried again (up to three days after its first attempt)
models      request bodies and what the API shows
repository  subscriptions, deliveries and attempts in the single table
service     the subscription API's use cases
sender      one HTTP POST with the standard library, to the address that passed the checks
delivery    the queue consumer: fan-out of an event to subscriptions, attempts, retries, the DLQ
"""
