import Foundation

/// What a stage's preflight may use: the media tools, the HTTP client, scratch folders, the store's
/// record of fetched sources, and a way to report download progress and notes. Preflights run
/// before the render is recorded, so a bad input leaves nothing behind.
public struct PreflightContext: Sendable {
    /// The stage's name in the profile (`song`).
    public let stageName: String
    public let ffmpeg: FFmpeg
    public let http: HTTPClient
    /// Fetch sources again even when the store holds a fresh copy (`farm render --refresh`).
    public let refresh: Bool
    /// A dry run: check what can be checked without fetching anything or writing to the store.
    public let checkOnly: Bool
    let stores: StoreOpener
    private let reporter: @Sendable (PreflightReport) -> Void

    /// A context whose store is the one at `home` (opened only when needed).
    public init(
        stageName: String, home: URL, ffmpeg: FFmpeg = FFmpeg(), http: HTTPClient = HTTPClient(), refresh: Bool = false,
        checkOnly: Bool = false, reporter: @escaping @Sendable (PreflightReport) -> Void = { _ in }
    ) {
        self.init(stageName: stageName, stores: StoreOpener(home: home), ffmpeg: ffmpeg, http: http, refresh: refresh, checkOnly: checkOnly,
                  reporter: reporter)
    }

    init(
        stageName: String, stores: StoreOpener, ffmpeg: FFmpeg, http: HTTPClient, refresh: Bool, checkOnly: Bool = false,
        reporter: @escaping @Sendable (PreflightReport) -> Void
    ) {
        self.stageName = stageName
        self.stores = stores
        self.ffmpeg = ffmpeg
        self.http = http
        self.refresh = refresh
        self.checkOnly = checkOnly
        self.reporter = reporter
    }

    /// Reports a download's progress: bytes received and, when known, the total.
    public func progress(received: Int64, total: Int64?) {
        reporter(.download(received: received, total: total))
    }

    /// Tells the user something worth knowing (a cached copy was used, a playlist was cut to one item).
    public func note(_ message: String) {
        reporter(.note(message))
    }

    /// Runs `body` with a new empty folder and removes the folder afterwards, whatever happens.
    ///
    /// The folder is in the store's `tmp/` when the store exists (`farm cache gc` cleans up after a
    /// crash), else in the system's temporary folder, so a failed preflight creates no store.
    public func withScratchFolder<T: Sendable>(_ body: (URL) async throws -> T) async throws -> T {
        let folder: URL
        if let store = try stores.existing() {
            folder = try store.makeScratchDirectory(label: "fetch-\(stageName)")
        } else {
            folder = FileManager.default.temporaryDirectory
                .appendingPathComponent("farm-fetch.\(getpid()).\(String(UInt32.random(in: 0...UInt32.max), radix: 16))")
            try await BlockingIO.run { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false) }
        }
        do {
            let result = try await body(folder)
            try? await BlockingIO.run { try FileManager.default.removeItem(at: folder) }
            return result
        } catch {
            try? await BlockingIO.run { try FileManager.default.removeItem(at: folder) }
            throw error
        }
    }

    /// The source recorded under `key` (a URL) if it was fetched less than `maxAge` seconds ago and
    /// the store still holds its file; nil otherwise. Never creates the store.
    public func fetchedSource(_ key: String, maxAge: TimeInterval) async throws -> FetchedSource? {
        guard let store = try stores.existing(), let source = try await store.fetchedSource(key) else { return nil }
        return Date().timeIntervalSince(source.fetchedAt) < maxAge ? source : nil
    }

    /// Moves `file` into the store and records it as fetched from `key` now, with `facts`.
    public func keepFetchedSource(_ key: String, file: URL, kind: MediaKind, facts: [String: JSON]) async throws -> FetchedSource {
        try await stores.open().keepFetchedSource(key, file: file, kind: kind, facts: facts)
    }
}

/// What a preflight tells the user while it works.
public enum PreflightReport: Sendable, Equatable {
    case download(received: Int64, total: Int64?)
    case note(String)
}
