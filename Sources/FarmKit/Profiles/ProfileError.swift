/// A problem with a profile, naming the file, the stage and the field.
public struct ProfileError: FarmError, Equatable {
    /// The profile file (or `--set`, or the profile name when no file was found).
    public let file: String
    public let stage: String?
    public let field: String?
    public let problem: String
    /// What to do about it, where the site that found the problem knows better than the default.
    public let suggestion: String?

    public init(file: String, stage: String? = nil, field: String? = nil, _ problem: String, hint: String? = nil) {
        self.file = file
        self.stage = stage
        self.field = field
        self.problem = problem
        self.suggestion = hint
    }

    public var hint: String? {
        if let suggestion { return suggestion }
        if file.hasPrefix("--set") { return "check the stage and parameter names with farm profiles show PROFILE" }
        if let stage, let field {
            return "fix \"\(field)\" of stage \"\(stage)\" in \(file); farm providers list shows every stage's parameters and ports"
        }
        return "fix \(file), then check it with farm profiles show \(file) (nothing runs)"
    }

    public var message: String {
        var parts = [file]
        if let stage { parts.append("stage \"\(stage)\"") }
        if let field { parts.append("field \"\(field)\"") }
        return parts.joined(separator: ": ") + ": " + problem
    }

    public var exitCode: Int32 { ExitStatus.badInput }
}
