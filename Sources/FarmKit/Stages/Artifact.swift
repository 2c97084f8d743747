import Foundation

/// One immutable file in the store, addressed by the SHA-256 of its bytes.
public struct Artifact: Sendable, Hashable, CustomStringConvertible {
    /// Lowercase hex SHA-256 of the file's bytes.
    public let digest: String
    /// Where the bytes live in the store (read-only by convention).
    public let path: URL
    public let kind: MediaKind
    public let size: Int64

    public init(digest: String, path: URL, kind: MediaKind, size: Int64) {
        self.digest = digest
        self.path = path
        self.kind = kind
        self.size = size
    }

    public var description: String { "\(kind.rawValue) \(digest.prefix(12)) (\(size) bytes)" }
}
