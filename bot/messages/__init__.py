"""Messages people read: templates rendered in zh and en (render) and the escaping of values for each channel
(escape)."""
