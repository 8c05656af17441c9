"""The forges, kept at the edge: each module knows one forge's headers, payloads and REST API."""
