import Foundation

/// Protocol v1 messages: one JSON object per line, each with a `"type"`. See docs/plugins.md.
enum HostMessage: Sendable {
    case hello(hostVersion: String)
    case run(id: String, stage: String, inputs: [String: String], params: JSONObject, outputDirectory: String, timeoutSeconds: Double, attempt: Int)
    case cancel(id: String)
    case shutdown

    /// The message as one line, without the newline.
    var line: String {
        let json: JSON
        switch self {
        case .hello(let hostVersion):
            json = ["type": "hello", "protocols": .array(PluginManifest.supportedProtocols.map { .integer(Int64($0)) }),
                    "host": "farm", "host_version": .string(hostVersion)]
        case .run(let id, let stage, let inputs, let params, let outputDirectory, let timeoutSeconds, let attempt):
            json = ["type": "run", "id": .string(id), "stage": .string(stage),
                    "inputs": .object(JSONObject(inputs.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
                    "params": .object(params), "output_dir": .string(outputDirectory),
                    "timeout_seconds": .double(timeoutSeconds), "attempt": .integer(Int64(attempt))]
        case .cancel(let id):
            json = ["type": "cancel", "id": .string(id)]
        case .shutdown:
            json = ["type": "shutdown"]
        }
        return json.compactString
    }
}

/// What a plugin may say, checked for shape. Anything else on standard output is a violation.
enum PluginMessage: Sendable, Equatable {
    case hello(protocolVersion: Int, name: String, version: String, stages: [String])
    case progress(id: String, fraction: Double?, message: String?)
    case result(id: String, outputs: [String: String], metadata: [String: JSON])
    case error(id: String, failure: PluginRunFailure)

    /// The longest line a plugin may write: 1 MiB.
    static let maximumLineLength = 1 << 20

    var id: String? {
        switch self {
        case .hello: nil
        case .progress(let id, _, _), .result(let id, _, _), .error(let id, _): id
        }
    }

    /// Parses one line of the plugin's standard output; throws a sentence describing the problem.
    init(line: String) throws(MessageProblem) {
        let json: JSON
        do {
            json = try JSON.parse(line, source: "line")
        } catch {
            throw MessageProblem("not a JSON object (\(error.message))")
        }
        guard let object = json.objectValue else { throw MessageProblem("expected a JSON object, got \(json.typeName)") }
        guard let type = object["type"]?.stringValue else { throw MessageProblem("the object has no \"type\" string") }
        switch type {
        case "hello":
            guard let version = object["protocol"]?.intValue else { throw MessageProblem("hello without an integer \"protocol\"") }
            guard let name = object["name"]?.stringValue else { throw MessageProblem("hello without a string \"name\"") }
            guard let pluginVersion = object["version"]?.stringValue else { throw MessageProblem("hello without a string \"version\"") }
            guard let stages = object["stages"]?.arrayValue, stages.allSatisfy({ $0.stringValue != nil }) else {
                throw MessageProblem("hello without a \"stages\" array of stage names")
            }
            self = .hello(protocolVersion: version, name: name, version: pluginVersion, stages: stages.map { $0.stringValue! })
        case "progress":
            let id = try Self.id(object, type)
            var fraction: Double?
            if let value = object["fraction"], !value.isNull {
                guard let number = value.doubleValue else { throw MessageProblem("progress \"fraction\" must be a number from 0 to 1, got \(value.compactString)") }
                fraction = min(1, max(0, number))
            }
            var message: String?
            if let value = object["message"], !value.isNull {
                guard let text = value.stringValue else { throw MessageProblem("progress \"message\" must be a string, got \(value.typeName)") }
                message = text
            }
            self = .progress(id: id, fraction: fraction, message: message)
        case "result":
            let id = try Self.id(object, type)
            guard let outputs = object["outputs"]?.objectValue else { throw MessageProblem("result without an \"outputs\" object") }
            var paths: [String: String] = [:]
            for (port, value) in outputs {
                guard let path = value.stringValue, !path.isEmpty else {
                    throw MessageProblem("result output \"\(port)\" must be a file path string, got \(value.compactString)")
                }
                paths[port] = path
            }
            var metadata: [String: JSON] = [:]
            if let value = object["metadata"], !value.isNull {
                guard let fields = value.objectValue else { throw MessageProblem("result \"metadata\" must be an object, got \(value.typeName)") }
                metadata = fields.dictionary
            }
            self = .result(id: id, outputs: paths, metadata: metadata)
        case "error":
            let id = try Self.id(object, type)
            guard let message = object["message"]?.stringValue else { throw MessageProblem("error without a string \"message\"") }
            let code = object["code"]?.stringValue ?? "failed"
            let retryable = object["retryable"]?.boolValue ?? false
            let hint = object["hint"]?.stringValue
            self = .error(id: id, failure: PluginRunFailure(message: message, code: code, retryable: retryable, hint: hint))
        default:
            throw MessageProblem("unknown message type \"\(type)\" (a plugin sends hello, progress, result or error)")
        }
    }

    private static func id(_ object: JSONObject, _ type: String) throws(MessageProblem) -> String {
        guard let id = object["id"]?.stringValue else { throw MessageProblem("\(type) without the string \"id\" of the run it is about") }
        return id
    }
}

/// A run the plugin reported as failed (`{"type":"error", …}`).
struct PluginRunFailure: Sendable, Equatable {
    let message: String
    /// `failed`, `bad_input` or `cancelled`; unknown codes count as `failed`.
    let code: String
    let retryable: Bool
    let hint: String?
}

struct MessageProblem: Error, Sendable {
    let description: String
    init(_ description: String) { self.description = description }
}
