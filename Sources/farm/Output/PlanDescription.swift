import FarmKit
import Foundation

/// A readable description of a resolved plan: what `farm profiles show` and `--dry-run` print.
enum PlanDescription {
    static func text(_ plan: RenderPlan) -> String {
        var out = "profile \(plan.profile.name)"
        if plan.profile.files.count > 1 { out += " (\(plan.profile.files.joined(separator: " ← extends ")))" } else { out += " (\(plan.profile.file))" }
        out += "\n"
        if let description = plan.profile.description { out += "  \(description)\n" }
        out += "subject \(plan.subject.name) (trigger \(plan.subject.trigger))\n\nstages, in order:\n"
        for node in plan.nodes {
            var title = "  \(node.name): \(node.implementation.id)"
            if let swapped = node.swappedFrom { title += " (swapped from \(swapped))" }
            if let preset = node.preset { title += " preset \(preset)" }
            out += title + "\n"
            for (port, source) in node.inputs.sorted(by: { $0.key < $1.key }) { out += "      \(port) ← \(source)\n" }
            for (name, value) in node.parameters.sorted(by: { $0.key < $1.key }) { out += "      \(name) = \(shown(value))\n" }
            if !node.ignoredParameters.isEmpty {
                out += "      ignored by \(node.implementation.id.name): \(node.ignoredParameters.joined(separator: ", "))\n"
            }
        }
        out += "\noutput: \(plan.output)\nlimits: " + plan.limits.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) at once" }.joined(separator: ", ") + "\n"
        return out
    }

    /// A parameter value as shown: a link loses any user name or password in it.
    private static func shown(_ value: JSON) -> String {
        guard let text = value.stringValue, let components = URLComponents(string: text), components.user != nil || components.password != nil
        else { return value.compactString }
        return JSON.string(URLRedaction.redact(text)).compactString
    }
}
