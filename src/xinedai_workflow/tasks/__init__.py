"""The task inbox: list, read, claim, unclaim, assign and complete human tasks."""
