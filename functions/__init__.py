"""Thin HTTP / CloudEvent entry points, one module per capability."""
