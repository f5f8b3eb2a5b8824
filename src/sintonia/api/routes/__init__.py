"""Routes per resource; every one is served under /v1beta and /v1."""
