/// A plugin: a named family of stages (`offline`, `ffmpeg`, `replicate`, …).
public protocol StageProvider: Sendable {
    /// The prefix of its stages' names.
    var name: String { get }
    var summary: String { get }
    /// How many of its stages may run at once in one render, unless a profile says otherwise.
    var defaultConcurrency: Int { get }
    func stages() -> [any RenderStage]
    /// Releases what the provider holds between runs (an out-of-process plugin stops its process).
    /// Called once a render has ended. Default: nothing.
    func shutdown() async
}

extension StageProvider {
    public var defaultConcurrency: Int { 2 }
    public func shutdown() async {}
}
