import GRDB

/// The SQLite schema of `farm.sqlite`. Times are REAL seconds since the reference date; JSON
/// values are TEXT (compact). Add a migration for every change; never edit a shipped one.
enum StoreSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE artifacts (
                    digest TEXT PRIMARY KEY NOT NULL,
                    kind TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    created_at REAL NOT NULL,
                    last_used_at REAL NOT NULL
                );
                CREATE TABLE file_digests (
                    path TEXT PRIMARY KEY NOT NULL,
                    size INTEGER NOT NULL,
                    mtime_ns INTEGER NOT NULL,
                    inode INTEGER NOT NULL,
                    digest TEXT NOT NULL
                );
                CREATE TABLE cache_entries (
                    key TEXT PRIMARY KEY NOT NULL,
                    stage TEXT NOT NULL,
                    metadata TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    last_used_at REAL NOT NULL
                );
                CREATE TABLE cache_outputs (
                    key TEXT NOT NULL REFERENCES cache_entries(key) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    digest TEXT NOT NULL REFERENCES artifacts(digest),
                    kind TEXT NOT NULL,
                    PRIMARY KEY (key, name)
                );
                CREATE INDEX cache_outputs_digest ON cache_outputs(digest);
                CREATE TABLE journal (
                    key TEXT NOT NULL,
                    name TEXT NOT NULL,
                    value TEXT NOT NULL,
                    updated_at REAL NOT NULL,
                    PRIMARY KEY (key, name)
                );
                CREATE TABLE runs (
                    id TEXT PRIMARY KEY NOT NULL,
                    profile TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    song TEXT NOT NULL,
                    status TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    finished_at REAL,
                    output TEXT,
                    output_digest TEXT,
                    error TEXT,
                    request TEXT NOT NULL
                );
                CREATE INDEX runs_created_at ON runs(created_at);
                CREATE INDEX runs_output_digest ON runs(output_digest);
                CREATE TABLE stage_runs (
                    id INTEGER PRIMARY KEY,
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    stage TEXT NOT NULL,
                    implementation TEXT NOT NULL,
                    provider TEXT NOT NULL,
                    cache_key TEXT,
                    status TEXT NOT NULL,
                    started_at REAL,
                    finished_at REAL,
                    seconds REAL,
                    error TEXT,
                    log TEXT,
                    metadata TEXT,
                    UNIQUE (run_id, stage)
                );
                """)
        }
        migrator.registerMigration("v2") { db in
            // Who runs a run (so a run whose process is gone shows as interrupted), and which
            // earlier run a `farm runs resume` continues.
            try db.execute(sql: """
                ALTER TABLE runs ADD COLUMN pid INTEGER;
                ALTER TABLE runs ADD COLUMN resumed_from TEXT;
                """)
        }
        // Sources fetched from outside (a song link), by the URL as given: reused within a
        // freshness window; their artifacts stay while a record names them.
        migrator.registerMigration("v3-fetched-sources") { db in
            try db.execute(sql: """
                CREATE TABLE fetched_sources (
                    key TEXT PRIMARY KEY NOT NULL,
                    digest TEXT NOT NULL REFERENCES artifacts(digest),
                    facts TEXT NOT NULL,
                    fetched_at REAL NOT NULL,
                    last_used_at REAL NOT NULL
                );
                CREATE INDEX fetched_sources_digest ON fetched_sources(digest);
                """)
        }
        migrator.registerMigration("v4-queue") { db in
            // Renders waiting for `farm serve`, in order; `run_id` once one has started.
            try db.execute(sql: """
                CREATE TABLE queue (
                    id TEXT PRIMARY KEY NOT NULL,
                    request TEXT NOT NULL,
                    state TEXT NOT NULL,
                    run_id TEXT,
                    created_at REAL NOT NULL,
                    finished_at REAL,
                    error TEXT,
                    hint TEXT
                );
                CREATE INDEX queue_created_at ON queue(created_at);
                """)
        }
        migrator.registerMigration("v5-run-graph") { db in
            // The planned stages of a run with their dependencies (JSON), so a past run's stage
            // graph can be drawn even for stages that never started.
            try db.execute(sql: "ALTER TABLE runs ADD COLUMN graph TEXT")
        }
        migrator.registerMigration("v6-checked-preparations") { db in
            // What a stage's preflight found for an input known by its content (a local song by
            // its digest), so the same bytes under the same parameters are checked once.
            try db.execute(sql: """
                CREATE TABLE checked_preparations (
                    key TEXT PRIMARY KEY NOT NULL,
                    facts TEXT NOT NULL,
                    checked_at REAL NOT NULL
                );
                """)
        }
        return migrator
    }
}
