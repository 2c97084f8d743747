import Foundation
import GRDB

/// The outputs and metadata a stage stored under its cache key.
public struct CachedResult: Sendable {
    /// Output port name → artifact.
    public let outputs: [String: Artifact]
    public let metadata: [String: JSON]
    /// The implementation that made it (`StageID` description, e.g. `offline.image@1`).
    public let stage: String
    public let createdAt: Date
}

extension Store {
    /// The result stored under the stage cache key `key`, or nil when there is none. A result
    /// whose artifact files are missing or changed size is dropped and nil returned. A hit counts
    /// as a use (for `collectGarbage(unusedFor:)`).
    public func cachedResult(forKey key: String) async throws -> CachedResult? {
        let found = try await databaseWrite { [self] db -> Found? in
            switch try lookup(db, key) {
            case .none: return nil
            case .damaged:
                try db.execute(sql: "DELETE FROM cache_entries WHERE key = ?", arguments: [key])
                return nil
            case .found(let found):
                let now = Date().storeTime
                try db.execute(sql: "UPDATE cache_entries SET last_used_at = ? WHERE key = ?", arguments: [now, key])
                try db.execute(
                    sql: "UPDATE artifacts SET last_used_at = ? WHERE digest IN (SELECT digest FROM cache_outputs WHERE key = ?)",
                    arguments: [now, key])
                return found
            }
        }
        return try found.map { try result($0, key: key) }
    }

    /// The result stored under `key`, read without changing anything (no use is counted, nothing
    /// damaged is dropped): for looking ahead before a render starts.
    public func peekCachedResult(forKey key: String) async throws -> CachedResult? {
        let found = try await databaseRead { [self] db -> Found? in
            if case .found(let found) = try lookup(db, key) { return found }
            return nil
        }
        return try found.map { try result($0, key: key) }
    }

    private typealias Found = (stage: String, metadata: String, createdAt: Double, outputs: [String: Artifact])

    private enum Lookup { case none, damaged, found(Found) }

    /// The cache entry under `key` with its outputs, checked against the files on disk.
    private func lookup(_ db: Database, _ key: String) throws -> Lookup {
        guard let entry = try Row.fetchOne(
            db, sql: "SELECT stage, metadata, created_at FROM cache_entries WHERE key = ?", arguments: [key])
        else { return .none }
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT o.name, o.digest, o.kind, a.size FROM cache_outputs o
                JOIN artifacts a ON a.digest = o.digest WHERE o.key = ?
                """,
            arguments: [key])
        var outputs: [String: Artifact] = [:]
        for row in rows {
            let digest: String = row["digest"]
            let path = artifactURL(digest)
            guard let kind = MediaKind(rawValue: row["kind"]),
                let status = FileStatus(path), status.isRegularFile, status.size == row["size"]
            else { return .damaged }
            outputs[row["name"]] = Artifact(digest: digest, path: path, kind: kind, size: status.size)
        }
        return .found((entry["stage"], entry["metadata"], entry["created_at"], outputs))
    }

    private func result(_ found: Found, key: String) throws -> CachedResult {
        let metadata = try parseStoredJSON(found.metadata, "metadata of cache entry \(key)")
        return CachedResult(
            outputs: found.outputs, metadata: metadata.objectValue?.dictionary ?? [:], stage: found.stage,
            createdAt: Date(storeTime: found.createdAt))
    }

    /// Stores `outputs` (artifacts already in the store) and `metadata` under the stage cache key
    /// `key`, replacing any earlier result. Throws `StoreError.artifactMissing` for an output the
    /// store does not hold.
    public func storeResult(
        forKey key: String, stage: StageID, outputs: [String: Artifact], metadata: [String: JSON]
    ) async throws {
        let metadataText = JSON.object(JSONObject(metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
            .compactString
        try await databaseWrite { [self] db in
            for artifact in outputs.values {
                let path = artifactURL(artifact.digest)
                guard Store.isDigest(artifact.digest), let status = FileStatus(path), status.isRegularFile,
                    status.size == artifact.size
                else { throw StoreError.artifactMissing(digest: artifact.digest, path: path) }
                try Store.recordArtifact(db, digest: artifact.digest, kind: artifact.kind, size: artifact.size)
            }
            let now = Date().storeTime
            try db.execute(
                sql: """
                    INSERT INTO cache_entries (key, stage, metadata, created_at, last_used_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(key) DO UPDATE SET stage = excluded.stage, metadata = excluded.metadata,
                        created_at = excluded.created_at, last_used_at = excluded.last_used_at
                    """,
                arguments: [key, stage.description, metadataText, now, now])
            try db.execute(sql: "DELETE FROM cache_outputs WHERE key = ?", arguments: [key])
            for (name, artifact) in outputs {
                try db.execute(
                    sql: "INSERT INTO cache_outputs (key, name, digest, kind) VALUES (?, ?, ?, ?)",
                    arguments: [key, name, artifact.digest, artifact.kind.rawValue])
            }
        }
    }

    /// The crash-proof journal of the stage with cache key `cacheKey`: a value is committed
    /// (fsynced) before `remember` returns, and survives reopening the store.
    public func journal(forKey cacheKey: String) -> any StageJournal {
        StoreJournal(store: self, cacheKey: cacheKey)
    }
}

/// A `StageJournal` kept in the store's `journal` table.
struct StoreJournal: StageJournal {
    let store: Store
    let cacheKey: String

    func remember(_ key: String, _ value: String) async throws {
        try await store.databaseWrite { [cacheKey] db in
            try db.execute(
                sql: """
                    INSERT INTO journal (key, name, value, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(key, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                    """,
                arguments: [cacheKey, key, value, Date().storeTime])
        }
    }

    func recall(_ key: String) async throws -> String? {
        try await store.databaseRead { [cacheKey] db in
            try String.fetchOne(db, sql: "SELECT value FROM journal WHERE key = ? AND name = ?", arguments: [cacheKey, key])
        }
    }
}
