/// A plugin: a named family of stages (`offline`, `ffmpeg`, `replicate`, …).
public protocol StageProvider: Sendable {
    /// The prefix of its stages' names.
    var name: String { get }
    var summary: String { get }
    /// How many of its stages may run at once in one render, unless a profile says otherwise.
    var defaultConcurrency: Int { get }
    func stages() -> [any RenderStage]
}

extension StageProvider {
    public var defaultConcurrency: Int { 2 }
}
