extension StageRunStatus {
    /// Whether the stage's outputs exist (it ran or came from the cache).
    public var hasOutputs: Bool { self == .cached || self == .succeeded }
    /// Whether the stage has ended, one way or another.
    public var isFinal: Bool { self != .waiting && self != .running }
}
