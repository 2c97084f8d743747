import Foundation
import GRDB

/// Where a queued render is.
public enum QueueState: String, Sendable, CaseIterable {
    case queued, running, finished, cancelled
}

/// One render submitted to `farm serve`: the request as JSON, and the run once it started.
public struct QueueEntry: Sendable, Equatable {
    public let id: String
    public let request: JSON
    public let state: QueueState
    public let runID: String?
    public let createdAt: Date
    public let finishedAt: Date?
    /// Why the render did not start or did not succeed.
    public let error: String?
    public let hint: String?
}

extension Store {
    /// Adds a render to the end of the queue, state `queued`, with a fresh random id.
    public func enqueue(_ request: JSON) async throws -> QueueEntry {
        let entry = QueueEntry(
            id: UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""), request: request, state: .queued,
            runID: nil, createdAt: Date(), finishedAt: nil, error: nil, hint: nil)
        let text = request.compactString
        try await databaseWrite { db in
            try db.execute(
                sql: "INSERT INTO queue (id, request, state, created_at) VALUES (?, ?, ?, ?)",
                arguments: [entry.id, text, entry.state.rawValue, entry.createdAt.storeTime])
        }
        return entry
    }

    /// Queue entries, newest first; `states` narrows them (nil: all) before the `limit` applies.
    public func queueEntries(states: Set<QueueState>? = nil, limit: Int = 100) async throws -> [QueueEntry] {
        let wanted = (states ?? Set(QueueState.allCases)).map(\.rawValue).sorted()
        let rows = try await databaseRead { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM queue WHERE state IN (\(wanted.map { _ in "?" }.joined(separator: ", "))) ORDER BY created_at DESC, rowid DESC LIMIT ?",
                arguments: StatementArguments(wanted.map { $0 as any DatabaseValueConvertible } + [limit]))
                .map(StoredQueueRow.init)
        }
        return try rows.map(queueEntry(from:))
    }

    /// The entry `id`, or nil.
    public func queueEntry(id: String) async throws -> QueueEntry? {
        let row = try await databaseRead { db in
            try Row.fetchOne(db, sql: "SELECT * FROM queue WHERE id = ?", arguments: [id]).map(StoredQueueRow.init)
        }
        return try row.map(queueEntry(from:))
    }

    /// Moves entry `id` to `state`; a final state records the finishing time. Returns false when
    /// there is no such entry or it is already final (a finished render cannot be cancelled).
    @discardableResult
    public func updateQueueEntry(
        id: String, state: QueueState, runID: String? = nil, error: String? = nil, hint: String? = nil
    ) async throws -> Bool {
        let finished: Double? = state == .finished || state == .cancelled ? Date().storeTime : nil
        return try await databaseWrite { db in
            try db.execute(
                sql: """
                    UPDATE queue SET state = ?, run_id = COALESCE(?, run_id), finished_at = ?, error = ?, hint = ?
                    WHERE id = ? AND state IN ('queued', 'running')
                    """,
                arguments: [state.rawValue, runID, finished, error, hint, id])
            return db.changesCount > 0
        }
    }

    private func queueEntry(from row: StoredQueueRow) throws -> QueueEntry {
        QueueEntry(
            id: row.id, request: try parseStoredJSON(row.request, "request of queued render \(row.id)"),
            state: QueueState(rawValue: row.state) ?? .finished, runID: row.runID, createdAt: Date(storeTime: row.createdAt),
            finishedAt: row.finishedAt.map(Date.init(storeTime:)), error: row.error, hint: row.hint)
    }
}

/// A `queue` row as read, before its JSON is parsed.
private struct StoredQueueRow: Sendable {
    let id: String, request: String, state: String, runID: String?
    let createdAt: Double, finishedAt: Double?, error: String?, hint: String?

    init(_ row: Row) {
        id = row["id"]
        request = row["request"]
        state = row["state"]
        runID = row["run_id"]
        createdAt = row["created_at"]
        finishedAt = row["finished_at"]
        error = row["error"]
        hint = row["hint"]
    }
}

extension Store {
    /// The render the queue should run next: one left running by a stopped server first (to
    /// resume it), then the oldest queued one.
    public func nextQueueEntry() async throws -> QueueEntry? {
        let row = try await databaseRead { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT * FROM queue WHERE state IN ('running', 'queued')
                    ORDER BY state = 'running' DESC, created_at ASC, rowid ASC LIMIT 1
                    """
            ).map(StoredQueueRow.init)
        }
        return try row.map(queueEntry(from:))
    }
}
