"""Events taken by deliveries (table `event_claim`): the first delivery that carries an event takes it, and the
same event under another delivery id is left alone (`bot.events.event_identity` names an event).

On PostgreSQL, a claim another replica's transaction is still writing waits for that transaction: two replicas
processing two copies of one event at the same moment cannot both take it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from bot.store.db import dialect_insert
from bot.store.tables import EventClaim

EVENT_CLAIM = EventClaim.__table__  # type: ignore[attr-defined]


def claim(connection: Connection, delivery_id: int, identities: Sequence[str], now: datetime) -> dict[str, int]:
    """Take each of `identities` for `delivery_id`, unless another delivery has; the delivery holding each."""
    wanted = list(dict.fromkeys(identities))
    if not wanted:
        return {}
    insert = (dialect_insert(connection.dialect.name)(EVENT_CLAIM)
              .values([{"identity": identity, "delivery_id": delivery_id, "claimed_at": now} for identity in wanted])
              .on_conflict_do_nothing(index_elements=["identity"]).returning(EVENT_CLAIM.c.identity))
    holders = dict.fromkeys(connection.execute(insert).scalars(), delivery_id)
    held = [identity for identity in wanted if identity not in holders]
    if held:
        rows = connection.execute(select(EVENT_CLAIM.c.identity, EVENT_CLAIM.c.delivery_id)
                                  .where(EVENT_CLAIM.c.identity.in_(held)))
        holders.update({identity: holder for identity, holder in rows})
    return holders
