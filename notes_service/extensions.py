"""Extensions: db and migrate created unbound and bound in create_app(); a rate limiter made per app."""

import functools
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, cast

from flask import Flask, Response, current_app, g, has_request_context, request
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, Select, event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import PoolProxiedConnection

from . import registry
from .config import FAIL_CLOSED_LIMITS
from .errors import STORAGE_RETRY_AFTER, Unavailable
from .i18n import gettext

# Named constraints: Alembic can then alter them on SQLite (batch mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


@event.listens_for(db.session, "after_commit")
def _committed(_session: Any) -> None:
    """Mark the request as having committed something (errors.nothing_committed reads it)."""
    if has_request_context():
        g._committed = True


# What models subclass. At run time it is db.Model, a class Flask-SQLAlchemy builds from Base's
# body with its mixins (bind key, table naming, query property); a type checker cannot subclass
# an attribute (mypy issue 8603), so it sees Base, whose mapped, typed API db.Model has.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()


def read_connection() -> Connection:
    """The request's connection for a read of a few statements, each its own snapshot.

    On PostgreSQL it runs in autocommit: READ COMMITTED gives every statement its own snapshot
    inside a transaction too, so the BEGIN and the ROLLBACK at teardown were two round trips
    that changed nothing. Call it before the session's first statement of the request (or
    after a commit): a connection the session already holds keeps its transaction. The
    session's next transaction (after a commit) is an ordinary one.
    SQLite keeps its plain BEGIN (`_tune_sqlite`), which costs no round trip: SQLAlchemy takes
    a pysqlite connection out of AUTOCOMMIT by giving it back pysqlite's own transaction
    handling (isolation_level ""), which `_tune_sqlite` turns off.
    """
    if db.engine.dialect.name == "postgresql":
        return db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return db.session.connection()


@dataclass(frozen=True, slots=True)
class _DriverForm:
    """A statement compiled for one dialect: its SQL, how its values are passed, converted and read back."""

    sql: str
    positions: tuple[str, ...] | None  # the parameters' order for a positional driver (sqlite3); None: by name
    fixed: dict[str, Any]
    to_driver: tuple[tuple[str, Callable[[Any], Any]], ...]
    from_driver: dict[str, Callable[[Any], Any]]  # each column whose driver value its type converts, by name
    typed: tuple[tuple[int, Callable[[Any], Any]], ...]  # those of them converted in every row
    row: Any  # the named tuple of a row

    def rows(
        self,
        dialect: Dialect,
        proxied: PoolProxiedConnection,
        lose: Callable[[BaseException], None],
        values: dict[str, Any],
    ) -> Sequence[Any]:
        for name, convert in self.to_driver:
            values[name] = convert(values[name])
        params: Sequence[Any] | dict[str, Any] = (
            values if self.positions is None else tuple(values[name] for name in self.positions)
        )
        found = _driver_rows(dialect, proxied, lose, self.sql, params)
        if not self.typed:
            return [self.row._make(row) for row in found]
        rows = []
        for row in found:
            fields = list(row)
            for index, convert in self.typed:
                if fields[index] is not None:
                    fields[index] = convert(fields[index])
            rows.append(self.row._make(fields))
        return rows


def _driver_rows(
    dialect: Dialect,
    proxied: PoolProxiedConnection,
    lose: Callable[[BaseException], None],
    sql: str,
    params: Sequence[Any] | dict[str, Any],
) -> Sequence[Any]:
    """`sql`'s rows from a pooled connection's DBAPI cursor, a driver error raised as SQLAlchemy raises it.

    A disconnect calls `lose`, which invalidates the connection and renews the engine's pool
    (`Engine.dispose`: the idle connections to the old server are closed, and connections other
    threads hold go back to the old pool, never handed out again), so the read's retry
    (errors.handle_database_error) gets a new connection. (Disposing the live pool instead would
    reset its count of connections while others are checked out, and the pool would then open
    more than its size.)
    """
    cursor = None
    try:
        cursor = proxied.cursor()
        if dialect.driver == "psycopg":
            # Results in PostgreSQL's binary format: no timestamps written out as text and parsed
            # back, no payload sent as hex (a read of 20 notes: 52 us less CPU, server and client).
            psycopg_cursor: Any = cursor  # psycopg's execute takes `binary`; the DBAPI's does not say so
            psycopg_cursor.execute(sql, params, binary=True)
        else:
            cursor.execute(sql, params)
        return cursor.fetchall()
    except dialect.loaded_dbapi.Error as error:
        lost = dialect.is_disconnect(error, proxied.dbapi_connection, cursor)
        if lost:
            lose(error)
        raise driver_error(sql, params, error, dialect, lost) from error
    finally:
        if cursor is not None and proxied.is_valid:
            cursor.close()


