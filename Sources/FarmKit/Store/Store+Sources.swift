import Foundation
import GRDB

/// A source fetched from outside (a song behind a link), kept in the store.
public struct FetchedSource: Sendable {
    public let artifact: Artifact
    /// What the fetch found out (a title, the final URL, how it was fetched).
    public let facts: [String: JSON]
    public let fetchedAt: Date
}

extension Store {
    /// The source recorded under `key`, or nil when there is none or its file is gone (the record is
    /// then dropped). A hit counts as a use of the record and its artifact.
    public func fetchedSource(_ key: String) async throws -> FetchedSource? {
        typealias Found = (artifact: Artifact, facts: String, fetchedAt: Double)
        let found = try await databaseWrite { [self] db -> Found? in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT s.digest, s.facts, s.fetched_at, a.kind, a.size FROM fetched_sources s
                        JOIN artifacts a ON a.digest = s.digest WHERE s.key = ?
                        """,
                    arguments: [key])
            else { return nil }
            let digest: String = row["digest"]
            let path = artifactURL(digest)
            guard let kind = MediaKind(rawValue: row["kind"]), let status = FileStatus(path), status.isRegularFile,
                status.size == row["size"]
            else {
                try db.execute(sql: "DELETE FROM fetched_sources WHERE key = ?", arguments: [key])
                return nil
            }
            let now = Date().storeTime
            try db.execute(sql: "UPDATE fetched_sources SET last_used_at = ? WHERE key = ?", arguments: [now, key])
            try db.execute(sql: "UPDATE artifacts SET last_used_at = ? WHERE digest = ?", arguments: [now, digest])
            return (Artifact(digest: digest, path: path, kind: kind, size: status.size), row["facts"], row["fetched_at"])
        }
        guard let found else { return nil }
        let facts = try parseStoredJSON(found.facts, "facts of fetched source \(key)")
        return FetchedSource(artifact: found.artifact, facts: facts.objectValue?.dictionary ?? [:], fetchedAt: Date(storeTime: found.fetchedAt))
    }

    /// Moves `file` into the store and records it under `key` as fetched now, replacing an earlier record.
    public func keepFetchedSource(_ key: String, file: URL, kind: MediaKind, facts: [String: JSON]) async throws -> FetchedSource {
        let artifact = try await importFile(at: file, kind: kind, move: true)
        let factsText = JSON.object(JSONObject(facts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })).compactString
        let now = Date()
        try await databaseWrite { [self] db in
            // gc may have removed the file between the import and this transaction.
            guard let status = FileStatus(artifactURL(artifact.digest)), status.isRegularFile, status.size == artifact.size else {
                throw StoreError.artifactMissing(digest: artifact.digest, path: artifact.path)
            }
            try Store.recordArtifact(db, digest: artifact.digest, kind: artifact.kind, size: artifact.size)
            try db.execute(
                sql: """
                    INSERT INTO fetched_sources (key, digest, facts, fetched_at, last_used_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(key) DO UPDATE SET digest = excluded.digest, facts = excluded.facts,
                        fetched_at = excluded.fetched_at, last_used_at = excluded.last_used_at
                    """,
                arguments: [key, artifact.digest, factsText, now.storeTime, now.storeTime])
        }
        return FetchedSource(artifact: artifact, facts: facts, fetchedAt: now)
    }
}
