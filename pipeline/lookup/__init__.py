"""Look-up: where one ticket would land among a finished run's icebergs, and what its
customer wrote before.

``nearest`` holds the computation the dashboard's "Is this a one-off?" page, ``iceberg
lookup`` and ``iceberg serve`` share (clean and redact with the run's settings, embed with
the run's model, the nearest icebergs under the run's assign rule, the most similar past
tickets); ``customer`` finds one customer's earlier tickets (their id pseudonymised as the
run pseudonymised its customer column); ``service.Lookup`` loads a run once and answers
any number of look-ups. Read only: nothing looked up is stored.
"""

from pipeline.lookup.customer import CustomerHistory, customer_history, customer_keys
from pipeline.lookup.nearest import (SIMILARITY, WOULD_JOIN, LookupResult, assign_threshold, looked_up,
                                     nearest_icebergs, nearest_tickets, prepared_text, ticket_vectors)
from pipeline.lookup.service import Answer, DimensionShare, Lookup, open_lookup

__all__ = ["SIMILARITY", "WOULD_JOIN", "Answer", "CustomerHistory", "DimensionShare", "Lookup",
           "LookupResult", "assign_threshold", "customer_history", "customer_keys", "looked_up",
           "nearest_icebergs", "nearest_tickets", "open_lookup", "prepared_text", "ticket_vectors"]
