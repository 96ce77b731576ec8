"""Pure domain logic: interest, plans, buckets, contact policy, masking. No framework imports."""
