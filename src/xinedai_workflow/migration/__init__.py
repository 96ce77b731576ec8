"""Moving running cases to another version of their process (one case; batches use it too)."""
