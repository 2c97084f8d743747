/// A parameter that a stage accepts from its profile (`with`), presets and `--set`.
public struct ParamSpec: Sendable, Hashable {
    public enum ValueType: String, Sendable, Hashable {
        case string, integer, number, boolean, object, array

        /// Whether `value` is acceptable for this type (an integer is also a number).
        public func accepts(_ value: JSON) -> Bool {
            switch (self, value) {
            case (.string, .string), (.integer, .integer), (.number, .integer), (.number, .double),
                 (.boolean, .bool), (.object, .object), (.array, .array):
                return true
            default:
                return false
            }
        }
    }

    public let name: String
    public let type: ValueType
    /// Used when the profile does not set the parameter; `nil` with `required` false means "absent".
    public let defaultValue: JSON?
    public let required: Bool
    /// Allowed values, when the parameter is an enumeration.
    public let choices: [JSON]?
    /// Inclusive numeric bounds.
    public let range: ClosedRange<Double>?
    public let summary: String

    public init(
        _ name: String, _ type: ValueType, default defaultValue: JSON? = nil, required: Bool = false,
        choices: [JSON]? = nil, range: ClosedRange<Double>? = nil, _ summary: String = ""
    ) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.required = required
        self.choices = choices
        self.range = range
        self.summary = summary
    }

    /// The range as a person writes it: `0…10`.
    public var rangeDescription: String? {
        range.map { "\($0.lowerBound.formattedCompact)…\($0.upperBound.formattedCompact)" }
    }

    /// Checks one value; returns a sentence describing the problem, or `nil` when it is fine.
    public func problem(with value: JSON) -> String? {
        guard type.accepts(value) else {
            return "expected \(type.rawValue), got \(value.typeName) \(value.compactString)"
        }
        if let choices, !choices.contains(value) {
            return "\(value.compactString) is not one of \(choices.map(\.compactString).joined(separator: ", "))"
        }
        if let range, let number = value.doubleValue, !range.contains(number) {
            return "\(value.compactString) is outside \(rangeDescription!)"
        }
        return nil
    }
}

extension Double {
    /// `3` for 3.0, `0.5` for 0.5: numbers as a person writes them.
    var formattedCompact: String {
        if self == rounded(), abs(self) < 1e15 { return String(Int64(self)) }
        return String(self)
    }
}
