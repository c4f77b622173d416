"""The HTTP layer: routes, authentication, error mapping. Nothing below it knows HTTP."""
