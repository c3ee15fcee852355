"""`orchestrator doctor` and `/doctor`: why the bot is silent, one check per area.

Each check returns findings (ok / warn / fail, and for each non-ok the fix in one line); the
runner bounds every check with a timeout and turns a crashed check into a finding, so one
broken part never hides the others.
"""
