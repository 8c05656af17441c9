"""How many commands one person runs: `commands.per_person_per_hour`, counted in the `command_use` table.

Each comment's commands are counted once, under its comment id: a redelivered or replayed comment is decided as it
was the first time. Past the limit a person's commands are ignored; the first comment cut short in an hour says so
in its reply, the others in that hour say nothing. Triagers and maintainers are not limited: whether someone is one
is asked (`exempt`, which may ask the forge) only of someone past the limit. Rows older than the hour are deleted
as the person's new ones are written, so the table holds about an hour of commands.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from bot.store.tables import CommandUse

USE = CommandUse.__table__  # type: ignore[attr-defined]
WINDOW = timedelta(hours=1)
NOTICE = "(told)"  # the person was told they reached the limit (a row of its own, in the comment that told them)
IGNORED = "(ignored)"  # the comment's commands (some or all) were not run
MARKERS = (NOTICE, IGNORED)


@dataclass(frozen=True, slots=True)
class Where:
    platform: str
    repo: str
    number: str
    comment_id: str


@dataclass(frozen=True, slots=True)
class Allowance:
    runs: int  # how many of the comment's commands run: the first ones
    notice: bool  # the reply tells the person they reached the limit


def allowance(conn: Connection, where: Where, person: str, when: datetime, commands: Sequence[str], limit: int,
              exempt: Callable[[], bool]) -> Allowance:
    """How many of a comment's `commands` (their names, in order) its author may run (`limit` an hour, 0: no
    limit), recorded with the decision."""
    earlier = conn.execute(select(USE.c.command).where(
        USE.c.person == person, USE.c.platform == where.platform, USE.c.comment_id == where.comment_id)).scalars().all()
    if earlier:  # this comment again: as decided then
        return Allowance(sum(1 for name in earlier if name not in MARKERS), NOTICE in earlier)
    runs, notice = len(commands), False
    if limit:
        recent = USE.c.person == person, USE.c.used_at > when - WINDOW
        used = conn.execute(select(func.count()).select_from(USE).where(*recent, USE.c.command.not_in(MARKERS))
                            ).scalar_one()
        runs = min(runs, max(0, limit - used))
        if runs < len(commands) and exempt():
            runs = len(commands)
        if runs < len(commands):
            notice = conn.execute(select(USE.c.id).where(*recent, USE.c.command == NOTICE).limit(1)).first() is None
    names = list(commands[:runs])
    if runs < len(commands):
        names.append(NOTICE if notice else IGNORED)
    if names:
        conn.execute(USE.delete().where(USE.c.person == person, USE.c.used_at <= when - WINDOW))
        conn.execute(USE.insert(), [{"platform": where.platform, "repo": where.repo, "number": where.number,
                                     "person": person, "command": name, "used_at": when,
                                     "comment_id": where.comment_id} for name in names])
    return Allowance(runs, notice)
