"""Notifiers: one module per channel kind, one interface (`base.Notifier`)."""
