/// `owner/name` or `owner/name:version` (a 64-hex version id), as subjects and profiles write models.
public struct ModelReference: Sendable, Hashable, CustomStringConvertible {
    public let owner: String
    public let name: String
    public let version: String?

    public init(owner: String, name: String, version: String? = nil) {
        self.owner = owner
        self.name = name
        self.version = version
    }

    /// Parses a reference; nil when it is not `owner/name[:version]`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let path = parts[0].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let allowed = { (part: String) in !part.isEmpty && part.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) } }
        guard path.count == 2, allowed(path[0]), allowed(path[1]) else { return nil }
        if parts.count == 2 {
            guard parts[1].count == 64, parts[1].allSatisfy(\.isHexDigit) else { return nil }
        }
        owner = path[0]
        name = path[1]
        version = parts.count == 2 ? parts[1] : nil
    }

    public var model: String { "\(owner)/\(name)" }
    public var description: String { version.map { "\(model):\($0)" } ?? model }

    /// The message for a text that is not a reference.
    static func problem(_ text: String, parameter: String) -> String {
        "\(parameter) \"\(text)\" is not a Replicate model reference: write owner/name or owner/name:VERSION (64 hex digits)"
    }
}
