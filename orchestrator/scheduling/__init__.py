"""Scheduled workflows: when-phrases, the schedule store, the engine and its commands."""
