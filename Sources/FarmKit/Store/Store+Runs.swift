import Foundation
import GRDB

extension Store {
    /// Records a new run with status `running` and a fresh id.
    public func createRun(_ run: NewRun) async throws -> RunRecord {
        let now = Date()
        let request = run.request.compactString
        let id = try await databaseWrite { db in
            var id = Store.runID(at: now)
            while try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?)", arguments: [id]) == true {
                id = Store.runID(at: now)
            }
            try db.execute(
                sql: """
                    INSERT INTO runs (id, profile, subject, song, status, created_at, request, pid, resumed_from, graph)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [id, run.profile, run.subject, run.song, RunStatus.running.rawValue, now.storeTime, request,
                            Int(getpid()), run.resumedFrom, run.graph?.compactString])
            return id
        }
        return RunRecord(
            id: id, profile: run.profile, subject: run.subject, song: run.song, status: .running, createdAt: now,
            request: run.request, pid: getpid(), resumedFrom: run.resumedFrom, graph: run.graph)
    }

    /// `YYYYMMDD-HHMMSS-xxxx` in UTC with 4 random hex digits.
    private static func runID(at date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let random = UInt16.random(in: 0...UInt16.max)
        return String(
            format: "%04d%02d%02d-%02d%02d%02d-%04x", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!, random)
    }

    /// Inserts or replaces the record of stage `record.stage` of run `runID`.
    public func updateStage(runID: String, _ record: StageRunRecord) async throws {
        try await databaseWrite { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?)", arguments: [runID]) == true
            else { throw StoreError.unknownRun(runID) }
            try db.execute(
                sql: """
                    INSERT INTO stage_runs (run_id, stage, implementation, provider, cache_key, status,
                        started_at, finished_at, seconds, error, log, metadata)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(run_id, stage) DO UPDATE SET implementation = excluded.implementation,
                        provider = excluded.provider, cache_key = excluded.cache_key, status = excluded.status,
                        started_at = excluded.started_at, finished_at = excluded.finished_at,
                        seconds = excluded.seconds, error = excluded.error, log = excluded.log,
                        metadata = excluded.metadata
                    """,
                arguments: [
                    runID, record.stage, record.implementation, record.provider, record.cacheKey,
                    record.status.rawValue, record.startedAt?.storeTime, record.finishedAt?.storeTime, record.seconds,
                    record.error, record.log, record.metadata?.compactString,
                ])
        }
    }

    /// Records how run `id` ended. `outputDigest` names the stored artifact of its final output,
    /// which gc then keeps.
    public func finishRun(
        id: String, status: RunStatus, output: String?, outputDigest: String? = nil, error: String?
    ) async throws {
        try await databaseWrite { db in
            try db.execute(
                sql: """
                    UPDATE runs SET status = ?, finished_at = ?, output = ?, output_digest = ?, error = ?
                    WHERE id = ?
                    """,
                arguments: [status.rawValue, Date().storeTime, output, outputDigest, error, id])
            guard db.changesCount > 0 else { throw StoreError.unknownRun(id) }
        }
    }

    /// The most recent `limit` runs, newest first.
    public func runs(limit: Int) async throws -> [RunRecord] {
        try await databaseRead { [self] db in
            try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY created_at DESC, id DESC LIMIT ?", arguments: [limit])
                .map(runRecord)
        }
    }

    /// The run with this id, or with an id starting with it, and its stages in the order they
    /// were first recorded; nil when none matches. Throws `StoreError.ambiguousRunID` when a
    /// prefix matches several runs.
    public func run(id: String) async throws -> (RunRecord, [StageRunRecord])? {
        try await databaseRead { [self] db in
            var row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id])
            if row == nil, !id.isEmpty {
                let matches = try Row.fetchAll(
                    db, sql: "SELECT * FROM runs WHERE substr(id, 1, length(?1)) = ?1 ORDER BY id", arguments: [id])
                guard matches.count <= 1 else {
                    throw StoreError.ambiguousRunID(id, matches: matches.map { $0["id"] })
                }
                row = matches.first
            }
            guard let row else { return nil }
            let record = try runRecord(row)
            let stages = try Row.fetchAll(
                db, sql: "SELECT * FROM stage_runs WHERE run_id = ? ORDER BY id", arguments: [record.id]
            ).map(stageRunRecord)
            return (record, stages)
        }
    }

    private func runRecord(_ row: Row) throws -> RunRecord {
        let id: String = row["id"]
        let status: String = row["status"]
        guard var runStatus = RunStatus(rawValue: status) else {
            throw StoreError.corruptDatabase(databaseFile, detail: "run \(id) has the unknown status \(status)")
        }
        let pid = (row["pid"] as Int64?).map { Int32(truncatingIfNeeded: $0) }
        // A run recorded before pids were kept counts as gone.
        if runStatus == .running, !(pid.map(StoreFiles.isProcessAlive) ?? false) { runStatus = .interrupted }
        return RunRecord(
            id: id, profile: row["profile"], subject: row["subject"], song: row["song"], status: runStatus,
            createdAt: Date(storeTime: row["created_at"]),
            finishedAt: (row["finished_at"] as Double?).map { Date(storeTime: $0) },
            output: row["output"], outputDigest: row["output_digest"], error: row["error"],
            request: try parseStoredJSON(row["request"], "request of run \(id)"),
            pid: runStatus == .running ? pid : nil, resumedFrom: row["resumed_from"],
            graph: try (row["graph"] as String?).map { try parseStoredJSON($0, "graph of run \(id)") })
    }

    private func stageRunRecord(_ row: Row) throws -> StageRunRecord {
        let stage: String = row["stage"]
        let status: String = row["status"]
        guard let stageStatus = StageRunStatus(rawValue: status) else {
            throw StoreError.corruptDatabase(databaseFile, detail: "stage \(stage) has the unknown status \(status)")
        }
        return StageRunRecord(
            stage: stage, implementation: row["implementation"], provider: row["provider"], cacheKey: row["cache_key"],
            status: stageStatus, startedAt: (row["started_at"] as Double?).map { Date(storeTime: $0) },
            finishedAt: (row["finished_at"] as Double?).map { Date(storeTime: $0) }, seconds: row["seconds"],
            error: row["error"],
            log: row["log"],
            metadata: try (row["metadata"] as String?).map { try parseStoredJSON($0, "metadata of stage \(stage)") })
    }
}
