import Foundation

/// Everything a running stage may use from the host: a scratch folder, progress and log
/// reporting, a crash-proof journal, the subject and the media tools.
public struct StageContext: Sendable {
    /// The stage's name in the profile (`portrait`, `cover`, …).
    public let stageName: String
    /// An empty folder for this run of the stage; outputs go here. Removed after the run.
    public let scratchDirectory: URL
    public let subject: Subject
    public let ffmpeg: FFmpeg
    /// A durable journal shared by every stage of every render (uploaded files by digest, for
    /// example). Keys should be namespaced by provider (`replicate.upload.<digest>`).
    public let shared: any StageJournal
    private let reporter: @Sendable (StageProgress) -> Void
    private let journal: any StageJournal

    /// `shared` defaults to the stage's own journal (for tests that need no sharing).
    public init(
        stageName: String, scratchDirectory: URL, subject: Subject, ffmpeg: FFmpeg,
        journal: any StageJournal, shared: (any StageJournal)? = nil, reporter: @escaping @Sendable (StageProgress) -> Void
    ) {
        self.stageName = stageName
        self.scratchDirectory = scratchDirectory
        self.subject = subject
        self.ffmpeg = ffmpeg
        self.journal = journal
        self.shared = shared ?? journal
        self.reporter = reporter
    }

    /// Reports progress: a fraction in 0…1 when known, and a short message.
    public func progress(_ fraction: Double?, _ message: String = "") {
        reporter(.progress(fraction: fraction, message: message))
    }

    /// Adds a line to the stage's log (shown on failure and kept with the run).
    public func log(_ line: String) {
        reporter(.log(line))
    }

    /// Records `value` under `key` for this stage's cache key, durably, before returning.
    /// A re-run of the same stage (after a crash or Ctrl-C) can `recall` it.
    public func remember(_ key: String, _ value: String) async throws {
        try await journal.remember(key, value)
    }

    /// The value recorded under `key` by an earlier run of the same stage, if any.
    public func recall(_ key: String) async throws -> String? {
        guard let value = try await journal.recall(key), !value.isEmpty else { return nil }
        return value
    }

    /// Forgets `key` (records an empty value), e.g. a remote id whose result has expired.
    public func forget(_ key: String) async throws {
        try await journal.remember(key, "")
    }

    /// A path in the scratch folder.
    public func scratchFile(_ name: String) -> URL {
        scratchDirectory.appendingPathComponent(name)
    }
}

/// Something a running stage tells the host.
public enum StageProgress: Sendable, Equatable {
    case progress(fraction: Double?, message: String)
    case log(String)
}

/// A small durable key-value journal that belongs to one stage cache key.
public protocol StageJournal: Sendable {
    func remember(_ key: String, _ value: String) async throws
    func recall(_ key: String) async throws -> String?
}
