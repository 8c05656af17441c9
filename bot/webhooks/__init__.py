"""Webhook ingress: the endpoint that verifies, deduplicates and stores a delivery (endpoint) and the bounded reading
of its body (body)."""
