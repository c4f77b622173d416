"""A party (a table, a booking): its guests found by id or identifier, and one card for all.

Each member is looked up as the single card is (`CardReader`: by id, or by one identifier,
one round trip each, all sent together), in the caller's view: the party card holds what
the caller's own view of each guest's card holds, so a `lookup` key sees no staff-only
follow-up here either. A member no customer is found for (or given an identifier that is
not valid) is listed in `not_found`; the party is answered all the same.

The card puts every allergy and dietary need first, each with whose it is, strongest first;
then the likes two or more guests share (not one any guest is allergic to by that name);
then each guest's open follow-ups.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import msgspec

from prefstore.customers.evidence import key
from prefstore.customers.reader import CardReader, View
from prefstore.errors import InvalidInput
from prefstore.models.fields import SEVERITY_RANK
from prefstore.models.records import Allergy, FollowUp
from prefstore.models.views import PartyAllergy, PartyCard, PartyGuest, PartyMiss, SharedLike

SHARED_BY = 2
"""Guests that must like an item for the party card to list it as shared."""


class _Like(msgspec.Struct):
    label: str = ""


class GuestCard(msgspec.Struct):
    """The part of a guest's card a party needs (the rest is skipped unread)."""

    id: str = ""
    name: str = ""
    allergies: list[Allergy] = []
    follow_ups: list[FollowUp] = []
    likes: list[_Like] = []


_decode = msgspec.json.Decoder(GuestCard).decode


@dataclass(frozen=True)
class Found:
    """The guests found (in the order given, each once) and the members that were not."""

    guests: list[GuestCard]
    missing: list[PartyMiss]
    given_at: list[int]
    """Each guest's place in the members given (the first, for a guest given twice)."""


async def find(reader: CardReader, members: list[dict[str, str]], view: View) -> Found:
    """Each member's card in `view`, looked up together; a guest given twice counts once."""
    answers = await asyncio.gather(*(_one(reader, m, view) for m in members))
    guests: dict[str, tuple[int, GuestCard]] = {}
    missing: list[PartyMiss] = []
    for index, (member, answer) in enumerate(zip(members, answers, strict=True)):
        if isinstance(answer, str):
            missing.append(PartyMiss(index=index, kind=next(iter(member)), reason=answer))
        else:
            guests.setdefault(answer.id, (index, answer))
    found = list(guests.values())
    return Found([g for _i, g in found], missing, [i for i, _g in found])


async def _one(reader: CardReader, member: dict[str, str], view: View) -> GuestCard | str:
    """The member's card, or why there is none."""
    ((kind, value),) = member.items()
    try:
        if kind == "id":
            found = await reader.by_id(value, view)
        else:
            found = await reader.by_identifier(kind, value, view)
    except InvalidInput as exc:
        return exc.reason
    return _decode(found.body) if found is not None else f"no customer with that {kind}"


def party_card(found: Found, label: str | None = None) -> PartyCard:
    return PartyCard(
        label=label,
        guests=[PartyGuest(id=g.id, name=g.name, follow_ups=g.follow_ups) for g in found.guests],
        allergies=allergies(found.guests),
        shared_likes=shared_likes(found.guests),
        not_found=found.missing,
    )


def allergies(guests: list[GuestCard]) -> list[PartyAllergy]:
    """Every guest's allergies and dietary needs: strongest first, then by label, then in
    the order the guests were given."""
    listed = [
        (SEVERITY_RANK.get(a.severity, 9), key(a.label), position, guest, a)
        for position, guest in enumerate(guests)
        for a in guest.allergies
    ]
    listed.sort(key=lambda entry: entry[:3])
    return [
        PartyAllergy(
            customer_id=guest.id,
            name=guest.name,
            id=a.id,
            label=a.label,
            severity=a.severity,
            note=a.note,
        )
        for _rank, _key, _position, guest, a in listed
    ]


def shared_likes(guests: list[GuestCard]) -> list[SharedLike]:
    """Likes `SHARED_BY` or more guests have (matched case-, accent- and punctuation-blind),
    leaving out one that names any guest's allergy: most shared first, then by label."""
    unsafe = {key(a.label) for guest in guests for a in guest.allergies}
    likers: dict[str, tuple[str, dict[str, str]]] = {}
    for guest in guests:
        for like in guest.likes:
            found = likers.setdefault(key(like.label), (like.label, {}))
            found[1].setdefault(guest.id, guest.name)
    shared = [
        SharedLike(label=label, customer_ids=list(who), names=list(who.values()))
        for folded, (label, who) in likers.items()
        if len(who) >= SHARED_BY and folded not in unsafe
    ]
    shared.sort(key=lambda s: (-len(s.customer_ids), key(s.label)))
    return shared
