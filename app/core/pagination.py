"""How lists page: `?page=` numbers for short lists, keyset pages (`?after=` / `?before=` a
row id) and capped counts for lists that grow with the CCO."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, request

from app.extensions import db

MAX_PAGE = 10_000


def page_arg() -> int:
    """The requested page (1 by default); anything out of range is a 404."""
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > MAX_PAGE:
        abort(404)
    return page


def page_count(total: int, per_page: int) -> int:
    return max(1, (total + per_page - 1) // per_page)


# ------------------------------------------------------------------ keyset pages

#: A count stops here: "More than 200" is all a person needs, and the count reads at most
#: 201 index entries for a member with a panel of 480 or 5,000 (at 1,000 the inbox and My
#: patients still cost 35% more at 100k patients than at 10k: the demo nurse's panel grew
#: from under the cap to over it).
COUNT_CAP = 200


def capped_count(query: sa.Select, cap: int = COUNT_CAP) -> int:
    """How many rows `query` has, reading at most `cap + 1` of them (cap + 1 means more)."""
    limited = query.order_by(None).limit(cap + 1).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(limited)) or 0


@dataclass
class Page:
    """One page of a list read by its sort key, and where the pages around it start."""

    rows: list
    #: The `after=` id of the next page, None on the last page.
    after: int | None
    #: The `before=` id of the previous page, None on the first page.
    before: int | None


def cursor_args() -> tuple[int | None, int | None]:
    """`?after=` and `?before=` ids (a value that cannot be an id is a 404)."""
    from app.core.urls import id_arg

    return id_arg("after"), id_arg("before")


def keyset_page(
    query: sa.Select,
    keys: tuple,
    *,
    per_page: int,
    descending: bool = False,
    after: tuple | None = None,
    before: tuple | None = None,
    row_id,
) -> Page:
    """Rows of `query` ordered by `keys` (the last key unique), `per_page` from just after
    (or just before) a row whose key values are given: an index range read, the same cost on
    page 1 and page 10,000, unlike OFFSET. `row_id(row)` is the id that names a row in the
    URL (never a name: URLs end up in logs); the caller looks that row's keys up."""
    ordered = [k.desc() for k in keys] if descending else list(keys)
    reverse = [k.asc() for k in keys] if descending else [k.desc() for k in keys]
    position = sa.tuple_(*keys)
    if before is not None:
        beyond = position > sa.tuple_(*before) if descending else position < sa.tuple_(*before)
        rows = list(db.session.execute(query.where(beyond).order_by(*reverse).limit(per_page + 1)))
        earlier = len(rows) > per_page
        rows = list(reversed(rows[:per_page]))
        return Page(
            rows,
            after=row_id(rows[-1]) if rows else None,
            before=row_id(rows[0]) if rows and earlier else None,
        )
    if after is not None:
        beyond = position < sa.tuple_(*after) if descending else position > sa.tuple_(*after)
        query = query.where(beyond)
    rows = list(db.session.execute(query.order_by(*ordered).limit(per_page + 1)))
    later = len(rows) > per_page
    rows = rows[:per_page]
    return Page(
        rows,
        after=row_id(rows[-1]) if rows and later else None,
        before=row_id(rows[0]) if rows and after is not None else None,
    )
