"""Dashboard logins held by the server (table `dashboard_session`), so that ending one ends it on every replica: a
cookie names a session by its random id, and is good only while that session's row is there, unrevoked and
unexpired. Blocking (run the calls in a thread); only a login with the token creates a row, so the table holds no
more than the maintainers' logins (rows long expired are deleted as new ones are made)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from bot.store.db import Database
from bot.store.tables import DashboardSession

SESSION = DashboardSession.__table__
REMOTE_LENGTH = 64
KEPT_AFTER_EXPIRY = timedelta(days=1)  # how long an expired row stays (it says who logged in from where)


class Sessions:
    """The dashboard's sessions in `db`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def begin(self, session_id: str, issued: datetime, expires: datetime, remote: str | None) -> None:
        """A new session, from `remote`."""
        with self._db.session() as session:
            session.execute(delete(SESSION).where(SESSION.c.expires_at < issued - KEPT_AFTER_EXPIRY))
            session.execute(SESSION.insert().values(id=session_id, issued_at=issued, expires_at=expires,
                                                    remote=(remote or "")[:REMOTE_LENGTH] or None))

    def live(self, session_id: str, now: datetime) -> bool:
        """Whether the session is there, not revoked and not expired."""
        with self._db.reading() as conn:
            found = conn.execute(select(SESSION.c.expires_at, SESSION.c.revoked_at)
                                 .where(SESSION.c.id == session_id)).first()
        return found is not None and found.revoked_at is None and found.expires_at >= now

    def end(self, session_id: str, now: datetime) -> None:
        """Revoke one session (logging out)."""
        with self._db.session() as session:
            session.execute(update(SESSION).where(SESSION.c.id == session_id, SESSION.c.revoked_at.is_(None))
                            .values(revoked_at=now))

    def end_all(self, now: datetime) -> int:
        """Revoke every live session (logging everyone out): how many there were."""
        with self._db.session() as session:
            live = SESSION.c.revoked_at.is_(None) & (SESSION.c.expires_at >= now)
            return session.execute(update(SESSION).where(live).values(revoked_at=now)).rowcount
