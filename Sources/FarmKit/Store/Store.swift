#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import GRDB

/// farm's state under `FARM_HOME`: content-addressed artifacts and a SQLite database (stage cache,
/// stage journals, runs).
///
/// Layout: `farm.sqlite` (WAL, shared safely by several farm processes), `artifacts/<2 hex>/<digest>`
/// (immutable, read-only files) and `tmp/` (in-progress writes and stage scratch folders).
/// Blocking work runs on GRDB's queues or a dedicated I/O queue, never on the cooperative pool.
public final class Store: Sendable {
    /// The store's root folder.
    public let home: URL
    let database: DatabasePool
    let databaseFile: URL
    let artifactsFolder: URL
    let tmpFolder: URL

    /// How long a write waits for another process's write to finish before failing.
    static let busyTimeout: TimeInterval = 10

    /// `FARM_HOME` if set (non-empty), else `$XDG_DATA_HOME/farm`, else `~/.local/share/farm`.
    public static func defaultHome(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let value = environment["FARM_HOME"], !value.isEmpty {
            return URL(fileURLWithPath: value, isDirectory: true)
        }
        return UserFolders.data(environment: environment)
    }

    /// Opens the store at `home`, creating the folder and database if needed and migrating the
    /// schema. Throws a `StoreError` naming the path when `home` is not a writable folder or the
    /// database is damaged.
    public init(home: URL) throws {
        self.home = home.standardizedFileURL
        databaseFile = self.home.appendingPathComponent("farm.sqlite")
        artifactsFolder = self.home.appendingPathComponent("artifacts", isDirectory: true)
        tmpFolder = self.home.appendingPathComponent("tmp", isDirectory: true)

        try Store.prepareHome(self.home)
        try StoreFiles.makeFolder(artifactsFolder)
        try StoreFiles.makeFolder(tmpFolder)
        database = try Store.openDatabase(at: databaseFile)
    }

    /// Checks, creating nothing, that `home` is a folder farm may write or a path where it may make
    /// one (a render's and `--dry-run`'s first check). Throws a `StoreError` naming the path.
    /// `access` asks the kernel, so a read-only mount is refused even for root.
    public static func checkHome(_ home: URL) throws {
        let home = home.standardizedFileURL
        if let status = FileStatus(home) {
            guard status.isDirectory else { throw StoreError.notAFolder(home) }
            guard access(home.path, W_OK | X_OK) == 0 else { throw StoreError.notWritable(home) }
            return
        }
        var folder = home.deletingLastPathComponent()
        while FileStatus(folder) == nil, folder.path != "/" { folder = folder.deletingLastPathComponent() }
        guard FileStatus(folder)?.isDirectory == true else {
            throw StoreError.cannotCreate(home, reason: "\(folder.path) is not a folder")
        }
        guard access(folder.path, W_OK | X_OK) == 0 else {
            throw StoreError.cannotCreate(home, reason: "\(folder.path): \(StoreFiles.reason())")
        }
    }

    private static func prepareHome(_ home: URL) throws {
        try checkHome(home)
        var missing: [URL] = []
        var folder = home
        while FileStatus(folder) == nil, folder.path != "/" {
            missing.append(folder)
            folder = folder.deletingLastPathComponent()
        }
        for folder in missing.reversed() where mkdir(folder.path, 0o755) != 0 && errno != EEXIST {
            throw StoreError.cannotCreate(home, reason: "\(folder.path): \(StoreFiles.reason())")
        }
    }

    private static func openDatabase(at file: URL) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.label = "farm.store"
        configuration.busyMode = .timeout(busyTimeout)
        configuration.prepareDatabase { db in
            // Journal entries and run records must survive a power loss once written.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            let pool = try DatabasePool(path: file.path, configuration: configuration)
            let migrator = StoreSchema.migrator
            // Another process opening a fresh store may apply a migration between this one's look
            // at what is applied and its own attempt (its table then exists already): look again.
            // Every such failure means another process made progress, so this ends.
            var attempts = 0
            while true {
                do {
                    try migrator.migrate(pool)
                    break
                } catch let error as DatabaseError where error.resultCode == .SQLITE_ERROR && attempts < 20 {
                    attempts += 1
                }
            }
            return pool
        } catch let error as DatabaseError {
            throw StoreError(error, database: file)
        }
    }

    // MARK: Database access

    /// A write transaction (taking SQLite's write lock, shared with other processes).
    ///
    /// It is not cancelled with the calling task: what is recorded while a render is being
    /// interrupted (a prediction id, a run's end) must still land.
    func databaseWrite<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await Task { [database] in try await database.write(updates) }.value
        } catch let error as DatabaseError {
            throw StoreError(error, database: databaseFile)
        }
    }

    /// A read of a consistent snapshot.
    func databaseRead<T: Sendable>(_ value: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await database.read(value)
        } catch let error as DatabaseError {
            throw StoreError(error, database: databaseFile)
        }
    }

    /// Parses JSON text read from the database.
    func parseStoredJSON(_ text: String, _ what: String) throws -> JSON {
        do {
            return try JSON.parse(text, source: what)
        } catch {
            throw StoreError.corruptDatabase(databaseFile, detail: error.description)
        }
    }

    // MARK: Scratch and temporary files

    /// Makes a new empty folder under `tmp/` for one stage run; the caller removes it.
    /// `farm cache gc` removes folders left behind by processes that are gone.
    public func makeScratchDirectory(label: String) throws -> URL {
        let url = temporaryURL(label)
        guard mkdir(url.path, 0o755) == 0 else { throw StoreError.writeFailed(url, reason: StoreFiles.reason()) }
        return url
    }

    /// A fresh path in `tmp/`: `<label>.<pid>.<random>`, so gc can tell whether its owner still runs.
    func temporaryURL(_ label: String) -> URL {
        let safe = String(label.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "-" })
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return tmpFolder.appendingPathComponent("\(safe.isEmpty ? "tmp" : safe).\(getpid()).\(random)")
    }

    // MARK: Artifact paths

    /// Where the artifact with `digest` lives: `artifacts/<first 2 hex>/<digest>`.
    func artifactURL(_ digest: String) -> URL {
        artifactsFolder.appendingPathComponent(String(digest.prefix(2)), isDirectory: true)
            .appendingPathComponent(digest)
    }

    /// Whether `text` looks like a digest (64 lowercase hex digits), so it is safe in a path.
    static func isDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

/// Timestamps are stored as seconds since the reference date (REAL), which round-trips `Date` exactly.
extension Date {
    var storeTime: Double { timeIntervalSinceReferenceDate }
    init(storeTime: Double) { self.init(timeIntervalSinceReferenceDate: storeTime) }
}

extension StoreError {
    init(_ error: DatabaseError, database: URL) {
        switch error.resultCode {
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            self = .corruptDatabase(database, detail: error.message ?? "\(error.resultCode)")
        case .SQLITE_BUSY, .SQLITE_LOCKED: self = .busy(database)
        case .SQLITE_READONLY, .SQLITE_PERM: self = .notWritable(database.deletingLastPathComponent())
        default: self = .database(database, detail: error.message ?? "\(error.resultCode)")
        }
    }
}
