"""Domain: finding. The in-process customer search index and the follower that keeps it
equal to Redis, recall over one customer, the cart check and its allergen table, and the
text folding they share."""
