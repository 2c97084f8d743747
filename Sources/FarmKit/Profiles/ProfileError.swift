/// A problem with a profile, naming the file, the stage and the field.
public struct ProfileError: FarmError, Equatable {
    /// The profile file (or `--set`, or the profile name when no file was found).
    public let file: String
    public let stage: String?
    public let field: String?
    public let problem: String
    public let hint: String?

    public init(file: String, stage: String? = nil, field: String? = nil, _ problem: String, hint: String? = nil) {
        self.file = file
        self.stage = stage
        self.field = field
        self.problem = problem
        self.hint = hint
    }

    public var message: String {
        var parts = [file]
        if let stage { parts.append("stage \"\(stage)\"") }
        if let field { parts.append("field \"\(field)\"") }
        return parts.joined(separator: ": ") + ": " + problem
    }

    public var exitCode: Int32 { ExitStatus.badInput }
}
