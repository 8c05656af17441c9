"""What a handler is given: the router it registers on (router) and its context of store, config and clock (context)."""
