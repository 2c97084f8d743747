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

    public init(_ name: String, _ kind: MediaKind, _ summary: String = "") {
        self.name = name
        self.kind = kind
        self.summary = summary
    }
}
