"""Events from other bank systems: overdue (start/update a case), payments, generic messages."""
