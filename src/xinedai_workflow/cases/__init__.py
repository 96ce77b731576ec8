"""Cases (process instances): starting, reading, listing, cancelling, retrying."""