def _lose(lost: Connection | PoolProxiedConnection, engine: Engine) -> Callable[[BaseException], None]:
    """What `_driver_rows` does with a connection the database dropped: invalidate it, renew the pool."""

    def lose(error: BaseException) -> None:
        lost.invalidate(error)
        engine.dispose()

    return lose


def driver_error(
    statement: str | None, params: Any, error: Exception, dialect: Dialect, lost: bool = False
) -> StatementError:
    """A driver's error as SQLAlchemy raises it, its parameters hidden as the engine's own errors
    hide them (a token's hash, row ids)."""
    return DBAPIError.instance(
        statement, params, error, dialect.loaded_dbapi.Error, True, connection_invalidated=lost, dialect=dialect
    )


class DriverSelect:
    """A Core SELECT sent as its compiled SQL on the DBAPI cursor, compiled once per dialect.

    Executing a Core statement, even a cached one or `exec_driver_sql`'s text, costs SQLAlchemy's
    per-execution work: the cache lookup, the execution context and its events, a result's
    metadata and rows (callgrind: about 230,000 instructions a statement of 20 rows, a fifth of
    what remained of a read of 20 notes beyond /healthz's). The hot read sends the same two
    statements on every request, so this compiles each once, sends it on the cursor of the
    session's connection (`rows`: its transaction) or of a pooled connection taken for the one
    statement (`read_alone`: autocommit, the hot read's first) and converts only the
    values the caller reads typed, with the processors SQLAlchemy itself would apply (SQLite's
    timestamps as text, `UTCDateTime`'s zone): the `typed` columns in every row, any other one
    value at a time (`typed_value`); the rest are the driver's (an int for a boolean on SQLite,
    say). Errors are raised as SQLAlchemy's DBAPIError, a lost connection invalidated, so the
    read's retry holds. The engine's cursor events do not see these statements. Rows are named
    tuples of the selected columns' names.
    """

    def __init__(self, statement: Select[Any], typed: tuple[str, ...] = ()) -> None:
        self.statement = statement
        self.typed = typed
        self._forms: dict[tuple[str, str, str], _DriverForm] = {}

    def rows(self, connection: Connection, values: dict[str, Any]) -> Sequence[Any]:
        """The statement's rows for these parameter values, on this connection (its transaction)."""
        form = self._form(connection.dialect)
        return form.rows(
            connection.dialect, connection.connection, _lose(connection, connection.engine), {**form.fixed, **values}
        )

    def read_alone(self, engine: Engine, values: dict[str, Any]) -> Sequence[Any]:
        """The statement's rows, read on a connection of the engine's pool taken for it alone.

        The statement is its own snapshot (autocommit on PostgreSQL, no BEGIN on SQLite, whose
        connections `_tune_sqlite` leaves in autocommit), and the connection goes back to the
        pool at once. For a request's first read: the session's begin and teardown, which it
        skips, were about 57 us of a read of 20 notes, more than this connection's 10.
        """
        dialect = engine.dialect
        form = self._form(dialect)
        try:
            proxied = engine.raw_connection()
        except dialect.loaded_dbapi.Error as error:  # raised as Engine.connect raises it: no statement yet
            raise driver_error(None, None, error, dialect) from error
        postgresql = dialect.driver == "psycopg"
        try:
            if postgresql:
                proxied.driver_connection.autocommit = True  # type: ignore[union-attr]
            return form.rows(dialect, proxied, _lose(proxied, engine), {**form.fixed, **values})
        finally:
            try:
                # Out of autocommit, as the pool hands it out: the next user's writes are one transaction.
                if postgresql and proxied.is_valid:
                    proxied.driver_connection.autocommit = False  # type: ignore[union-attr]
            except Exception:  # a connection whose state is unknown is never handed out again
                proxied.invalidate()
            finally:
                proxied.close()

    def typed_value(self, dialect: Dialect, row: Any, name: str) -> Any:
        """A row's value of column `name` as its type gives it (a datetime for a timestamp on SQLite)."""
        value = getattr(row, name)
        convert = self._form(dialect).from_driver.get(name)
        return convert(value) if convert is not None and value is not None else value

    def _form(self, dialect: Dialect) -> _DriverForm:
        # By driver and parameter style, not the database's name alone: psycopg and psycopg2 (or a
        # paramstyle override) compile the same statement differently.
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        form = self._forms.get(key)
        if form is None:
            form = self._forms[key] = self._compile(dialect)
        return form

    def _compile(self, dialect: Dialect) -> _DriverForm:
        compiled = self.statement.compile(dialect=dialect)
        # Values the dialect wrote into the statement itself (SQLite's OFFSET 0 after a bound LIMIT).
        fixed = {name: value for name, value in compiled.construct_params(_check=False).items() if value is not None}
        to_driver: dict[str, Callable[[Any], Any]] = {}  # by name: a parameter used twice is converted once
        for bind, name in compiled.bind_names.items():
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if convert is not None and name not in fixed:
                to_driver[name] = convert
        names = [str(column.key) for column in self.statement.selected_columns]
        from_driver: dict[str, Callable[[Any], Any]] = {}
        for name, column in zip(names, self.statement.selected_columns, strict=True):
            convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if convert is not None:
                from_driver[name] = convert
        typed = tuple((names.index(name), from_driver[name]) for name in self.typed if name in from_driver)
        positions = tuple(compiled.positiontup or ()) if compiled.positional else None
        row = namedtuple("Row", names)  # type: ignore[misc]  # the names are the statement's
        return _DriverForm(compiled.string, positions, fixed, tuple(to_driver.items()), from_driver, typed, row)


