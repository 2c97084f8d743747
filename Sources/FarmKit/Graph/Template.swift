/// `{{namespace.field}}` placeholders in profile strings.
///
/// `subject.*` is filled from the subject before anything runs; any other namespace names a stage
/// whose result metadata fills it (`{{song.title}}`), which makes that stage a dependency.
/// A string that is exactly one placeholder takes the value's JSON type (`"{{song.duration}}"` → 12.5).
struct Template: Sendable, Equatable {
    struct Reference: Sendable, Hashable {
        let namespace: String
        let field: String
        var text: String { "\(namespace).\(field)" }
    }

    private enum Piece: Sendable, Equatable {
        case text(String)
        case reference(Reference)
    }

    private let pieces: [Piece]

    /// Parses `string`; throws a message for an unclosed or malformed placeholder.
    init(_ string: String) throws(TemplateError) {
        var pieces: [Piece] = []
        var rest = Substring(string)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { pieces.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw TemplateError("unclosed \"{{\" in \"\(string)\"")
            }
            let inner = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            let parts = inner.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TemplateError("\"{{\(inner)}}\" must name a field as {{subject.FIELD}} or {{STAGE.FIELD}}")
            }
            pieces.append(.reference(Reference(namespace: parts[0], field: parts[1])))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { pieces.append(.text(String(rest))) }
        self.pieces = pieces
    }

    var references: [Reference] {
        pieces.compactMap { if case .reference(let r) = $0 { r } else { nil } }
    }

    var isPlain: Bool { references.isEmpty }

    /// Fills every placeholder; `lookup` returns nil for an unknown field, which throws.
    func render(_ lookup: (Reference) -> JSON?) throws(TemplateError) -> JSON {
        if pieces.count == 1, case .reference(let reference) = pieces[0] {
            guard let value = lookup(reference) else { throw TemplateError("{{\(reference.text)}} has no value") }
            return value
        }
        var out = ""
        for piece in pieces {
            switch piece {
            case .text(let text): out += text
            case .reference(let reference):
                guard let value = lookup(reference) else { throw TemplateError("{{\(reference.text)}} has no value") }
                out += value.stringValue ?? value.compactString
            }
        }
        return .string(out)
    }
}

struct TemplateError: Error, Sendable {
    let message: String
    init(_ message: String) { self.message = message }
}

extension JSON {
    /// Every string in this value (recursively) that contains a placeholder.
    var templateReferences: [Template.Reference] {
        switch self {
        case .string(let s): (try? Template(s))?.references ?? []
        case .array(let items): items.flatMap(\.templateReferences)
        case .object(let object): object.flatMap { $0.value.templateReferences }
        default: []
        }
    }

    /// This value with every placeholder filled.
    func renderingTemplates(_ lookup: (Template.Reference) -> JSON?) throws(TemplateError) -> JSON {
        switch self {
        case .string(let s):
            let template = try Template(s)
            return template.isPlain ? self : try template.render(lookup)
        case .array(let items):
            var rendered: [JSON] = []
            for item in items { rendered.append(try item.renderingTemplates(lookup)) }
            return .array(rendered)
        case .object(let object):
            var rendered = JSONObject()
            for (key, value) in object { rendered[key] = try value.renderingTemplates(lookup) }
            return .object(rendered)
        default:
            return self
        }
    }
}
