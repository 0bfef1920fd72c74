import Foundation
import GRDB

/// The replica's schema. Migrations are append-only, written against the database as it was
/// and frozen once released: they call no model code, so a later change of the model cannot
/// change what an old migration does (a copy of what one needs lives beside it).
enum Schema {
    /// The directory's sort key as v5 computed it: lowercased, without diacritics (a frozen copy
    /// of `SearchText.fold` as of v5).
    static func v5NameKey(_ s: String) -> String {
        if s.utf8.allSatisfy({ $0 < 0x80 }) { return s.lowercased() }
        return s.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil).lowercased()
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (
                        key TEXT PRIMARY KEY NOT NULL,
                        value TEXT NOT NULL
                    ) WITHOUT ROWID;

                    -- One row per origin held. The id is local and only names the origin inside
                    -- entry row ids: rowid = id << 40 | seq.
                    CREATE TABLE origins (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL UNIQUE,
                        head_seq INTEGER NOT NULL DEFAULT 0 CHECK (head_seq >= 0),
                        head_hash BLOB NOT NULL,
                        head_hlc INTEGER NOT NULL DEFAULT 0,
                        frozen TEXT
                    );

                    -- The log. envelope: canonical JSON as signed; payloads: JSON array, one per
                    -- operation (null where erased or absent).
                    CREATE TABLE entries (
                        rowid INTEGER PRIMARY KEY,
                        hash BLOB NOT NULL CHECK (length(hash) = 32),
                        hlc INTEGER NOT NULL,
                        envelope BLOB NOT NULL,
                        signature BLOB NOT NULL CHECK (length(signature) = 64),
                        payloads BLOB NOT NULL
                    );

                    CREATE TABLE members (
                        rowid INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        "chapter" TEXT, "email" TEXT, "name" TEXT, "organisation" TEXT, "role" TEXT,
                        "city" TEXT, "country" TEXT, "bio" TEXT, "links" TEXT, "visibility" TEXT, "status" TEXT,
                        email_key TEXT,
                        removed INTEGER NOT NULL DEFAULT 0,
                        state BLOB NOT NULL
                    );
                    CREATE INDEX members_email_key ON members(email_key) WHERE removed = 0;
                    CREATE INDEX members_chapter ON members("chapter") WHERE removed = 0;

                    CREATE TABLE events (
                        rowid INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        "chapter" TEXT, "title" TEXT, "description" TEXT, "start" TEXT, "end" TEXT,
                        "timezone" TEXT, "venue" TEXT, "url" TEXT, "capacity" INTEGER, "status" TEXT,
                        removed INTEGER NOT NULL DEFAULT 0,
                        state BLOB NOT NULL
                    );
                    CREATE INDEX events_start ON events("start") WHERE removed = 0;