View = TypeVar("View", bound=Callable[..., object])
_RATE_LIMIT = "_notes_rate_limit"
Counts = Callable[[Response], bool]


class _Mark(NamedTuple):
    """One limit a view carries (`rate_limited`): its value, what it counts by, which responses count."""

    name: str  # config.RATE_LIMITS's: every route carrying the same name counts against one limit
    limit: Callable[[], str]
    per: Callable[[], str] | None
    counts: Counts | None
    fails_closed: bool


def client_address() -> str:
    """The key rate limits count by: the client's address (the proxy's view, with NOTES_TRUST_PROXY)."""
    return request.remote_addr or "unknown"


def rate_limited(
    name: str, per: Callable[[], str] | None = None, counts: Counts | None = None
) -> Callable[[View], View]:
    """Mark a view as limited by the limit `name` of config.RATE_LIMITS, per client (or per `per()`).

    Every view marked with one name counts against one limit: the passcode's API route and its
    share-page form spend the same allowance.

    `per` names what else a limit counts by (a share, for its replies: its key must hold no
    secret, since it is stored in the limiter's storage). `counts` says which responses count
    against it (default: every request): a limit shared by everyone who holds a link counts only
    what one of them made, so that requests refused without a session cannot spend it for the
    others. A view may carry several marks. bind_limiter applies the marks with each app's own
    limiter; the value is read from the app's settings at request time, so every app keeps its
    own configuration.
    """

    def limit() -> str:
        return registry.settings().rate_limits[name]

    def mark(view: View) -> View:
        marks: list[_Mark] = getattr(view, _RATE_LIMIT, [])
        setattr(view, _RATE_LIMIT, [*marks, _Mark(name, limit, per, counts, name in FAIL_CLOSED_LIMITS)])
        return view

    return mark


