"""The store's schema, as forward migrations: entry n brings a database to version n + 1.

Never edit an entry that has shipped; append a new one. The store applies the missing ones in
order at start-up, each in its own transaction, and refuses a database newer than it knows.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE domains (
        name TEXT PRIMARY KEY,
        verify INTEGER NOT NULL,
        status TEXT NOT NULL,
        since INTEGER,
        capabilities TEXT NOT NULL,
        checked_at INTEGER,
        sequence INTEGER NOT NULL DEFAULT 0,
        removed_at INTEGER
    );
    CREATE TABLE records (
        domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
        record TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        status TEXT NOT NULL,
        since INTEGER,
        started_at INTEGER,
        missing_since INTEGER,
        misses INTEGER NOT NULL,
        stale INTEGER NOT NULL,
        last_observation TEXT,
        checked_at INTEGER,
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
        at INTEGER NOT NULL,
        reason TEXT NOT NULL,
        observations TEXT NOT NULL
    );
    CREATE INDEX history_by_domain ON history (domain, sequence);
    CREATE INDEX history_by_time ON history (at);
    CREATE TABLE outbox (
        event_id TEXT PRIMARY KEY REFERENCES history(id),
        domain TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    """,
    # 2: webhooks. The outbox keeps each event's body snapshot until it is fanned out into one
    # delivery per matching endpoint; deliveries carry their exact bytes and retry state.
    """
    ALTER TABLE outbox ADD COLUMN payload TEXT;
    CREATE TABLE deliveries (
        endpoint TEXT NOT NULL,
        event_id TEXT NOT NULL,
        domain TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        type TEXT NOT NULL,
        body TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        in_flight INTEGER NOT NULL DEFAULT 0,
        last_attempt_at INTEGER,
        last_status INTEGER,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        finished_at INTEGER,
        PRIMARY KEY (endpoint, event_id)
    );
    CREATE INDEX deliveries_due ON deliveries (endpoint, state, next_attempt_at);
    CREATE INDEX deliveries_order ON deliveries (endpoint, domain, state, sequence);
    CREATE TABLE endpoints (
        name TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        disabled_at INTEGER,
        reason TEXT
    );
    """,
    # 3: each domain's facts (finding counts, SPF lookups, DKIM key sizes, DMARC policy) as the
    # metrics export them, so a restart need not read and parse every stored result.
    """
    ALTER TABLE domains ADD COLUMN facts TEXT;
    """,
    # 4: fingerprints are made from a canonical encoding of each expectation (checks/
    # fingerprints.py). Stored ones are marked as the older kind; the daemon replaces each with
    # the current one when the expectation is unchanged, so no record restarts on upgrade.
    """
    UPDATE records SET fingerprint = 'legacy:' || fingerprint WHERE fingerprint NOT LIKE 'legacy:%';
    """,
    # 5: domains managed over the API: each one's document, and the answers kept for
    # Idempotency-Key retries of create calls.
    """
    CREATE TABLE documents (
        name TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE answers (
        key TEXT PRIMARY KEY,
        request TEXT NOT NULL,
        status INTEGER NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX answers_age ON answers (created_at);
    """,
    # 6: when each domain was last verified (domainwatch_domain_last_verified_timestamp_seconds);
    # a domain verified now was last verified at its last check.
    """
    ALTER TABLE domains ADD COLUMN verified_at INTEGER;
    UPDATE domains SET verified_at = checked_at WHERE status = 'verified';
    """,
    # 7: the fleet's domains by status, per day (UTC): the overview's chart reads these few rows,
    # never the history. The daemon writes today's counts every few minutes.
    """
    CREATE TABLE day_counts (
        day TEXT NOT NULL,
        status TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (day, status)
    );
    """,
    # 8: drift (fleet/drift.py). Each record's drift state; the value sets that change events
    # and drift states name, stored once per distinct set; maintenance windows. A DKIM key
    # stored before this was first seen at its record's earliest stored event, else now.
    """
    ALTER TABLE records ADD COLUMN drift TEXT;
    UPDATE records SET drift = json_object('since', COALESCE(
        (SELECT MIN(h.at) FROM history h WHERE h.domain = records.domain AND h.subject = records.record),
        CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)))
    WHERE record LIKE 'dkim:%' AND last_observation IS NOT NULL;
    CREATE TABLE value_sets (
        digest TEXT PRIMARY KEY,
        body TEXT NOT NULL
    );
    CREATE TABLE maintenance_windows (
        id TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        ends_at INTEGER NOT NULL
    );
    """,
    # 9: history's observations name their found values as value sets too; a set is kept while
    # the history that may name it is (when it was last written), or while a record's drift does.
    """
    ALTER TABLE value_sets ADD COLUMN used_at INTEGER NOT NULL DEFAULT 0;
    UPDATE value_sets SET used_at = CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER);
    CREATE INDEX value_sets_used ON value_sets (used_at);
    """,
)
