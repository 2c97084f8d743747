import Foundation

/// A plugin's `plugin.json`: who it is, how to start it and the stages it provides.
///
/// The stages are declared here, not only by the running plugin, so that `farm providers list`,
/// `farm profiles show` and profile validation work without starting any process. The plugin's
/// `hello` must confirm its name, version and stage names. See docs/plugins.md for every field.
public struct PluginManifest: Sendable, Hashable {
    /// One stage as the manifest declares it.
    public struct Stage: Sendable, Hashable {
        public let name: String
        public let version: Int
        public let summary: String
        public let inputs: [Port]
        public let outputs: [Port]
        public let parameters: [ParamSpec]
        public let isDeterministic: Bool
        /// The longest the host waits for the next message about a run of this stage.
        public let timeout: Duration
    }

    /// The protocol versions this host speaks.
    public static let supportedProtocols = [1]
    /// Names of providers and stages: lowercase letters, digits, `-` and `_`, starting with a letter.
    static let namePattern = "a lowercase letter, then lowercase letters, digits, '-' or '_'"

    /// The folder holding `plugin.json`; the process starts there and relative paths in `command`
    /// are resolved against it.
    public let folder: URL
    public let name: String
    /// The plugin's own version; part of every cache key of its stages.
    public let version: String
    public let summary: String
    public let protocolVersion: Int
    /// argv: the program and its arguments. Never run through a shell.
    public let command: [String]
    /// How many runs the process accepts at once.
    public let concurrency: Int
    /// The longest the host waits for the plugin's `hello` after starting it.
    public let startTimeout: Duration
    /// How many times a run that failed with `"retryable": true` is tried again.
    public let retries: Int
    public let stages: [Stage]
    /// SHA-256 of the manifest's canonical JSON; part of every cache key of its stages.
    public let digest: String

    /// The manifest file.
    public var file: URL { folder.appendingPathComponent("plugin.json") }

    public func stage(named name: String) -> Stage? { stages.first { $0.name == name } }

    static let topLevelFields = ["protocol", "name", "version", "summary", "command", "concurrency", "timeout_seconds",
                                 "start_timeout_seconds", "retries", "stages"]
    static let stageFields = ["name", "version", "summary", "inputs", "outputs", "params", "deterministic", "timeout_seconds"]
    static let portFields = ["name", "kind", "summary"]
    static let paramFields = ["name", "type", "default", "required", "choices", "min", "max", "summary"]

    /// Reads and validates `FOLDER/plugin.json`. Every error names the file and the field.
    public init(folder: URL) throws(PluginError) {
        let folder = folder.standardizedFileURL
        let file = folder.appendingPathComponent("plugin.json").path
        let json: JSON
        do {
            json = try JSON.parse(contentsOf: folder.appendingPathComponent("plugin.json"))
        } catch where error.line == 0 {
            throw .manifest(file, "cannot read the manifest: \(error.message)", hint: "a plugin is a folder with a plugin.json file")
        } catch {
            throw .manifest(file, "invalid JSON at line \(error.line), column \(error.column): \(error.message)",
                            hint: "fix the JSON syntax at \(file):\(error.line):\(error.column)")
        }
        try self.init(json: json, folder: folder, file: file)
    }

