import FarmKit

/// A model version's input schema (`openapi_schema.components.schemas.Input`), used to refuse bad
/// inputs before any money is spent, naming the input and what it allows.
package struct InputSchema: Sendable {
    struct Property: Sendable {
        let type: String?
        let choices: [JSON]?
        let minimum: Double?
        let maximum: Double?
        let format: String?
    }

    let properties: [String: Property]
    let required: [String]

    package init(openAPISchema: JSON) {
        let schemas = openAPISchema["components"]?["schemas"]
        let input = schemas?["Input"]
        var properties: [String: Property] = [:]
        for (name, value) in input?["properties"]?.objectValue ?? JSONObject() {
            var choices = value["enum"]?.arrayValue
            var type = value["type"]?.stringValue
            // Cog writes enums as `allOf: [{"$ref": "#/components/schemas/NAME"}]`.
            for part in value["allOf"]?.arrayValue ?? [] {
                guard let reference = part["$ref"]?.stringValue, let target = reference.split(separator: "/").last else { continue }
                let referenced = schemas?[String(target)]
                choices = referenced?["enum"]?.arrayValue ?? choices
                type = type ?? referenced?["type"]?.stringValue
            }
            properties[name] = Property(
                type: type, choices: choices, minimum: value["minimum"]?.doubleValue, maximum: value["maximum"]?.doubleValue,
                format: value["format"]?.stringValue)
        }
        self.properties = properties
        required = input?["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// Problems with `input`, one sentence each; `partial` skips the required check (for checking
    /// parameters before the file inputs are known).
    package func problems(with input: JSONObject, partial: Bool = false) -> [String] {
        var problems: [String] = []
        for (name, value) in input {
            guard let property = properties[name] else {
                problems.append("unknown input \"\(name)\" (the model takes: \(properties.keys.sorted().joined(separator: ", ")))")
                continue
            }
            if let problem = problem(value, property) { problems.append("input \"\(name)\": \(problem)") }
        }
        if !partial {
            for name in required where input[name] == nil { problems.append("input \"\(name)\" is required") }
        }
        return problems
    }

    private func problem(_ value: JSON, _ property: Property) -> String? {
        switch (property.type, value) {
        case ("integer", .integer), ("number", .integer), ("number", .double), ("string", .string), ("boolean", .bool), (nil, _),
             ("array", .array), ("object", .object):
            break
        case ("integer", .double(let number)) where number == number.rounded():
            break
        default:
            return "expected \(property.type ?? "a value"), got \(value.typeName) \(value.compactString)"
        }
        if let choices = property.choices, !choices.contains(value) {
            return "\(value.compactString) is not one of \(choices.map(\.compactString).joined(separator: ", "))"
        }
        if let number = value.doubleValue {
            if let minimum = property.minimum, number < minimum { return "\(value.compactString) is below the minimum \(minimum)" }
            if let maximum = property.maximum, number > maximum { return "\(value.compactString) is above the maximum \(maximum)" }
        }
        return nil
    }
}
