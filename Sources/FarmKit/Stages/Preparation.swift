/// What a stage's preflight prepared for its run: files it fetched into the store (a song behind a
/// link) and facts about its input (the song's title).
///
/// The host adds it to the stage's cache key (artifacts by digest, facts by value) and hands it to
/// `run` as `StageRequest.prepared`.
public struct Preparation: Sendable, Hashable {
    public var artifacts: [String: Artifact]
    public var facts: [String: JSON]

    public init(artifacts: [String: Artifact] = [:], facts: [String: JSON] = [:]) {
        self.artifacts = artifacts
        self.facts = facts
    }

    /// Nothing prepared: what stages without a preflight return.
    public static let none = Preparation()

    var isEmpty: Bool { artifacts.isEmpty && facts.isEmpty }
}