    init(json: JSON, folder: URL, file: String) throws(PluginError) {
        let reader = FieldReader(file: file)
        guard let root = json.objectValue else { throw .manifest(file, "the manifest must be a JSON object, not \(json.typeName)") }
        try reader.rejectUnknown(root, allowed: Self.topLevelFields, prefix: "")

        guard let protocolVersion = try reader.integer(root, "protocol") else {
            throw .manifest(file, field: "protocol", "missing: the protocol version the plugin speaks", hint: "add \"protocol\": 1")
        }
        guard Self.supportedProtocols.contains(protocolVersion) else {
            throw .manifest(file, field: "protocol", "protocol \(protocolVersion) is not spoken by this farm (it speaks \(Self.supportedProtocols.map(String.init).joined(separator: ", ")))",
                            hint: "use \"protocol\": 1 (see docs/plugins.md)")
        }
        self.protocolVersion = protocolVersion
        guard let name = try reader.string(root, "name") else { throw .manifest(file, field: "name", "missing: the provider name, e.g. \"captions\"") }
        guard Self.isValidName(name) else { throw .manifest(file, field: "name", "\"\(name)\" is not a valid name: use \(Self.namePattern)") }
        self.name = name
        guard let version = try reader.string(root, "version"), !version.isEmpty else {
            throw .manifest(file, field: "version", "missing: the plugin's version, e.g. \"1.0.0\"", hint: "bump it whenever the plugin's output changes: it is part of every cache key")
        }
        self.version = version
        summary = try reader.string(root, "summary") ?? ""
        guard let command = root["command"] else {
            throw .manifest(file, field: "command", "missing: the program to run and its arguments, e.g. [\"python3\", \"plugin.py\"]",
                            hint: "add \"command\": [PROGRAM, ARGUMENT…], run from the plugin's folder (docs/plugins.md)")
        }
        guard let parts = command.arrayValue, !parts.isEmpty, parts.allSatisfy({ ($0.stringValue ?? "").isEmpty == false }) else {
            throw .manifest(file, field: "command", "expected a non-empty array of non-empty strings (argv; no shell), got \(command.compactString)",
                            hint: "write it as a JSON array, e.g. [\"python3\", \"plugin.py\"]")
        }
        self.command = parts.map { $0.stringValue! }
        concurrency = try reader.integer(root, "concurrency", range: 1...64) ?? 1
        retries = try reader.integer(root, "retries", range: 0...5) ?? 1
        startTimeout = try reader.seconds(root, "start_timeout_seconds") ?? .seconds(20)
        let defaultTimeout = try reader.seconds(root, "timeout_seconds") ?? .seconds(300)

        guard let stageList = root["stages"] else { throw .manifest(file, field: "stages", "missing: the stages the plugin provides") }
        guard let stageValues = stageList.arrayValue, !stageValues.isEmpty else {
            throw .manifest(file, field: "stages", "expected a non-empty array of stages, got \(stageList.typeName)")
        }
        var stages: [Stage] = []
        for (index, value) in stageValues.enumerated() {
            let stage = try reader.stage(value, index: index, defaultTimeout: defaultTimeout)
            guard !stages.contains(where: { $0.name == stage.name }) else {
                throw .manifest(file, field: "stages[\(index)].name", "stage \"\(stage.name)\" is declared twice")
            }
            stages.append(stage)
        }
        self.stages = stages
        self.folder = folder
        digest = SHA256.hex(of: json.canonicalString)
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
    }
}

/// Reads typed manifest fields, naming the field in every error.
private struct FieldReader {
    let file: String

    func rejectUnknown(_ object: JSONObject, allowed: [String], prefix: String) throws(PluginError) {
        for key in object.keys where !allowed.contains(key) {
            let suggestion = closest(to: key, in: allowed).map { "did you mean \"\($0)\"? " } ?? ""
            throw .manifest(file, field: prefix + key, "unknown field", hint: suggestion + "known fields: " + allowed.joined(separator: ", "))
        }
    }

