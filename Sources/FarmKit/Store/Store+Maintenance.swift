import Foundation
import GRDB

/// How much the store holds.
public struct StoreUsage: Sendable, Equatable {
    /// Artifact files on disk and their bytes.
    public var artifacts = 0
    public var artifactBytes: Int64 = 0
    public var cacheEntries = 0
    /// Songs fetched from links, kept for reuse.
    public var fetchedSources = 0
    public var runs = 0
    /// Bytes under `tmp/` (running imports and stages, or leftovers of crashed ones).
    public var tmpBytes: Int64 = 0
}

/// What `collectGarbage` removed.
public struct GarbageReport: Sendable, Equatable {
    public var cacheEntries = 0
    public var fetchedSources = 0
    public var journalEntries = 0
    public var artifacts = 0
    public var artifactBytes: Int64 = 0
    public var tmpEntries = 0
    public var tmpBytes: Int64 = 0
}

extension Store {
    /// Counts what the store holds; artifact numbers come from the files actually on disk.
    public func usage() async throws -> StoreUsage {
        var usage = StoreUsage()
        let (artifacts, tmpBytes) = try await BlockingIO.run { [self] in
            (artifactFiles(), StoreFiles.treeSize(tmpFolder))
        }
        usage.artifacts = artifacts.count
        usage.artifactBytes = artifacts.reduce(0) { $0 + $1.status.size }
        usage.tmpBytes = tmpBytes
        (usage.cacheEntries, usage.fetchedSources, usage.runs) = try await databaseRead { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM cache_entries") ?? 0,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM fetched_sources") ?? 0,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM runs") ?? 0)
        }
        return usage
    }

    /// Removes, in order: cache entries and fetched sources not used for `unusedFor` seconds (all
    /// when 0, none when nil) with journal entries as old that belong to no cache entry; artifact
    /// files referenced by no cache entry, fetched source or run output; and `tmp/` entries left by
    /// processes that are gone.
    ///
    /// Artifacts and `tmp/` entries touched within the last `grace` seconds are kept: a render
    /// running meanwhile may not have recorded its references yet.
    public func collectGarbage(unusedFor: TimeInterval?, grace: TimeInterval = 3600) async throws -> GarbageReport {
        var report = GarbageReport()
        let now = Date()
        if let unusedFor {
            let cutoff = now.addingTimeInterval(-max(0, unusedFor)).storeTime
            (report.cacheEntries, report.fetchedSources, report.journalEntries) = try await databaseWrite { db in
                try db.execute(sql: "DELETE FROM cache_entries WHERE last_used_at <= ?", arguments: [cutoff])
                let entries = db.changesCount
                try db.execute(sql: "DELETE FROM fetched_sources WHERE last_used_at <= ?", arguments: [cutoff])
                let sources = db.changesCount
                // Forgetting a song's checks only means checking it once more.
                try db.execute(sql: "DELETE FROM checked_preparations WHERE checked_at <= ?", arguments: [cutoff])
                try db.execute(
                    sql: "DELETE FROM journal WHERE updated_at <= ? AND key NOT IN (SELECT key FROM cache_entries)",
                    arguments: [cutoff])
                return (entries, sources, db.changesCount)
            }
        }

        let graceCutoff = now.addingTimeInterval(-grace)
        let onDisk = try await BlockingIO.run { [self] in artifactFiles().map(\.digest) }
        let recorded = try await databaseRead { db in try String.fetchAll(db, sql: "SELECT digest FROM artifacts") }
        let candidates = Array(Set(onDisk).union(recorded))
        // Small batches keep the write lock short for renders running meanwhile.
        for start in stride(from: 0, to: candidates.count, by: 200) {
            let batch = candidates[start..<min(start + 200, candidates.count)]
            let (count, bytes) = try await databaseWrite { [self] db in
                var count = 0
                var bytes: Int64 = 0
                for digest in batch {
                    guard try !Store.isReferenced(db, digest) else { continue }
                    let path = artifactURL(digest)
                    let status = FileStatus(path)
                    let lastUsed = try Double.fetchOne(
                        db, sql: "SELECT last_used_at FROM artifacts WHERE digest = ?", arguments: [digest]
                    ).map { Date(storeTime: $0) }
                    guard max(lastUsed ?? .distantPast, status?.modified ?? .distantPast) < graceCutoff else { continue }
                    if let status {
                        try StoreFiles.remove(path)
                        count += 1
                        bytes += status.size
                    }
                    try db.execute(sql: "DELETE FROM artifacts WHERE digest = ?", arguments: [digest])
                }
                return (count, bytes)
            }
            report.artifacts += count
            report.artifactBytes += bytes
        }

        (report.tmpEntries, report.tmpBytes) = try await BlockingIO.run { [self] in
            removeStaleTemporaryEntries(olderThan: graceCutoff)
        }
        return report
    }

    private static func isReferenced(_ db: Database, _ digest: String) throws -> Bool {
        try Bool.fetchOne(
            db,
            sql: """
                SELECT EXISTS (SELECT 1 FROM cache_outputs WHERE digest = ?1)
                    OR EXISTS (SELECT 1 FROM fetched_sources WHERE digest = ?1)
                    OR EXISTS (SELECT 1 FROM runs WHERE output_digest = ?1)
                """,
            arguments: [digest]) == true
    }

    /// The artifact files on disk (names that are not digests are ignored).
    private func artifactFiles() -> [(digest: String, status: FileStatus)] {
        let manager = FileManager.default
        let shards = (try? manager.contentsOfDirectory(atPath: artifactsFolder.path)) ?? []
        return shards.flatMap { shard -> [(digest: String, status: FileStatus)] in
            let folder = artifactsFolder.appendingPathComponent(shard, isDirectory: true)
            let names = (try? manager.contentsOfDirectory(atPath: folder.path)) ?? []
            return names.compactMap { name in
                guard Store.isDigest(name), name.hasPrefix(shard),
                    let status = FileStatus(folder.appendingPathComponent(name), followLinks: false), status.isRegularFile
                else { return nil }
                return (name, status)
            }
        }
    }

    /// Removes what killed farm processes left in `tmp/` (their half-written files and scratch
    /// folders); entries of processes still running are kept. Done before every render.
    public func removeAbandonedTemporaryFiles() async {
        _ = try? await BlockingIO.run { [self] in removeStaleTemporaryEntries(olderThan: .distantFuture) }
    }

    /// Removes `tmp/` entries last modified before `cutoff` whose owning process (the pid in
    /// `<label>.<pid>.<random>`) is not running; returns how many and their bytes.
    private func removeStaleTemporaryEntries(olderThan cutoff: Date) -> (Int, Int64) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: tmpFolder.path)) ?? []
        var count = 0
        var bytes: Int64 = 0
        for name in names {
            let url = tmpFolder.appendingPathComponent(name)
            guard let status = FileStatus(url, followLinks: false), status.modified < cutoff else { continue }
            let parts = name.split(separator: ".")
            if parts.count >= 3, let pid = Int32(parts[parts.count - 2]), StoreFiles.isProcessAlive(pid) { continue }
            let size = StoreFiles.treeSize(url)
            if (try? FileManager.default.removeItem(at: url)) != nil {
                count += 1
                bytes += size
            }
        }
        return (count, bytes)
    }
}
