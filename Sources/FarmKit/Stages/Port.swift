/// The kind of file that flows along a graph edge.
public enum MediaKind: String, Sendable, Hashable, CaseIterable, Codable {
    case audio, image, video, archive, file

    /// Whether an output of kind `self` may feed an input of kind `input`.
    public func canFeed(_ input: MediaKind) -> Bool { input == .file || self == input }
}

/// A named, typed input or output of a stage.
public struct Port: Sendable, Hashable {
    public let name: String
    public let kind: MediaKind
    /// Doc line shown by `farm providers list`.
    public let summary: String
    /// An input a profile may leave unconnected (outputs are never optional).
    public let isOptional: Bool

    public init(_ name: String, _ kind: MediaKind, _ summary: String = "", optional: Bool = false) {
        self.name = name
        self.kind = kind
        self.summary = summary
        self.isOptional = optional
    }
}
