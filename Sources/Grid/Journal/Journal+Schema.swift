import Crypto
import Cluster
import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// The journal's schema and its migrations, oldest first (a store marked with one this build does not know is refused).
extension Journal {
    static func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE job (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    owner TEXT NOT NULL,
                    admin INTEGER NOT NULL,
                    workflow BLOB NOT NULL,
                    variables BLOB NOT NULL,
                    submitted_at INTEGER NOT NULL,
                    submitted_wall REAL NOT NULL,
                    status TEXT NOT NULL,
                    priority INTEGER NOT NULL,
                    ended_wall REAL,
                    report BLOB
                );
                CREATE INDEX job_ended ON job(ended_wall);
                CREATE TABLE record (
                    seq INTEGER PRIMARY KEY,
                    job INTEGER NOT NULL,
                    kind INTEGER NOT NULL,
                    task INTEGER NOT NULL,
                    attempt INTEGER NOT NULL,
                    node INTEGER NOT NULL,
                    at INTEGER NOT NULL,
                    payload BLOB
                );
                CREATE INDEX record_job ON record(job, seq);
                CREATE TABLE healing (key TEXT PRIMARY KEY, record BLOB NOT NULL);
                CREATE TABLE node_lock (node INTEGER PRIMARY KEY);
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                """)
        }
        // No index on (job, seq): it wrote every record twice (the journaled no-op job ran about 20 % faster
        // without it on the 2-vCPU VM). A job's records are found from its first sequence number, kept in memory.
        migrator.registerMigration("v2") { db in
            try db.execute(sql: "DROP INDEX record_job")
        }
        // No table changes: from v3 on, a row of the record table may hold a run of one job's null-result ends
        // (kind 7), and a final report keeps its tasks in a compact form (``StoredTask``). A Tessera that knows
        // only v2 would fail on the first and read the second as a report without tasks; the migration marks
        // the store so that one refuses it.
        migrator.registerMigration("v3") { _ in }
        // No table changes: from v4 on an end keeps how long its execution ran by its node's clock, so that a job
        // rebuilt after a restart shows the durations it showed before. A null-result end with a row of its own holds
        // it in its payload (a varint), a run of ends is kind 8 (each end with its run time), and an end with a
        // result has `ran` in its JSON. v3's rows (kind 7 runs, kind 5 without a payload) still read back, without
        // durations; a Tessera that knows only v3 would fail on kind 8, so the migration marks the store for it to
        // refuse.
        migrator.registerMigration("v4") { _ in }
        // A job whose rows cannot be read (damaged, or written past what this build decodes) is put aside instead of
        // stopping the grid from starting: its raw rows are kept for an administrator to look at and drop.
        migrator.registerMigration("v5") { db in
            try db.execute(sql: """
                CREATE TABLE quarantine (job INTEGER PRIMARY KEY, reason TEXT NOT NULL, at REAL NOT NULL, report BLOB);
                CREATE TABLE quarantine_record (
                    seq INTEGER PRIMARY KEY,
                    job INTEGER NOT NULL,
                    kind INTEGER NOT NULL,
                    task INTEGER NOT NULL,
                    attempt INTEGER NOT NULL,
                    node INTEGER NOT NULL,
                    at INTEGER NOT NULL,
                    payload BLOB
                );
                """)
        }
        // An ended job's progress beside its report, so that listing jobs that left memory shows it without reading
        // every report. Rows of jobs that ended before v6 take it from their stored reports, once, here.
        migrator.registerMigration("v6") { db in
            try db.execute(sql: """
                ALTER TABLE job ADD COLUMN done INTEGER;
                ALTER TABLE job ADD COLUMN total INTEGER;
                ALTER TABLE job ADD COLUMN failed INTEGER;
                UPDATE job SET
                    done = json_extract(CAST(report AS TEXT), '$.report.progress.done'),
                    total = json_extract(CAST(report AS TEXT), '$.report.progress.total'),
                    failed = json_extract(CAST(report AS TEXT), '$.report.progress.failed')
                WHERE report IS NOT NULL AND json_valid(CAST(report AS TEXT));
                """)
        }
        // The managed node sources (``Journal/saveNodeSource(_:)``): a Tessera that knows only v6 would not rebuild
        // them, and would leak the hosts they hold.
        migrator.registerMigration("v7") { db in
            try db.execute(sql: "CREATE TABLE node_source (name TEXT PRIMARY KEY, spec BLOB NOT NULL, state BLOB NOT NULL)")
        }
    }
}
