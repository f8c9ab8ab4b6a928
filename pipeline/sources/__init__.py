"""Sources: read a ticket export into raw tickets, their column roles and the quarantine."""
