"""Background work: firing due timers and draining the outbox, with leases so several workers share."""
