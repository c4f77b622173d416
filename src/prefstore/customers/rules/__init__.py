"""The record rules: how an allergy, a preference, a note, a tag, an event, a follow-up or a
consent joins a record (pure).

Every write path uses these and nothing else to add or update items: the store's API
methods, the quick-entry shorthand and the CRM import. They differ only in how they build
the item they bring (random ids at the desk, ids derived from the label in an import).
Callers name them through this package (`rules.put_allergy`, `rules.MAX_NOTES`); its modules
are `items` (text, items from input, allergies, likes, notes, tags: everything one import
row needs, in one file), `history` (events), `followups`, `consent` and `limits`.

* Items are matched by label, case-insensitively. A matched item keeps its id (so a link
  to it stays good) and takes the newer spelling of the label when it changes.
* The safety rule: an add never weakens a known allergy or dietary need. The severity
  becomes the stronger of the two; a note given replaces the old one, else the old stays.
  Only `change_allergy`, an explicit change of one allergy by id, may lower it.
* Preferences: one opinion per label, the newer wins. A different sentiment replaces the
  old opinion; the same sentiment updates only the details the newer one states.
* Notes: the desk appends every note; an import adds a note once per text. A note marked
  `venue_only` names its venue (`NoteInput` refuses one that does not).
* Tags: added once.
* Events: an event is built from its input (`event_from`) and counted into the record's
  history summary (`count_event`): per item, how often and when last (the evidence a like
  shows); at most `MAX_DISTINCT_ITEMS` items; an event with a venue is counted into that
  venue's summary too (`History.venues`: at most `MAX_VENUES` venues, `MAX_VENUE_ITEMS`
  items each). A time without an offset is UTC (`event_time`).
* Follow-ups: added open; resolved once (the first resolution stands); an import adds one
  once per text; past `MAX_CLOSED_FOLLOW_UPS` the oldest closed ones are dropped.
* Consent, per channel: an unknown says nothing; an opt-in replaces an opt-out only when it
  is known to be later; an opt-out stands unless it is known to be earlier (`put_consent`).
* Limits: at most `MAX_ALLERGIES` allergies, … per record; an add past one is refused
  (InvalidInput, 422). Text a person typed holds no hidden characters (`clean_text`).

Each item rule returns a new list and never modifies the one it is given, so a caller can
ask what an add would do (the shorthand preview) without doing it. `count_event` folds into
the history it is given: a caller that must keep the old one passes a copy.
"""

from prefstore.customers.rules.consent import *  # noqa: F403
from prefstore.customers.rules.followups import *  # noqa: F403
from prefstore.customers.rules.history import *  # noqa: F403
from prefstore.customers.rules.items import *  # noqa: F403
from prefstore.customers.rules.limits import *  # noqa: F403
