"""The work that flows through cobot: deliveries from the inbox to the handlers (inbox, dispatch) and the scheduled
campaigns (scheduler)."""
