/// A problem with an out-of-process plugin: its manifest, its process or what it said.
///
/// Every message names the plugin (or its folder, when the manifest has no usable name), so a user
/// with several plugins installed knows which one to look at.
public struct PluginError: FarmError, Equatable {
    public let message: String
    public let hint: String?
    public let exitCode: Int32

    public init(_ message: String, hint: String? = nil, exitCode: Int32 = ExitStatus.stageFailed) {
        self.message = message
        self.hint = hint
        self.exitCode = exitCode
    }

    /// A manifest problem: `FILE: field "F": problem`. Bad configuration, exit code 2.
    static func manifest(_ file: String, field: String? = nil, _ problem: String, hint: String? = nil) -> PluginError {
        let location = field.map { "\(file): field \"\($0)\"" } ?? file
        return PluginError("\(location): \(problem)", hint: hint, exitCode: ExitStatus.badInput)
    }

    /// The plugin broke protocol v1: the process is stopped and the run fails.
    static func violation(_ plugin: String, _ problem: String, line: String? = nil) -> PluginError {
        var message = "plugin \"\(plugin)\" broke the protocol: \(problem)"
        if let line { message += ": " + quoted(line) }
        return PluginError(message, hint: "standard output is for protocol lines only (one JSON object per line); "
                           + "write logs to standard error. Try: farm plugins check PLUGIN_FOLDER")
    }

    /// A line as shown in messages: at most 200 characters, quoted.
    static func quoted(_ line: String) -> String {
        let trimmed = line.count > 200 ? line.prefix(200) + "…" : Substring(line)
        return "\"" + trimmed.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
