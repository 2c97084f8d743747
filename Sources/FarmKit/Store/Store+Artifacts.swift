import Foundation
import GRDB

extension Store {
    /// Puts the file at `url` in the store under the SHA-256 of its bytes and returns it as an
    /// artifact of `kind`.
    ///
    /// The bytes go to a temp file in `tmp/` (copied, or moved when `move`), are fsynced, made
    /// read-only and renamed into `artifacts/`, so an artifact path only ever holds complete bytes.
    /// When the digest is already stored the existing file is kept (and a moved source removed).
    /// If the import fails, a moved source is put back.
    public func importFile(at url: URL, kind: MediaKind, move: Bool) async throws -> Artifact {
        let source = url.standardizedFileURL
        let before = try await BlockingIO.run { try Store.regularFileStatus(source) }
        if !move, let digest = try await memoisedDigest(of: source, before),
            let artifact = try await settle(digest: digest, kind: kind, size: before.size, staged: nil)
        {
            return artifact
        }
        let staged = temporaryURL("import")
        let (digest, size, sourceUnchanged) = try await BlockingIO.run {
            do {
                let digest = move ? try StoreFiles.move(source, to: staged) : try StoreFiles.copy(source, to: staged)
                guard let status = FileStatus(staged) else {
                    throw StoreError.writeFailed(staged, reason: StoreFiles.reason())
                }
                return (digest, status.size, !move && FileStatus(source) == before)
            } catch {
                Store.discard(staged, restoring: move ? source : nil)
                throw error
            }
        }
        do {
            if sourceUnchanged { try await memoise(digest, of: source, before) }
            // `staged` is given, so `settle` returns an artifact.
            return try await settle(digest: digest, kind: kind, size: size, staged: staged)!
        } catch {
            Store.discard(staged, restoring: move ? source : nil)
            throw error
        }
    }

    /// Drops a staged import, after putting it back at `source` when it was moved from there.
    private static func discard(_ staged: URL, restoring source: URL?) {
        if let source {
            if (try? StoreFiles.replace(source, with: staged)) != nil { return }
            _ = try? StoreFiles.copy(staged, to: source)  // across filesystems
        }
        try? StoreFiles.remove(staged)
    }

    /// Makes sure `artifacts/` holds `digest` and records it, under the database write lock so gc
    /// cannot remove the file in between. Keeps an existing complete file (discarding `staged`),
    /// else renames `staged` into place; returns nil when neither exists.
    private func settle(digest: String, kind: MediaKind, size: Int64, staged: URL?) async throws -> Artifact? {
        let destination = artifactURL(digest)
        return try await databaseWrite { db in
            if let existing = FileStatus(destination), existing.isRegularFile, existing.size == size {
                if let staged { try? StoreFiles.remove(staged) }
            } else if let staged {
                try StoreFiles.makeFolder(destination.deletingLastPathComponent())
                try StoreFiles.makeReadOnly(staged)
                try StoreFiles.replace(destination, with: staged)
                try StoreFiles.syncFolder(destination.deletingLastPathComponent())
            } else {
                return nil
            }
            try Store.recordArtifact(db, digest: digest, kind: kind, size: size)
            return Artifact(digest: digest, path: destination, kind: kind, size: size)
        }
    }

    /// Inserts or refreshes the artifact row (the first kind recorded for a digest is kept).
    static func recordArtifact(_ db: Database, digest: String, kind: MediaKind, size: Int64) throws {
        let now = Date().storeTime
        try db.execute(
            sql: """
                INSERT INTO artifacts (digest, kind, size, created_at, last_used_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(digest) DO UPDATE SET size = excluded.size, last_used_at = excluded.last_used_at
                """,
            arguments: [digest, kind.rawValue, size, now, now])
    }

    /// The stored artifact with `digest`, or nil when the store does not hold its file.
    public func artifact(digest: String) async throws -> Artifact? {
        guard Store.isDigest(digest) else { return nil }
        let path = artifactURL(digest)
        return try await databaseRead { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT kind, size FROM artifacts WHERE digest = ?", arguments: [digest]),
                let kind = MediaKind(rawValue: row["kind"]),
                let status = FileStatus(path), status.isRegularFile, status.size == row["size"]
            else { return nil }
            return Artifact(digest: digest, path: path, kind: kind, size: status.size)
        }
    }

    /// The SHA-256 (lowercase hex) of any file, memoised by (absolute path, size, mtime, inode) so
    /// an unchanged file is hashed once.
    public func digestOfFile(at url: URL) async throws -> String {
        let file = url.standardizedFileURL
        let before = try await BlockingIO.run { try Store.regularFileStatus(file) }
        if let memo = try await memoisedDigest(of: file, before) { return memo }
        let (digest, unchanged) = try await BlockingIO.run {
            (try StoreFiles.digest(of: file), FileStatus(file) == before)
        }
        // A file that changed while it was hashed is not memoised.
        if unchanged { try await memoise(digest, of: file, before) }
        return digest
    }

    private static func regularFileStatus(_ file: URL) throws -> FileStatus {
        guard let status = FileStatus(file) else { throw StoreError.unreadable(file, reason: StoreFiles.reason()) }
        guard status.isRegularFile else { throw StoreError.unreadable(file, reason: "not a regular file") }
        return status
    }

    private func memoisedDigest(of file: URL, _ status: FileStatus) async throws -> String? {
        try await databaseRead { db in
            try String.fetchOne(
                db, sql: "SELECT digest FROM file_digests WHERE path = ? AND size = ? AND mtime_ns = ? AND inode = ?",
                arguments: [file.path, status.size, status.modifiedNanoseconds, Int64(bitPattern: status.inode)])
        }
    }

    private func memoise(_ digest: String, of file: URL, _ status: FileStatus) async throws {
        try await databaseWrite { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO file_digests (path, size, mtime_ns, inode, digest)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [file.path, status.size, status.modifiedNanoseconds, Int64(bitPattern: status.inode), digest])
        }
    }
}
