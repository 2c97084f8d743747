/// The identity of a stage implementation: its qualified name plus a behaviour version.
///
/// The version is part of every cache key: bump it when a stage's output would change for the
/// same inputs, so stale cached results are not reused.
public struct StageID: Sendable, Hashable, CustomStringConvertible {
    /// Qualified name, `provider.stage`, e.g. `offline.image`.
    public let name: String
    public let version: Int

    public init(_ name: String, version: Int) {
        self.name = name
        self.version = version
    }

    /// The provider part of the name (`offline` in `offline.image`).
    public var provider: String { String(name.prefix { $0 != "." }) }

    public var description: String { "\(name)@\(version)" }
}
