"""The PostgreSQL store's schema, as forward migrations: entry n brings a database to version
n + 1, recorded in `domainwatch_schema`. Never edit an entry that has shipped; append one.

Version 1 is the SQLite store's schema at its version 5 (store/migrations.py), and version 2 its
version 6: the same tables, columns and meanings, times as integer microseconds since the epoch,
JSON as text, so one set of row mappings (store/rows.py) serves both and `store copy` moves rows
as they are.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE domains (
        name TEXT PRIMARY KEY,
        verify INTEGER NOT NULL,
        status TEXT NOT NULL,
        since BIGINT,
        capabilities TEXT NOT NULL,
        checked_at BIGINT,
        sequence INTEGER NOT NULL DEFAULT 0,
        removed_at BIGINT,
        facts TEXT
    );
    CREATE TABLE records (
        domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
        record TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        status TEXT NOT NULL,
        since BIGINT,
        started_at BIGINT,
        missing_since BIGINT,
        misses INTEGER NOT NULL,
        stale INTEGER NOT NULL,
        last_observation TEXT,
        checked_at BIGINT,
        result TEXT,
        PRIMARY KEY (domain, record)
    );
    CREATE TABLE history (
        id TEXT PRIMARY KEY,
        domain TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        previous TEXT NOT NULL,
        status TEXT NOT NULL,
        at BIGINT NOT NULL,
        reason TEXT NOT NULL,
        observations TEXT NOT NULL
    );
    CREATE INDEX history_by_domain ON history (domain, sequence);
    CREATE INDEX history_by_time ON history (at);
    CREATE TABLE outbox (
        event_id TEXT PRIMARY KEY REFERENCES history(id),
        domain TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        payload TEXT
    );
    CREATE TABLE deliveries (
        endpoint TEXT NOT NULL,
        event_id TEXT NOT NULL,
        domain TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        type TEXT NOT NULL,
        body TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at BIGINT NOT NULL,
        in_flight INTEGER NOT NULL DEFAULT 0,
        last_attempt_at BIGINT,
        last_status INTEGER,
        last_error TEXT,
        created_at BIGINT NOT NULL,
        finished_at BIGINT,
        PRIMARY KEY (endpoint, event_id)
    );
    CREATE INDEX deliveries_due ON deliveries (endpoint, state, next_attempt_at);
    CREATE INDEX deliveries_order ON deliveries (endpoint, domain, state, sequence);
    CREATE TABLE endpoints (
        name TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        disabled_at BIGINT,
        reason TEXT
    );
    CREATE TABLE documents (
        name TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
    );
    CREATE TABLE answers (
        key TEXT PRIMARY KEY,
        request TEXT NOT NULL,
        status INTEGER NOT NULL,
        body TEXT NOT NULL,
        created_at BIGINT NOT NULL
    );
    CREATE INDEX answers_age ON answers (created_at);
    """,
    # 2: when each domain was last verified (SQLite's 6).
    """
    ALTER TABLE domains ADD COLUMN verified_at BIGINT;
    UPDATE domains SET verified_at = checked_at WHERE status = 'verified';
    """,
    # 3: SQLite's 7, the fleet's domains by status per day (the overview's chart).
    """
    CREATE TABLE day_counts (
        day TEXT NOT NULL,
        status TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (day, status)
    );
    """,
    # 4: SQLite's 8, drift: record drift states, value sets, maintenance windows.
    """
    ALTER TABLE records ADD COLUMN drift TEXT;
    UPDATE records SET drift = json_build_object('since', COALESCE(
        (SELECT MIN(h.at) FROM history h WHERE h.domain = records.domain AND h.subject = records.record),
        (extract(epoch from now()) * 1000000)::bigint))::text
    WHERE record LIKE 'dkim:%' AND last_observation IS NOT NULL;
    CREATE TABLE value_sets (
        digest TEXT PRIMARY KEY,
        body TEXT NOT NULL
    );
    CREATE TABLE maintenance_windows (
        id TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        ends_at BIGINT NOT NULL
    );
    """,
    # 5: SQLite's 9, when each value set was last written.
    """
    ALTER TABLE value_sets ADD COLUMN used_at BIGINT NOT NULL DEFAULT 0;
    UPDATE value_sets SET used_at = (extract(epoch from now()) * 1000000)::bigint;
    CREATE INDEX value_sets_used ON value_sets (used_at);
    """,
    # 6: replicas sharing the store (docs/ha.md): slot leases with fencing epochs, the live
    # replicas, when each domain's row last changed (by the database's clock, for the replicas
    # that read it), and the API writes a replica hands to a domain's owner.
    """
    CREATE FUNCTION domainwatch_slot(name TEXT) RETURNS INTEGER LANGUAGE SQL IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (get_byte(d, 14) & 3) * 256 + get_byte(d, 15)
          FROM (SELECT decode(md5(lower(name)), 'hex') AS d) AS digest $$;
    CREATE TABLE slot_leases (
        slot INTEGER PRIMARY KEY,
        holder TEXT,
        epoch BIGINT NOT NULL DEFAULT 0,
        expires_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
    );
    INSERT INTO slot_leases (slot) SELECT generate_series(0, 1023);
    CREATE TABLE replicas (
        id TEXT PRIMARY KEY,
        started_at TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL
    );
    ALTER TABLE domains ADD COLUMN changed_at BIGINT NOT NULL DEFAULT 0;
    CREATE INDEX domains_changed ON domains (changed_at);
    CREATE TABLE commands (
        id BIGSERIAL PRIMARY KEY,
        slot INTEGER NOT NULL,
        body TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        claimed_by TEXT,
        answer TEXT
    );
    CREATE INDEX deliveries_by_slot ON deliveries (domainwatch_slot(domain)) WHERE state = 'pending';
    """,
)

# The database's clock in the stores' unit (microseconds since the epoch): what `changed_at`
# holds, so every replica compares times from one clock.
DB_NOW = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"


# The tables `store copy` moves, parents first, with their columns in both stores' order.
TABLES: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (table, tuple(columns.split()))
    for table, columns in (
        ("domains", "name verify status since capabilities checked_at sequence removed_at facts verified_at"),
        (
            "records",
            "domain record fingerprint status since started_at missing_since misses stale last_observation"
            " checked_at result drift",
        ),
        ("value_sets", "digest body used_at"),
        ("maintenance_windows", "id body ends_at"),
        ("history", "id domain sequence kind subject previous status at reason observations"),
        ("outbox", "event_id domain created_at payload"),
        (
            "deliveries",
            "endpoint event_id domain sequence type body state attempts next_attempt_at in_flight"
            " last_attempt_at last_status last_error created_at finished_at",
        ),
        ("endpoints", "name url disabled_at reason"),
        ("day_counts", "day status count"),
        ("documents", "name body created_at updated_at"),
        ("answers", "key request status body created_at"),
    )
)