                    -- Entries refused by the validity rule, kept with the reason, never applied.
                    CREATE TABLE quarantine (
                        id INTEGER PRIMARY KEY,
                        origin TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        code TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        peer TEXT,
                        entry BLOB,
                        received_at INTEGER NOT NULL
                    );
                    CREATE INDEX quarantine_origin ON quarantine(origin, seq);
                    """)
        }
        m.registerMigration("v2-peers") { db in
            try db.execute(
                sql: """
                    -- What this node knows of each peer's sync; shown by 'aces peers'.
                    CREATE TABLE peers (
                        chapter TEXT PRIMARY KEY NOT NULL,
                        last_attempt INTEGER,
                        last_success INTEGER,
                        last_error TEXT,
                        failures INTEGER NOT NULL DEFAULT 0,
                        skew_ms INTEGER,
                        lag TEXT NOT NULL DEFAULT '{}',
                        received INTEGER NOT NULL DEFAULT 0
                    ) WITHOUT ROWID;
                    """)
        }
        m.registerMigration("v3-conflicts") { db in
            try db.execute(
                sql: """
                    -- The survivor's id when an operator merged a duplicate member into another.
                    ALTER TABLE members ADD COLUMN "merged_into" TEXT;
                    -- Whether the record has a field with several heads or a delete beside an edit.
                    ALTER TABLE members ADD COLUMN conflicted INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE events ADD COLUMN conflicted INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX members_conflicted ON members(id) WHERE conflicted = 1;
                    CREATE INDEX events_conflicted ON events(id) WHERE conflicted = 1;
                    """)
        }
        m.registerMigration("v4-erasure") { db in
            try db.execute(
                sql: """
                    -- Erasures authored on this node, with the operator's reason (kept here only).
                    CREATE TABLE erasures (
                        record TEXT PRIMARY KEY NOT NULL,
                        kind TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        reason TEXT NOT NULL,
                        erased_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    -- Each peer's heads at the last pass, to show which peers hold an entry.
                    ALTER TABLE peers ADD COLUMN heads TEXT NOT NULL DEFAULT '{}';
                    """)
        }
        m.registerMigration("v5-directory") { db in
            try db.execute(
                sql: """
                    -- The directory's sort key (the name, case and accents folded) and a count of the
                    -- operations applied to each record (an event's iCalendar SEQUENCE).
                    ALTER TABLE members ADD COLUMN name_key TEXT;
                    ALTER TABLE members ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE events ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX members_directory ON members(name_key, id) WHERE removed = 0;
                    -- Covers the directory's country filter list (distinct countries a viewer may see).
                    CREATE INDEX members_country ON members(country, visibility, "chapter", status) WHERE removed = 0;

                    -- Full-text search over the directory, fed by the applier once per record and
                    -- transaction (see SearchIndex: rowids sort like names; scope holds visibility,
                    -- chapter and country tokens). Accents are folded; prefixes of 2 and 3 indexed;
                    -- no positions are kept (detail = column): queries are words, never phrases.
                    ALTER TABLE members ADD COLUMN search_rowid INTEGER;
                    -- Members a large transaction (a catch-up, an import) changed, indexed after it
                    -- in bulk rather than one by one inside it.
                    CREATE TABLE search_pending (rowid INTEGER PRIMARY KEY);
                    CREATE VIRTUAL TABLE member_search USING fts5(
                        name, organisation, role, city, bio, scope,
                        tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3', detail = column);

                    -- Sign-in links a chapter admin issued, sessions opened with them, and admin API
                    -- tokens. Only digests of the secrets are kept. Local to this node, never synced.
                    CREATE TABLE invites (
                        digest BLOB PRIMARY KEY NOT NULL,
                        member TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    ) WITHOUT ROWID;
                    CREATE INDEX invites_member ON invites(member);
                    CREATE TABLE sessions (
                        digest BLOB PRIMARY KEY NOT NULL,
                        member TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    ) WITHOUT ROWID;
                    CREATE INDEX sessions_member ON sessions(member);
                    CREATE TABLE admin_tokens (
                        id TEXT PRIMARY KEY NOT NULL,
                        digest BLOB NOT NULL UNIQUE,
                        label TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    ) WITHOUT ROWID;
                    """)
            // Frozen with the migration: the name key as it was folded when v5 was released, and
            // every member queued for the search index, which `Store.open` then fills with the
            // indexer of the day (an index is derived data, rebuilt, never migrated).
            let update = try db.makeStatement(sql: "UPDATE members SET name_key = ? WHERE rowid = ?")
            for row in try Row.fetchAll(db, sql: "SELECT rowid, name FROM members WHERE name IS NOT NULL") {
                try update.execute(arguments: [Schema.v5NameKey(row["name"] as String), row["rowid"] as Int64])
            }
            try db.execute(sql: "INSERT OR IGNORE INTO search_pending(rowid) SELECT rowid FROM members")
        }
        m.registerMigration("v6-key-announcements") { db in
            try db.execute(
                sql: """
                    -- Keys each origin's chain announced (next_key), by the seq of the announcing entry:
                    -- the key valid for an entry is the latest one announced before it.
                    CREATE TABLE key_announcements (
                        origin INTEGER NOT NULL,
                        seq INTEGER NOT NULL,
                        key_id TEXT NOT NULL,
                        public_key BLOB NOT NULL,
                        PRIMARY KEY (origin, seq)
                    ) WITHOUT ROWID;
                    """)
        }
        m.registerMigration("v7-held") { db in
            try db.execute(
                sql: """
                    -- Origins whose next entries wait, neither applied nor refused: no valid signature
                    -- vouches for them yet, or they are written in a protocol version this node does
                    -- not read. One row per origin, replaced at each pass, gone once the origin moves on.
                    CREATE TABLE held (
                        origin TEXT PRIMARY KEY NOT NULL,
                        seq INTEGER NOT NULL,
                        code TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        peer TEXT,
                        since INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    -- The protocol versions each peer said it reads ("1,2"), from its heads answer.
                    ALTER TABLE peers ADD COLUMN versions TEXT;
                    """)
        }
        m.registerMigration("v8-withheld") { db in
            try db.execute(
                sql: """
                    -- Operations received without their payload where this node holds no erasure of
                    -- the record: stored in the log, not applied, until the payload arrives from a
                    -- peer or an erase of the record is applied (PROTOCOL.md §3.2).
                    CREATE TABLE withheld (
                        origin TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        op INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        record TEXT NOT NULL,
                        peer TEXT,
                        since INTEGER NOT NULL,
                        PRIMARY KEY (origin, seq, op)
                    ) WITHOUT ROWID;
                    CREATE INDEX withheld_record ON withheld(record);
                    """)
        }
        m.registerMigration("v9-ownership") { db in
            try db.execute(
                sql: """
                    -- Grants, revocations and transfers of records (protocol version 3, PROTOCOL.md §2
                    -- *Ownership*), valid or not: who may write a record is replayed from them.
                    CREATE TABLE custody (
                        kind TEXT NOT NULL,
                        record TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        hlc INTEGER NOT NULL,
                        act TEXT NOT NULL,
                        target TEXT NOT NULL,
                        PRIMARY KEY (kind, record, origin, seq)
                    ) WITHOUT ROWID;
                    -- The creator of each record whose id predates owner tags: the origin of the
                    -- earliest operation on it in an entry older than version 3.
                    CREATE TABLE legacy_creators (
                        kind TEXT NOT NULL,
                        record TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        hlc INTEGER NOT NULL,
                        PRIMARY KEY (kind, record)
                    ) WITHOUT ROWID;
                    INSERT INTO legacy_creators(kind, record, origin, seq, hlc)
                    SELECT json_extract(op.value, '$.kind'), json_extract(op.value, '$.id'),
                           json_extract(CAST(e.envelope AS TEXT), '$.origin'), json_extract(CAST(e.envelope AS TEXT), '$.seq'), e.hlc
                    FROM entries e, json_each(CAST(e.envelope AS TEXT), '$.ops') op
                    WHERE json_extract(CAST(e.envelope AS TEXT), '$.v') < 3
                    ORDER BY e.hlc DESC, json_extract(CAST(e.envelope AS TEXT), '$.origin') DESC, json_extract(CAST(e.envelope AS TEXT), '$.seq') DESC
                    ON CONFLICT (kind, record) DO UPDATE SET origin = excluded.origin, seq = excluded.seq, hlc = excluded.hlc;
                    -- Operations refused because their origin could not write the record: kept in the
                    -- log as evidence, not applied; the rest of the chain is applied as usual.
                    CREATE TABLE refused_ops (
                        origin TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        record TEXT NOT NULL,
                        code TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        peer TEXT,
                        since INTEGER NOT NULL,
                        PRIMARY KEY (origin, seq, kind, record)
                    ) WITHOUT ROWID;
                    CREATE INDEX refused_ops_record ON refused_ops(kind, record);
                    -- A replica written before version 3 judges its records again once (see
                    -- Store.recheckOwnershipIfNeeded): edits across chapters are refused now.
                    CREATE TABLE ownership_pending (since INTEGER NOT NULL);
                    INSERT INTO ownership_pending(since) SELECT 0 WHERE EXISTS (SELECT 1 FROM entries);
                    """)
        }
        m.registerMigration("v10-entry-records") { db in
            try db.execute(
                sql: """
                    -- Which stored entries operate on which record, so erasing a record finds its
                    -- entries without reading the whole log. Filled by the applier as entries are stored.
                    CREATE TABLE entry_records (
                        record TEXT NOT NULL,
                        entry INTEGER NOT NULL,
                        PRIMARY KEY (record, entry)
                    ) WITHOUT ROWID;
                    INSERT OR IGNORE INTO entry_records(record, entry)
                        SELECT json_extract(op.value, '$.id'), e.rowid
                        FROM entries e, json_each(CAST(e.envelope AS TEXT), '$.ops') op
                        WHERE json_extract(op.value, '$.id') IS NOT NULL;
                    """)
        }
        m.registerMigration("v11-self-service") { db in
            try db.execute(
                sql: """
                    -- Whether signed-in members see a member's email (protocol version 3).
                    ALTER TABLE members ADD COLUMN "email_visibility" TEXT;
                    -- Erasures members asked for from their profile, while the chapter's admins review
                    -- them ([directory] member_erasure = "review"). Only the member's id, never data.
                    -- Local to this node, never synced.
                    CREATE TABLE erasure_requests (
                        member TEXT PRIMARY KEY NOT NULL,
                        requested_at INTEGER NOT NULL,
                        declined_at INTEGER
                    ) WITHOUT ROWID;
                    """)
        }
        m.registerMigration("v12-roster") { db in
            try db.execute(
                sql: """
                    -- Every signed roster document this node accepted, as received (PROTOCOL.md §2.1):
                    -- the highest version is the roster in force.
                    CREATE TABLE roster (
                        version INTEGER PRIMARY KEY NOT NULL,
                        document TEXT NOT NULL,
                        peer TEXT,
                        accepted INTEGER NOT NULL
                    );
                    -- Roster documents refused (not signed by the federation's root, or malformed).
                    CREATE TABLE roster_refusals (
                        id INTEGER PRIMARY KEY,
                        version INTEGER,
                        peer TEXT,
                        reason TEXT NOT NULL,
                        at INTEGER NOT NULL
                    );
                    -- The roster version each peer said it holds, from its heads answer.
                    ALTER TABLE peers ADD COLUMN roster INTEGER;
                    """)
        }
        m.registerMigration("v13-entry-records-staged") { db in
            try db.execute(
                sql: """
                    -- entry_records rows of a catch-up, appended as entries arrive and moved into
                    -- entry_records, sorted, when it ends or before anything reads that table.
                    CREATE TABLE entry_records_staged (
                        record TEXT NOT NULL,
                        entry INTEGER NOT NULL
                    );
                    """)
        }
        return m
    }
}