def _counted_where_shared(limiter: Limiter, view: View) -> View:
    """`view`, refused with 503 unless the limiter counted its request in its own storage (the limits that fail closed).

    Inside the limit's wrapper: it runs once the limiter has counted. When the storage failed
    to count (Redis down or hanging, or answering but refusing writes: a replica after a
    failover, memory full), Flask-Limiter counted in this process's memory instead
    (`Limiter.limiter` is then its in-memory one): a guess counted there would get the
    allowance once per worker and host, so it is refused before the view reserves an attempt.
    """

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> object:
        if limiter.limiter.storage is not limiter.storage:
            rule = request.url_rule.rule if request.url_rule is not None else "-"  # "/s/<token>": no token
            current_app.logger.warning("rate-limit storage unreachable; %s %s refused with 503", request.method, rule)
            raise Unavailable(
                gettext("Passcodes cannot be checked for a moment. Your attempt was not counted. Try again shortly."),
                retry_after=STORAGE_RETRY_AFTER,
            )
        return view(*args, **kwargs)

    return cast(View, guarded)


def bind_limiter(app: Flask) -> Limiter:
    """Give the app its own Limiter and wrap the marked views with it.

    A Limiter keeps one storage, that of the last app it was bound to: one module-level
    Limiter shared by two apps in a process made each count on the other's storage.
    No default limits: only the routes that guard expensive or guessable work carry one.

    When the storage (Redis) cannot be reached:
    - every limit counts in this process's memory meanwhile (Flask-Limiter's
      `in_memory_fallback_enabled`): it still holds per worker instead of across hosts, and
      Flask-Limiter asks Redis again after 1, 2, 4 ... 32 seconds and goes back to it when it
      answers. `swallow_errors` logs, and does not raise, a failure after the view has run (a
      reply's count is spent once it is stored): the work is done, its answer is not an error;
    - the limits of config.FAIL_CLOSED_LIMITS (passcode guesses) refuse instead: 503 with
      Retry-After, before the view reserves an attempt, whenever the request was not counted in
      the storage (per-process counts would multiply a guesser's allowance by the workers and
      hosts): from the storage's first failure until Flask-Limiter's probe finds it again
      (within 32 s of its answering). The lockout, in the database, holds throughout.
    One Limiter, not one per behaviour: each adds its hooks to every request (284,000
    instructions a /healthz, a fifth of it: callgrind).
    """
    limiter = Limiter(key_func=client_address, default_limits=[], in_memory_fallback_enabled=True, swallow_errors=True)
    limiter.init_app(app)
    # The limiter checks every request before its view; a route with no limit of its own has
    # nothing to check (no default or application limits), so it is filtered out at once
    # instead of having its limits resolved to none (217,000 instructions a request, 4% of a
    # notes read: callgrind).
    limited = frozenset(endpoint for endpoint, view in app.view_functions.items() if hasattr(view, _RATE_LIMIT))
    limiter.request_filter(lambda: request.endpoint not in limited)
    for endpoint, view in list(app.view_functions.items()):
        wrapped = view
        marks: list[_Mark] = getattr(view, _RATE_LIMIT, [])
        if any(mark.fails_closed for mark in marks):
            wrapped = _counted_where_shared(limiter, wrapped)  # inside the limits: runs once they counted
        for name, limit, per, counts, _fails_closed in marks:
            # Shared by name: a limit is one count whichever of its routes a request takes (the
            # passcode's API and share-page form, say); Flask-Limiter's `limit` counts each route
            # apart, and a client alternating between two routes got twice the allowance.
            # shared_limit() keeps the view's type (Callable[P, R] -> Callable[P, R]), but mypy
            # solves R over Flask's sync-or-async RouteCallable union at once, not for each member.
            wrapped = limiter.shared_limit(  # type: ignore[assignment]
                limit, scope=name, key_func=per or client_address, deduct_when=counts
            )(wrapped)
        app.view_functions[endpoint] = wrapped
    return limiter
