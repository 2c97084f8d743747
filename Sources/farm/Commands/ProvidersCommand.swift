import ArgumentParser
import FarmKit

struct ProvidersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "providers", abstract: "List stage providers and their stages.", subcommands: [List.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every provider with its stages, ports and parameters.")

        func run() async throws {
            let registry = BuiltInProviders.registry
            var out = ""
            for provider in registry.providers.sorted(by: { $0.name < $1.name }) {
                out += "\(provider.name) — \(provider.summary) (\(provider.defaultConcurrency) at once)\n"
                if let plugin = provider as? ExternalProvider {
                    out += "  plugin \(plugin.manifest.version) in \(plugin.manifest.folder.path)\n"
                }
                for stage in provider.stages().sorted(by: { $0.id.name < $1.id.name }) {
                    out += "  \(stage.id)\(stage.isDeterministic ? "" : " (not deterministic)"): \(stage.summary)\n"
                    let inputs = stage.inputs.map { "\($0.name) (\($0.kind.rawValue)\($0.isOptional ? ", optional" : ""))" }.joined(separator: ", ")
                    let outputs = stage.outputs.map { "\($0.name) (\($0.kind.rawValue))" }.joined(separator: ", ")
                    out += "    inputs:  \(inputs.isEmpty ? "none" : inputs)\n    outputs: \(outputs)\n"
                    for spec in stage.parameters {
                        var line = "    - \(spec.name): \(spec.type.rawValue)"
                        if spec.required { line += ", required" }
                        if let value = spec.defaultValue { line += ", default \(value.compactString)" }
                        if let choices = spec.choices { line += ", one of \(choices.map(\.compactString).joined(separator: " | "))" }
                        if let range = spec.rangeDescription { line += ", \(range)" }
                        if !spec.summary.isEmpty { line += " — \(spec.summary)" }
                        out += line + "\n"
                    }
                }
                out += "\n"
            }
            print(out, terminator: "")
        }
    }
}
