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
    private let units: (any StageUnits)?

    /// `shared` defaults to the stage's own journal (for tests that need no sharing). `units` is
    /// the host's unit runner; without one, `runUnit` and `keep` throw.
    public init(
        stageName: String, scratchDirectory: URL, subject: Subject, ffmpeg: FFmpeg,
        journal: any StageJournal, shared: (any StageJournal)? = nil, units: (any StageUnits)? = nil,
        reporter: @escaping @Sendable (StageProgress) -> Void
    ) {
        self.stageName = stageName
        self.scratchDirectory = scratchDirectory
        self.subject = subject
        self.ffmpeg = ffmpeg
        self.journal = journal
        self.shared = shared ?? journal
        self.units = units
        self.reporter = reporter
    }

    /// Reports progress: a fraction in 0…1 when known, and a short message.
    public func progress(_ fraction: Double?, _ message: String = "") {
        reporter(.progress(fraction: fraction, message: message))
    }

    /// Reports the progress of a stage rendered in chunks: `done` of `total` finished, `cached`
    /// of them from the cache.
    public func chunks(done: Int, total: Int, cached: Int) {
        reporter(.chunks(done: done, total: total, cached: cached))
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

    /// Runs `stage` on `request` as one unit of this stage's work (a chunk of a song, say). A unit
    /// is cached, journalled and limited like a stage of the graph: its key is the key `stage`
    /// would have as a node with these inputs and parameters, it takes a slot of its provider's
    /// limit while it runs, and a unit that already ran is not run again. `label` names it in
    /// progress and log lines.
    public func runUnit(_ stage: any RenderStage, _ request: StageRequest, label: String) async throws -> UnitResult {
        try await unitRunner().run(stage, request, label: label, parent: self)
    }

    /// Moves a file this stage made into the store (to feed a unit) and returns it as an artifact.
    public func keep(_ file: URL, kind: MediaKind) async throws -> Artifact {
        try await unitRunner().keep(file, kind: kind)
    }

    private func unitRunner() throws -> any StageUnits {
        guard let units else {
            throw StageFailure("stage \(stageName) splits its work into units, which needs the render host",
                               hint: "run it as part of farm render")
        }
        return units
    }
}

/// What a unit made: its outputs in the store and its metadata.
public struct UnitResult: Sendable {
    public let outputs: [String: Artifact]
    public let metadata: [String: JSON]
    /// Served from the cache: nothing ran (and nothing was paid) for it this time.
    public let cached: Bool

    public init(outputs: [String: Artifact], metadata: [String: JSON], cached: Bool) {
        self.outputs = outputs
        self.metadata = metadata
        self.cached = cached
    }
}

/// The host side of `StageContext.runUnit` and `keep`.
public protocol StageUnits: Sendable {
    func run(_ stage: any RenderStage, _ request: StageRequest, label: String, parent: StageContext) async throws -> UnitResult
    func keep(_ file: URL, kind: MediaKind) async throws -> Artifact
}

/// Something a running stage tells the host.
public enum StageProgress: Sendable, Equatable {
    case progress(fraction: Double?, message: String)
    case log(String)
    /// Chunks done of the total (`StageContext.chunks`).
    case chunks(done: Int, total: Int, cached: Int)
}

/// A small durable key-value journal that belongs to one stage cache key.
public protocol StageJournal: Sendable {
    func remember(_ key: String, _ value: String) async throws
    func recall(_ key: String) async throws -> String?
}