    func string(_ object: JSONObject, _ key: String, prefix: String = "") throws(PluginError) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let string = value.stringValue else { throw .manifest(file, field: prefix + key, "expected a string, got \(value.typeName)") }
        return string
    }

    func integer(_ object: JSONObject, _ key: String, prefix: String = "", range: ClosedRange<Int>? = nil) throws(PluginError) -> Int? {
        guard let value = object[key], !value.isNull else { return nil }
        guard case .integer = value, let number = value.intValue else {
            throw .manifest(file, field: prefix + key, "expected a whole number, got \(value.compactString)")
        }
        if let range, !range.contains(number) {
            throw .manifest(file, field: prefix + key, "\(number) is outside \(range.lowerBound)…\(range.upperBound)")
        }
        return number
    }

    func seconds(_ object: JSONObject, _ key: String, prefix: String = "") throws(PluginError) -> Duration? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let number = value.doubleValue, number > 0, number <= 86_400 * 7 else {
            throw .manifest(file, field: prefix + key, "expected a number of seconds above 0, got \(value.compactString)")
        }
        return .milliseconds(Int64((number * 1000).rounded()))
    }

    func stage(_ value: JSON, index: Int, defaultTimeout: Duration) throws(PluginError) -> PluginManifest.Stage {
        let prefix = "stages[\(index)]."
        guard let object = value.objectValue else {
            throw .manifest(file, field: "stages[\(index)]", "expected an object with \"name\", \"outputs\", …, got \(value.typeName)")
        }
        try rejectUnknown(object, allowed: PluginManifest.stageFields, prefix: prefix)
        guard let name = try string(object, "name", prefix: prefix) else { throw .manifest(file, field: prefix + "name", "missing") }
        guard PluginManifest.isValidName(name) else {
            throw .manifest(file, field: prefix + "name", "\"\(name)\" is not a valid stage name: use \(PluginManifest.namePattern)")
        }
        let inputs = try ports(object["inputs"], field: prefix + "inputs")
        let outputs = try ports(object["outputs"], field: prefix + "outputs")
        guard !outputs.isEmpty else { throw .manifest(file, field: prefix + "outputs", "missing: a stage makes at least one file") }
        var parameters: [ParamSpec] = []
        if let params = object["params"], !params.isNull {
            guard let items = params.arrayValue else { throw .manifest(file, field: prefix + "params", "expected an array, got \(params.typeName)") }
            for (position, item) in items.enumerated() {
                let spec = try parameter(item, field: "\(prefix)params[\(position)]")
                guard !parameters.contains(where: { $0.name == spec.name }) else {
                    throw .manifest(file, field: "\(prefix)params[\(position)].name", "parameter \"\(spec.name)\" is declared twice")
                }
                parameters.append(spec)
            }
        }
        var deterministic = true
        if let flag = object["deterministic"], !flag.isNull {
            guard let bool = flag.boolValue else { throw .manifest(file, field: prefix + "deterministic", "expected true or false, got \(flag.compactString)") }
            deterministic = bool
        }
        return PluginManifest.Stage(
            name: name, version: try integer(object, "version", prefix: prefix, range: 1...1_000_000) ?? 1,
            summary: try string(object, "summary", prefix: prefix) ?? "", inputs: inputs, outputs: outputs,
            parameters: parameters, isDeterministic: deterministic,
            timeout: try seconds(object, "timeout_seconds", prefix: prefix) ?? defaultTimeout)
    }

    func ports(_ value: JSON?, field: String) throws(PluginError) -> [Port] {
        guard let value, !value.isNull else { return [] }
        guard let items = value.arrayValue else {
            throw .manifest(file, field: field, "expected an array of {\"name\", \"kind\"} objects, got \(value.typeName)")
        }
        var ports: [Port] = []
        for (index, item) in items.enumerated() {
            let prefix = "\(field)[\(index)]."
            guard let object = item.objectValue else {
                throw .manifest(file, field: "\(field)[\(index)]", "expected an object {\"name\", \"kind\"}, got \(item.typeName)")
            }
            try rejectUnknown(object, allowed: PluginManifest.portFields, prefix: prefix)
            guard let name = try string(object, "name", prefix: prefix), PluginManifest.isValidName(name) else {
                throw .manifest(file, field: prefix + "name", "missing or invalid: use \(PluginManifest.namePattern)")
            }
            guard !ports.contains(where: { $0.name == name }) else { throw .manifest(file, field: prefix + "name", "port \"\(name)\" is declared twice") }
            let kinds = MediaKind.allCases.map(\.rawValue)
            guard let kindName = try string(object, "kind", prefix: prefix), let kind = MediaKind(rawValue: kindName) else {
                throw .manifest(file, field: prefix + "kind", "missing or unknown: use one of \(kinds.joined(separator: ", "))")
            }
            ports.append(Port(name, kind, try string(object, "summary", prefix: prefix) ?? ""))
        }
        return ports
    }

    func parameter(_ value: JSON, field: String) throws(PluginError) -> ParamSpec {
        let prefix = field + "."
        guard let object = value.objectValue else {
            throw .manifest(file, field: field, "expected an object {\"name\", \"type\", …}, got \(value.typeName)")
        }
        try rejectUnknown(object, allowed: PluginManifest.paramFields, prefix: prefix)
        guard let name = try string(object, "name", prefix: prefix), PluginManifest.isValidName(name) else {
            throw .manifest(file, field: prefix + "name", "missing or invalid: use \(PluginManifest.namePattern)")
        }
        let types = ["string", "integer", "number", "boolean", "object", "array"]
        guard let typeName = try string(object, "type", prefix: prefix), let type = ParamSpec.ValueType(rawValue: typeName) else {
            throw .manifest(file, field: prefix + "type", "missing or unknown: use one of \(types.joined(separator: ", "))")
        }
        var required = false
        if let flag = object["required"], !flag.isNull {
            guard let bool = flag.boolValue else { throw .manifest(file, field: prefix + "required", "expected true or false") }
            required = bool
        }
        let defaultValue = object["default"].flatMap { $0.isNull ? nil : $0 }
        if required, defaultValue != nil {
            throw .manifest(file, field: prefix + "default", "a required parameter has no default", hint: "drop \"default\" or \"required\"")
        }
        var choices: [JSON]?
        if let list = object["choices"], !list.isNull {
            guard let items = list.arrayValue, !items.isEmpty else { throw .manifest(file, field: prefix + "choices", "expected a non-empty array") }
            for item in items where !type.accepts(item) {
                throw .manifest(file, field: prefix + "choices", "\(item.compactString) is not a \(typeName)")
            }
            choices = items
        }
        var range: ClosedRange<Double>?
        let low = object["min"].flatMap { $0.isNull ? nil : $0 }, high = object["max"].flatMap { $0.isNull ? nil : $0 }
        if low != nil || high != nil {
            guard type == .integer || type == .number else {
                throw .manifest(file, field: prefix + (low != nil ? "min" : "max"), "only integer and number parameters have bounds")
            }
            guard let lower = low?.doubleValue, let upper = high?.doubleValue, lower <= upper else {
                throw .manifest(file, field: prefix + "min", "give both \"min\" and \"max\" as numbers, min ≤ max")
            }
            range = lower...upper
        }
        let spec = ParamSpec(name, type, default: defaultValue, required: required, choices: choices, range: range,
                             try string(object, "summary", prefix: prefix) ?? "")
        if let defaultValue, let problem = spec.problem(with: defaultValue) {
            throw .manifest(file, field: prefix + "default", problem)
        }
        return spec
    }
}
