"""The demo's data: the signed webhook stream of a small community."""
