import Foundation

/// One profile file as written: its fields checked for shape, nothing resolved yet.
///
/// ```json
/// {
///   "description": "…", "extends": "vivid", "subject": "demo",
///   "inputs": { "song": "song.source" },
///   "stages": { "cover": { "use": "replicate.rvc", "from": { "song": "song.audio" }, "preset": "mix", "with": {} },
///               "performance": { "use": "replicate.sonic", "chunked": true, "from": { … } } },
///   "presets": { "replicate.rvc": { "mix": { "output_format": "mp3" } } },
///   "swap": { "replicate.rvc": "offline.voice" },
///   "limits": { "replicate": 8 },
///   "output": "video.video"
/// }
/// ```
struct ProfileDocument: Sendable {
    /// One stage entry; every field optional so that a profile that `extends` another can change one field.
    struct StageEntry: Sendable {
        var use: String?
        var with = JSONObject()
        var from: [(port: String, source: String)] = []
        var preset: String?
        /// Render the stage chunk by chunk (`ChunkedStage`).
        var chunked: Bool?
    }

    let name: String
    /// The file path, as shown in messages.
    let file: String
    var description: String?
    var extends: String?
    var subject: String?
    var inputs: [(name: String, target: String)] = []
    /// `nil` entries remove a stage inherited from the profile this one extends.
    var stages: [(name: String, entry: StageEntry?)] = []
    var presets: [String: [String: JSONObject]] = [:]
    var swap: [(from: String, to: String)] = []
    var limits: [String: Int] = [:]
    var output: String?

    static let topLevelFields = ["name", "description", "extends", "subject", "inputs", "stages", "presets", "swap", "limits", "output"]
    static let stageFields = ["use", "with", "from", "preset", "chunked"]

    /// Reads and checks the shape of a profile file.
    init(contentsOf url: URL) throws {
        let file = url.path
        let json: JSON
        do {
            json = try JSON.parse(contentsOf: url)
        } catch where error.line == 0 {
            throw ProfileError(file: file, "cannot read the profile: \(error.message)")
        } catch {
            throw ProfileError(file: file, "invalid JSON at line \(error.line), column \(error.column): \(error.message)",
                               hint: "fix the JSON syntax at \(file):\(error.line):\(error.column)")
        }
        try self.init(json: json, name: url.deletingPathExtension().lastPathComponent, file: file)
    }

    init(json: JSON, name: String, file: String) throws {
        guard let root = json.objectValue else {
            throw ProfileError(file: file, "a profile must be a JSON object, not \(json.typeName)")
        }
        self.file = file
        for key in root.keys where !Self.topLevelFields.contains(key) {
            throw ProfileError(file: file, field: key, "unknown field", hint: Self.suggestion(key, Self.topLevelFields))
        }
        let declaredName = try Self.string(root["name"], file: file, field: "name")
        self.name = declaredName ?? name
        description = try Self.string(root["description"], file: file, field: "description")
        extends = try Self.string(root["extends"], file: file, field: "extends")
        subject = try Self.string(root["subject"], file: file, field: "subject")
        output = try Self.string(root["output"], file: file, field: "output")

        for (key, value) in try Self.object(root["inputs"], file: file, field: "inputs") {
            guard let target = value.stringValue else {
                throw ProfileError(file: file, field: "inputs.\(key)", "expected a string \"STAGE.PARAM\", got \(value.typeName)")
            }
            inputs.append((key, target))
        }
        for (key, value) in try Self.object(root["swap"], file: file, field: "swap") {
            guard let target = value.stringValue else {
                throw ProfileError(file: file, field: "swap.\(key)", "expected the name of a stage, got \(value.typeName)")
            }
            swap.append((key, target))
        }
        for (key, value) in try Self.object(root["limits"], file: file, field: "limits") {
            guard let limit = value.intValue, limit >= 1 else {
                throw ProfileError(file: file, field: "limits.\(key)", "expected a whole number of at least 1, got \(value.compactString)")
            }
            limits[key] = limit
        }
        for (use, value) in try Self.object(root["presets"], file: file, field: "presets") {
            guard let named = value.objectValue else {
                throw ProfileError(file: file, field: "presets.\(use)", "expected an object of named presets, got \(value.typeName)")
            }
            for (presetName, params) in named {
                guard let params = params.objectValue else {
                    throw ProfileError(file: file, field: "presets.\(use).\(presetName)", "expected an object of parameters, got \(params.typeName)")
                }
                presets[use, default: [:]][presetName] = params
            }
        }
        for (stageName, value) in try Self.object(root["stages"], file: file, field: "stages") {
            try Self.checkStageName(stageName, file: file)
            if value.isNull {
                stages.append((stageName, nil))
                continue
            }
            stages.append((stageName, try Self.stageEntry(value, stage: stageName, file: file)))
        }
    }

    private static func stageEntry(_ value: JSON, stage: String, file: String) throws -> StageEntry {
        guard let object = value.objectValue else {
            throw ProfileError(file: file, stage: stage, "expected an object with \"use\", got \(value.typeName)")
        }
        for key in object.keys where !stageFields.contains(key) {
            throw ProfileError(file: file, stage: stage, field: key, "unknown field", hint: suggestion(key, stageFields))
        }
        var entry = StageEntry()
        entry.use = try string(object["use"], file: file, field: "use", stage: stage)
        entry.preset = try string(object["preset"], file: file, field: "preset", stage: stage)
        entry.with = try Self.object(object["with"], file: file, field: "with", stage: stage)
        if let chunked = object["chunked"], !chunked.isNull {
            guard let flag = chunked.boolValue else {
                throw ProfileError(file: file, stage: stage, field: "chunked", "expected true or false, got \(chunked.typeName)")
            }
            entry.chunked = flag
        }
        for (port, source) in try Self.object(object["from"], file: file, field: "from", stage: stage) {
            guard let source = source.stringValue else {
                throw ProfileError(file: file, stage: stage, field: "from.\(port)", "expected \"STAGE.OUTPUT\", got \(source.typeName)")
            }
            entry.from.append((port, source))
        }
        return entry
    }

    static func checkStageName(_ name: String, file: String) throws {
        let allowed = name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
        guard !name.isEmpty, allowed, name != "subject" else {
            throw ProfileError(file: file, stage: name, "a stage name uses letters, digits, '-' and '_' (and is not \"subject\")")
        }
    }

    private static func string(_ value: JSON?, file: String, field: String, stage: String? = nil) throws -> String? {
        guard let value, !value.isNull else { return nil }
        guard let string = value.stringValue else {
            throw ProfileError(file: file, stage: stage, field: field, "expected a string, got \(value.typeName)")
        }
        return string
    }

    private static func object(_ value: JSON?, file: String, field: String, stage: String? = nil) throws -> JSONObject {
        guard let value, !value.isNull else { return JSONObject() }
        guard let object = value.objectValue else {
            throw ProfileError(file: file, stage: stage, field: field, "expected an object, got \(value.typeName)")
        }
        return object
    }

    static func suggestion(_ word: String, _ candidates: [String]) -> String {
        if let match = closest(to: word, in: candidates) { return "did you mean \"\(match)\"?" }
        return "known fields: " + candidates.joined(separator: ", ")
    }
}
