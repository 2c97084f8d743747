import FarmKit
import Foundation

/// Models and versions: get, list, and `POST /v1/models` for training destinations.
extension Engine {
    func getModel(_ key: String) -> Reply {
        guard let json = state.withLock({ state in state.models[key].map { modelJSON($0, state: state) } }) else { return .notFound() }
        return .json(200, json)
    }

    func listModels(_ request: Incoming) -> Reply {
        let items = state.withLock { state in
            state.modelOrder.enumerated().compactMap { index, key in
                state.models[key].map { (sequence: index, json: modelJSON($0, state: state)) }
            }
        }
        return page(items, request: request, path: "/v1/models")
    }

    func listVersions(_ request: Incoming, model key: String) -> Reply {
        let items = state.withLock { state -> [(sequence: Int, json: JSON)]? in
            guard let model = state.models[key] else { return nil }
            return model.versions.enumerated().compactMap { index, id in state.versions[id].map { (sequence: index, json: $0.json) } }
        }
        guard let items else { return .notFound() }
        return page(items, request: request, path: "/v1/models/\(key)/versions")
    }

    func getVersion(model key: String, id: String) -> Reply {
        guard let version = state.withLock({ $0.versions[id] }), version.model == key else { return .notFound() }
        return .json(200, version.json)
    }

    func createModel(_ request: Incoming) -> Reply {
        let body: JSONObject
        switch jsonObject(request) {
        case .success(let object): body = object
        case .failure(let error): return error.reply
        }
        let optional = ["description", "github_url", "paper_url", "license_url", "cover_image_url"]
        let required = ["owner", "name", "visibility", "hardware"]
        var problems: [InvalidField] = []
        for key in body.keys where !(optional + required).contains(key) {
            problems.append(InvalidField(type: "additional_property_not_allowed", field: "(root)", description: "Additional property \(key) is not allowed"))
        }
        for key in required where body[key] == nil {
            problems.append(InvalidField(type: "required", field: "(root)", description: "\(key) is required"))
        }
        for key in optional + required {
            guard let value = body[key], value.stringValue == nil else { continue }
            if value.isNull, optional.contains(key) { continue }
            problems.append(InvalidField(type: "invalid_type", field: key, description: "Invalid type. Expected: string, given: \(value.schemaTypeName)"))
        }
        if let visibility = body["visibility"]?.stringValue, !["public", "private"].contains(visibility) {
            problems.append(InvalidField(type: "enum", field: "visibility", description: "visibility must be one of the following: \"public\", \"private\""))
        }
        if let hardware = body["hardware"]?.stringValue, !Catalog.hardware.contains(where: { $0.0 == hardware }) {
            problems.append(InvalidField(
                type: "enum", field: "hardware",
                description: "hardware must be one of the following: " + Catalog.hardware.map { "\"\($0.0)\"" }.joined(separator: ", ")))
        }
        if let name = body["name"]?.stringValue, !Self.isModelName(name) {
            problems.append(InvalidField(
                type: "pattern", field: "name",
                description: "Model names may contain only lowercase letters, digits, dashes, underscores and periods, and must start and end with a letter or digit"))
        }
        if !problems.isEmpty { return .validationFailed(problems) }

        let owner = body["owner"]!.stringValue!, name = body["name"]!.stringValue!
        guard owner == configuration.account.username else {
            return .problem(403, title: "Forbidden", detail: "You do not have permission to create models for \(owner)")
        }
        let key = "\(owner)/\(name)"
        let json = state.withLock { state -> JSON? in
            guard state.models[key] == nil else { return nil }
            let model = ModelRecord(
                owner: owner, name: name, description: body["description"]?.stringValue, visibility: body["visibility"]!.stringValue!,
                isOfficial: false, hardware: body["hardware"]!.stringValue!, githubURL: body["github_url"]?.stringValue,
                paperURL: body["paper_url"]?.stringValue, licenseURL: body["license_url"]?.stringValue,
                coverImageURL: body["cover_image_url"]?.stringValue, createdAt: Date(), versions: [])
            state.models[key] = model
            state.modelOrder.append(key)
            return modelJSON(model, state: state)
        }
        guard let json else {
            return .problem(409, title: "Conflict", detail: "A model with that name and owner already exists.")
        }
        return .json(201, json)
    }

    /// Adds a version to a model (a training's result).
    func addVersion(to key: String, input: [InputField], output: JSON, runner: Runner) -> String {
        let id = Identifier.version()
        let version = VersionRecord(
            id: id, model: key, createdAt: Date(), cogVersion: "0.9.11", input: InputSchema(input), output: output,
            trainingInput: nil, trainingOutput: nil, runner: runner)
        state.withLock { state in
            state.versions[id] = version
            state.models[key]?.versions.append(id)
        }
        return id
    }

    private func modelJSON(_ model: ModelRecord, state: State) -> JSON {
        let runs = state.predictions.values.filter { $0.model == model.key && $0.kind == .prediction }.count
        let latest = model.versions.last.flatMap { state.versions[$0] }
        return .object(JSONObject([
            ("url", .string("\(origin)/\(model.key)")), ("owner", .string(model.owner)), ("name", .string(model.name)),
            ("description", model.description.map(JSON.string) ?? .null), ("visibility", .string(model.visibility)),
            ("github_url", model.githubURL.map(JSON.string) ?? .null), ("paper_url", model.paperURL.map(JSON.string) ?? .null),
            ("license_url", model.licenseURL.map(JSON.string) ?? .null), ("run_count", .integer(Int64(runs))),
            ("cover_image_url", model.coverImageURL.map(JSON.string) ?? .null), ("default_example", .null),
            ("latest_version", latest?.json ?? .null), ("is_official", .bool(model.isOfficial)),
            ("hardware", .string(model.hardware)),
        ]))
    }

    private static func isModelName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, let last = name.unicodeScalars.last else { return false }
        let edge: (Unicode.Scalar) -> Bool = { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        return edge(first) && edge(last) && name.unicodeScalars.allSatisfy { edge($0) || "-_.".unicodeScalars.contains($0) }
    }
}
