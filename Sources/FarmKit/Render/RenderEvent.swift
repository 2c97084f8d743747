/// What a render reports while it runs; the CLI turns these into a live display or JSON lines.
/// `download` and `note` may come before `started`: from preflights, which fetch linked sources.
public enum RenderEvent: Sendable {
    /// The plan is valid and the run is recorded; stages follow in plan order.
    case started(runID: String, profile: String, subject: String, stages: [PlannedStage])
    case stage(name: String, status: StageRunStatus, seconds: Double?, error: String?)
    case progress(stage: String, fraction: Double?, message: String)
    case log(stage: String, line: String)
    /// A stage rendered in chunks: how many of its `total` chunks are done, `cached` of them from
    /// the cache. Sent once the chunks are known (0 done) and after each one.
    case chunks(stage: String, done: Int, total: Int, cached: Int)
    /// A stage's preflight is downloading: bytes received and, when known, the total.
    case download(stage: String, received: Int64, total: Int64?)
    /// Something a stage wants the user to know (a cached download was used, a playlist was cut).
    case note(stage: String, message: String)
    case finished(RenderSummary)

    public struct PlannedStage: Sendable {
        public let name: String
        public let implementation: String
        public let provider: String
        /// The stages whose outputs this one reads (its edges in the stage graph), sorted.
        public let dependencies: [String]

        /// The plan's stages in order, as events and run records list them.
        static func list(_ plan: RenderPlan) -> [PlannedStage] {
            plan.nodes.map {
                PlannedStage(name: $0.name, implementation: $0.implementation.id.description, provider: $0.provider,
                             dependencies: $0.dependencies.sorted())
            }
        }

        /// `{"name", "implementation", "provider", "depends_on"}`.
        public var json: JSON {
            ["name": .string(name), "implementation": .string(implementation), "provider": .string(provider),
             "depends_on": .array(dependencies.map(JSON.string))]
        }
    }
}

/// How a render ended, stage by stage.
public struct RenderSummary: Sendable {
    public enum Status: String, Sendable { case succeeded, failed, interrupted }

    public struct Stage: Sendable {
        public let name: String
        public let implementation: String
        public let provider: String
        public let status: StageRunStatus
        public let cached: Bool
        public let seconds: Double
        public let error: String?
        public let hint: String?
        /// The failure was bad input (exit code 2) rather than failed work.
        public let isBadInput: Bool
        /// The last lines the stage logged, kept for failures.
        public let logTail: [String]
        /// What the stage reported about its work (for remote stages: `predict_time`,
        /// `estimated_cost_usd`, the prediction id).
        public let metadata: [String: JSON]
    }

    public let runID: String
    public let status: Status
    /// The rendered file, when the render succeeded.
    public let output: String?
    public let stages: [Stage]
    /// farm's wall time for the whole render, seconds.
    public let seconds: Double

    /// The estimated remote cost of the stages this render ran (cached ones cost nothing again),
    /// when any stage reported one.
    public var estimatedCost: Double? {
        let costs = stages.filter { $0.status == .succeeded }.compactMap { $0.metadata["estimated_cost_usd"]?.doubleValue }
        return costs.isEmpty ? nil : costs.reduce(0, +)
    }

    public var exitCode: Int32 {
        switch status {
        case .succeeded: ExitStatus.success
        case .failed: stages.contains { $0.status == .failed && $0.isBadInput } ? ExitStatus.badInput : ExitStatus.stageFailed
        case .interrupted: ExitStatus.interrupted
        }
    }
}
