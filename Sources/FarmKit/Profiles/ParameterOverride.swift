/// `--set STAGE.PARAM=VALUE` from the command line. VALUE is read as JSON when it parses
/// (`7`, `true`, `"x"`, `[1,2]`) and as a plain string otherwise.
public struct ParameterOverride: Sendable, Equatable {
    public let stage: String
    public let parameter: String
    public let value: JSON

    public init(stage: String, parameter: String, value: JSON) {
        self.stage = stage
        self.parameter = parameter
        self.value = value
    }

    /// Parses `STAGE.PARAM=VALUE`.
    public init(parsing text: String) throws {
        guard let equals = text.firstIndex(of: "=") else {
            throw ProfileError(file: "--set \(text)", "expected STAGE.PARAM=VALUE", hint: "for example --set portrait.seed=7")
        }
        let path = text[..<equals]
        let raw = String(text[text.index(after: equals)...])
        guard let dot = path.firstIndex(of: "."), dot != path.startIndex, path.index(after: dot) != path.endIndex else {
            throw ProfileError(file: "--set \(text)", "\"\(path)\" must be STAGE.PARAM", hint: "for example --set portrait.seed=7")
        }
        stage = String(path[..<dot])
        parameter = String(path[path.index(after: dot)...])
        value = (try? JSON.parse(raw, source: "--set")) ?? .string(raw)
    }
}
