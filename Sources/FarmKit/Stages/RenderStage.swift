import Foundation

/// One kind of work in a render graph, done by a provider: "make a still", "convert a voice", "mux".
///
/// A stage is a pure function of its inputs and parameters as far as the cache is concerned: the
/// host computes a key from `id`, the resolved parameters and the input digests, and reuses earlier
/// outputs when the key matches. Stages that are not deterministic (remote AI models) are cached the
/// same way, so a paid result is never bought twice.
public protocol RenderStage: Sendable {
    /// Implementation id with a version, part of every cache key.
    var id: StageID { get }
    /// One-line description for `farm providers list`.
    var summary: String { get }
    var inputs: [Port] { get }
    var outputs: [Port] { get }
    var parameters: [ParamSpec] { get }
    /// Same inputs, same bytes. Informational: every stage is cached by key either way.
    var isDeterministic: Bool { get }
    /// The longest audio input the stage accepts, in seconds (Sonic: 400); `nil` for no limit.
    /// A chunked stage keeps every chunk under it.
    var maxAudioSeconds: Double? { get }
    /// Whether the stage splits its work into units (`StageContext.runUnit`). Such a stage takes
    /// no slot of its provider's limit itself: each of its units does.
    var runsUnits: Bool { get }

    /// Does the work. Output files must be written inside `context.scratchDirectory`; the host moves
    /// them into the store. Throw `StageFailure` for problems a user can act on.
    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult

    /// Checks parameters before any stage of the render runs, and fetches what the stage needs
    /// from outside, so no paid stage starts on bad input (for root stages such as the song source:
    /// the file exists, has audio, is not over the cap; a link is downloaded into the store). Throw
    /// a `StageFailure` with `isBadInput` for problems a user must fix. Returns what `run` gets as
    /// `request.prepared`. With `context.checkOnly` (a dry run) it checks but fetches and writes
    /// nothing. Default: nothing to check or prepare.
    func preflight(_ parameters: [String: JSON], in context: PreflightContext) async throws -> Preparation

    /// Whether `preflight` may return a non-empty `Preparation` (which the stage's cache key then
    /// depends on): such a preflight runs on every render, and the stages after it are looked up in
    /// the cache only once it is done. Default `false`: the preflight only checks, and a stage whose
    /// result is cached is not checked again.
    var preflightPrepares: Bool { get }

    /// Extra cache-key material that the parameters alone do not capture, such as the digest of a
    /// local file a parameter names. `digest` returns the SHA-256 of a file, memoised by the store.
    /// Default: `nil`.
    func cacheIdentity(_ request: StageRequest, digest: @Sendable (URL) async throws -> String) async throws -> JSON?
}

extension RenderStage {
    public var isDeterministic: Bool { true }
    public var maxAudioSeconds: Double? { nil }
    public var runsUnits: Bool { false }
    public var preflightPrepares: Bool { false }
    public var parameters: [ParamSpec] { [] }
    public func preflight(_ parameters: [String: JSON], in context: PreflightContext) async throws -> Preparation { .none }
    public func cacheIdentity(_ request: StageRequest, digest: @Sendable (URL) async throws -> String) async throws -> JSON? { nil }

    /// The spec of parameter `name`, if the stage declares it.
    public func parameter(named name: String) -> ParamSpec? { parameters.first { $0.name == name } }
    public func input(named name: String) -> Port? { inputs.first { $0.name == name } }
    public func output(named name: String) -> Port? { outputs.first { $0.name == name } }
}

/// What a stage is asked to do: its wired inputs and its fully resolved parameters.
public struct StageRequest: Sendable {
    /// Input port name → artifact.
    public let inputs: [String: Artifact]
    /// Parameter name → value, after presets, `--set`, defaults and `{{…}}` interpolation.
    public let parameters: [String: JSON]
    /// What the stage's preflight prepared for this render.
    public let prepared: Preparation

    public init(inputs: [String: Artifact], parameters: [String: JSON], prepared: Preparation = .none) {
        self.inputs = inputs
        self.parameters = parameters
        self.prepared = prepared
    }

    /// The artifact on input `name`; throws a `StageFailure` when it was not wired.
    public func input(_ name: String) throws -> Artifact {
        guard let artifact = inputs[name] else {
            throw StageFailure("input '\(name)' is not connected", hint: "wire it in the profile with \"from\": {\"\(name)\": \"STAGE.OUTPUT\"}")
        }
        return artifact
    }

    public func string(_ name: String) -> String? { parameters[name]?.stringValue }
    public func int(_ name: String) -> Int? { parameters[name]?.intValue }
    public func double(_ name: String) -> Double? { parameters[name]?.doubleValue }
    public func bool(_ name: String) -> Bool? { parameters[name]?.boolValue }
}

/// What a stage made: output port name → file in the scratch folder, and facts about the work.
public struct StageResult: Sendable {
    public var outputs: [String: URL]
    /// Facts downstream stages and profiles can use (`{{song.title}}`), kept with the cached result.
    public var metadata: [String: JSON]

    public init(outputs: [String: URL], metadata: [String: JSON] = [:]) {
        self.outputs = outputs
        self.metadata = metadata
    }
}

/// A stage failure a user can act on: what went wrong and what to do about it.
public struct StageFailure: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let hint: String?
    /// True when the input itself is bad (exit code 2) rather than the work failing (exit code 1).
    public let isBadInput: Bool
    /// False when trying again on its own would go against someone's decision (a prediction
    /// cancelled on Replicate): the host does not retry such a failure within the render.
    public let mayRetry: Bool

    public init(_ message: String, hint: String? = nil, isBadInput: Bool = false, mayRetry: Bool = true) {
        self.message = message
        self.hint = hint
        self.isBadInput = isBadInput
        self.mayRetry = mayRetry
    }

    public var description: String { message }
}
