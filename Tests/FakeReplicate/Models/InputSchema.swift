import FarmKit
import Foundation

/// One input of a model version, as Cog declares it: the source of both the version's
/// `openapi_schema` and the fake's strict validation.
struct InputField: Sendable {
    enum Kind: Sendable {
        case string
        case integer
        case number
        case boolean
        /// A file: a URL (http, https or data:) — Cog's `Path`.
        case uri
        case stringChoice([String])
        case integerChoice([Int])
    }

    let name: String
    let kind: Kind
    let defaultValue: JSON?
    let required: Bool
    let minimum: Double?
    let maximum: Double?
    let description: String

    init(
        _ name: String, _ kind: Kind, default defaultValue: JSON? = nil, required: Bool = false,
        min minimum: Double? = nil, max maximum: Double? = nil, _ description: String
    ) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.required = required
        self.minimum = minimum
        self.maximum = maximum
        self.description = description
    }

    var isFile: Bool { if case .uri = kind { true } else { false } }

    /// Cog's title: the name with underscores as spaces, each word capitalised.
    var title: String {
        name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
    }
}

/// One problem with a request body, in the shape of Replicate's `invalid_fields`.
struct InvalidField: Sendable, Hashable {
    /// `required`, `invalid_type`, `additional_property_not_allowed`, `enum`, `number_gte`, `number_lte`, `format`.
    let type: String
    /// `input.prompt`, `input` (for a missing or unknown member), `(root)`.
    let field: String
    let description: String

    var json: JSON {
        .object(JSONObject([("type", .string(type)), ("field", .string(field)), ("description", .string(description))]))
    }
}

/// The inputs of a version, in order.
struct InputSchema: Sendable {
    let fields: [InputField]

    init(_ fields: [InputField]) {
        self.fields = fields
    }

    /// Checks `input` as Replicate does (JSON Schema with `additionalProperties: false`); the
    /// problems in the order the real API lists them: unknown and missing names, then each value.
    func problems(with input: JSONObject, path: String = "input") -> [InvalidField] {
        var problems: [InvalidField] = []
        let known = Set(fields.map(\.name))
        for key in input.keys where !known.contains(key) {
            problems.append(InvalidField(type: "additional_property_not_allowed", field: path, description: "Additional property \(key) is not allowed"))
        }
        for field in fields where field.required && input[field.name] == nil {
            problems.append(InvalidField(type: "required", field: path, description: "\(field.name) is required"))
        }
        for field in fields {
            guard let value = input[field.name] else { continue }
            if let problem = field.problem(with: value, path: "\(path).\(field.name)") { problems.append(problem) }
        }
        return problems
    }

    /// `input` with every default filled in.
    func withDefaults(_ input: JSONObject) -> [String: JSON] {
        var values = input.dictionary
        for field in fields where values[field.name] == nil {
            if let value = field.defaultValue { values[field.name] = value }
        }
        return values
    }

    /// The Cog-style JSON schema of this object (`Input` or `TrainingInput`), plus the enum
    /// schemas it refers to (added to `components`).
    func jsonSchema(title: String, enums: inout [(String, JSON)]) -> JSON {
        var properties = JSONObject()
        for (order, field) in fields.enumerated() {
            var property = JSONObject()
            switch field.kind {
            case .string: property["type"] = "string"
            case .integer: property["type"] = "integer"
            case .number: property["type"] = "number"
            case .boolean: property["type"] = "boolean"
            case .uri:
                property["type"] = "string"
                property["format"] = "uri"
            case .stringChoice(let choices):
                property["allOf"] = [.object(JSONObject([("$ref", .string("#/components/schemas/\(field.name)"))]))]
                enums.append((field.name, .object(JSONObject([
                    ("enum", .array(choices.map(JSON.string))), ("type", "string"), ("title", .string(field.name)),
                    ("description", "An enumeration."),
                ]))))
            case .integerChoice(let choices):
                property["allOf"] = [.object(JSONObject([("$ref", .string("#/components/schemas/\(field.name)"))]))]
                enums.append((field.name, .object(JSONObject([
                    ("enum", .array(choices.map { .integer(Int64($0)) })), ("type", "integer"), ("title", .string(field.name)),
                    ("description", "An enumeration."),
                ]))))
            }
            if case .stringChoice = field.kind {} else if case .integerChoice = field.kind {} else {
                property["title"] = .string(field.title)
            }
            if let value = field.defaultValue { property["default"] = value }
            if let minimum = field.minimum { property["minimum"] = JSON.number(minimum) }
            if let maximum = field.maximum { property["maximum"] = JSON.number(maximum) }
            property["x-order"] = .integer(Int64(order))
            property["description"] = .string(field.description)
            properties[field.name] = .object(property)
        }
        var schema = JSONObject([("type", "object"), ("title", .string(title))])
        let required = fields.filter(\.required).map { JSON.string($0.name) }
        if !required.isEmpty { schema["required"] = .array(required) }
        schema["properties"] = .object(properties)
        return .object(schema)
    }
}

extension InputField {
    func problem(with value: JSON, path: String) -> InvalidField? {
        func wrongType(_ expected: String) -> InvalidField {
            InvalidField(type: "invalid_type", field: path, description: "Invalid type. Expected: \(expected), given: \(value.schemaTypeName)")
        }
        switch kind {
        case .string:
            guard value.stringValue != nil else { return wrongType("string") }
        case .uri:
            guard let text = value.stringValue else { return wrongType("string") }
            guard Self.isURI(text) else { return InvalidField(type: "format", field: path, description: "Does not match format 'uri'") }
        case .boolean:
            guard value.boolValue != nil else { return wrongType("boolean") }
        case .integer:
            guard value.isIntegral else { return wrongType("integer") }
        case .number:
            guard value.doubleValue != nil else { return wrongType("number") }
        case .stringChoice(let choices):
            guard let text = value.stringValue, choices.contains(text) else {
                return InvalidField(
                    type: "enum", field: path,
                    description: "\(path) must be one of the following: " + choices.map { JSON.string($0).compactString }.joined(separator: ", "))
            }
        case .integerChoice(let choices):
            guard value.isIntegral, let number = value.intValue, choices.contains(number) else {
                return InvalidField(
                    type: "enum", field: path,
                    description: "\(path) must be one of the following: " + choices.map(String.init).joined(separator: ", "))
            }
        }
        if let number = value.doubleValue {
            if let minimum, number < minimum {
                return InvalidField(type: "number_gte", field: path, description: "Must be greater than or equal to \(JSON.number(minimum).compactString)")
            }
            if let maximum, number > maximum {
                return InvalidField(type: "number_lte", field: path, description: "Must be less than or equal to \(JSON.number(maximum).compactString)")
            }
        }
        return nil
    }

    /// What JSON Schema's `format: uri` accepts: an absolute URI with a scheme.
    static func isURI(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return false }
        let scheme = text[..<colon]
        guard scheme.first!.isLetter, scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }) else { return false }
        return !text.contains(" ") && text.index(after: colon) < text.endIndex
    }
}

extension JSON {
    /// JSON Schema's name for the type of this value (integers are "integer", other numbers "number").
    var schemaTypeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .integer: "integer"
        case .double(let d): d == d.rounded() && abs(d) < 1e15 ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    var isIntegral: Bool { schemaTypeName == "integer" }

    /// A number as JSON: an integer when it has no fraction.
    static func number(_ value: Double) -> JSON {
        if value == value.rounded(), abs(value) < 1e15 { return .integer(Int64(value)) }
        return .double(value)
    }
}
