"""Conversation context: what a group said around the bot, kept briefly for the model (issue 31)."""
