"""Semantic tool routing: the few relevant tools out of every connected server."""
