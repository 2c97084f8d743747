import Foundation

/// Where a run stands.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case running, succeeded, failed, interrupted
}

/// What a new run is asked to do.
public struct NewRun: Sendable {
    public let profile: String
    public let subject: String
    public let song: String
    /// The invocation (flags, overrides), kept so `farm runs resume` can repeat it.
    public let request: JSON
    /// The earlier run this one resumes.
    public let resumedFrom: String?
    /// The planned stages in plan order, as the `started` event lists them (with `depends_on`).
    public let graph: JSON?

    public init(profile: String, subject: String, song: String, request: JSON, resumedFrom: String? = nil, graph: JSON? = nil) {
        self.profile = profile
        self.subject = subject
        self.song = song
        self.request = request
        self.resumedFrom = resumedFrom
        self.graph = graph
    }
}

/// One recorded run of a profile.
public struct RunRecord: Sendable, Equatable {
    /// `YYYYMMDD-HHMMSS-xxxx` (UTC time, 4 random hex digits): short and sortable.
    public let id: String
    public let profile: String
    public let subject: String
    public let song: String
    /// `running` only while the process that runs it is alive; a run whose process ended without
    /// finishing it (killed, machine off) reads as `interrupted`.
    public let status: RunStatus
    public let createdAt: Date
    public let finishedAt: Date?
    /// Where the final output was written.
    public let output: String?
    /// The stored artifact of the final output (kept by gc).
    public let outputDigest: String?
    public let error: String?
    public let request: JSON
    /// The process running it, while it runs.
    public let pid: Int32?
    /// The earlier run this one resumes.
    public let resumedFrom: String?
    /// The planned stages in plan order, as the `started` event lists them (nil for runs recorded
    /// before farm kept them).
    public let graph: JSON?

    public init(
        id: String, profile: String, subject: String, song: String, status: RunStatus, createdAt: Date,
        finishedAt: Date? = nil, output: String? = nil, outputDigest: String? = nil, error: String? = nil,
        request: JSON, pid: Int32? = nil, resumedFrom: String? = nil, graph: JSON? = nil
    ) {
        self.id = id
        self.profile = profile
        self.subject = subject
        self.song = song
        self.status = status
        self.createdAt = createdAt
        self.finishedAt = finishedAt
        self.output = output
        self.outputDigest = outputDigest
        self.error = error
        self.request = request
        self.pid = pid
        self.resumedFrom = resumedFrom
        self.graph = graph
    }
}

/// Where one stage of a run stands.
public enum StageRunStatus: String, Sendable, Codable, CaseIterable {
    case waiting, running, cached, succeeded, failed, skipped, interrupted
}

/// One stage of a run, as recorded.
public struct StageRunRecord: Sendable, Equatable {
    /// The stage's name in the profile (`portrait`, `cover`, …).
    public var stage: String
    /// The implementation's `StageID` description (`replicate.sonic@1`).
    public var implementation: String
    public var provider: String
    public var cacheKey: String?
    public var status: StageRunStatus
    public var startedAt: Date?
    public var finishedAt: Date?
    public var seconds: Double?
    public var error: String?
    /// The tail of the stage's log.
    public var log: String?
    public var metadata: JSON?

    /// Whether the result came from the cache.
    public var cached: Bool { status == .cached }

    public init(
        stage: String, implementation: String, provider: String, cacheKey: String? = nil,
        status: StageRunStatus, startedAt: Date? = nil, finishedAt: Date? = nil, seconds: Double? = nil,
        error: String? = nil, log: String? = nil, metadata: JSON? = nil
    ) {
        self.stage = stage
        self.implementation = implementation
        self.provider = provider
        self.cacheKey = cacheKey
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.seconds = seconds
        self.error = error
        self.log = log
        self.metadata = metadata
    }
}
