/// Turns a merged profile into a `RenderPlan`, checking everything before any work starts:
/// implementations, presets, parameters and their types, input wiring, placeholders, cycles and
/// the output. Every error names the file, the stage and the field.
public struct ProfileResolver: Sendable {
    public let registry: ProviderRegistry

    public init(registry: ProviderRegistry) {
        self.registry = registry
    }

    /// Values from the command line: `--set` overrides and named inputs such as `song`.
    public struct Overrides: Sendable {
        public var parameters: [ParameterOverride]
        /// Input name (`song`, `start`) → value, routed by the profile's `inputs` to a stage parameter.
        public var inputs: [String: JSON]
        /// Leave required parameters unset instead of failing (for showing a profile without a song).
        public var allowsMissingParameters: Bool

        public init(parameters: [ParameterOverride] = [], inputs: [String: JSON] = [:], allowsMissingParameters: Bool = false) {
            self.parameters = parameters
            self.inputs = inputs
            self.allowsMissingParameters = allowsMissingParameters
        }
    }

    public func resolve(_ profile: Profile, subject: Subject, overrides: Overrides = Overrides()) throws -> RenderPlan {
        let stageNames = Set(profile.stages.map(\.name))
        guard !profile.stages.isEmpty else {
            throw ProfileError(file: profile.file, field: "stages", "the profile has no stages")
        }
        let implementations = try Dictionary(uniqueKeysWithValues: profile.stages.map { ($0.name, try implementation(for: $0, in: profile)) })

        var parameters = try Dictionary(uniqueKeysWithValues: profile.stages.map { stage in
            (stage.name, try declaredParameters(for: stage, implementation: implementations[stage.name]!, in: profile))
        })

        // Named inputs (`--song`) → the stage parameters the profile routes them to.
        for (input, value) in overrides.inputs.sorted(by: { $0.key < $1.key }) {
            guard let target = profile.inputs[input] else {
                throw ProfileError(file: profile.file, field: "inputs", "the profile takes no input \"\(input)\"",
                                   hint: "add \"inputs\": {\"\(input)\": \"STAGE.PARAM\"} to the profile")
            }
            let (stage, parameter) = try splitReference(target, file: profile.file, field: "inputs.\(input)", known: stageNames)
            guard implementations[stage]!.parameter(named: parameter) != nil else {
                throw ProfileError(file: profile.file, field: "inputs.\(input)", "stage \"\(stage)\" has no parameter \"\(parameter)\"")
            }
            parameters[stage]!.params[parameter] = value
        }

        for override in overrides.parameters {
            guard let implementation = implementations[override.stage] else {
                throw ProfileError(file: "--set \(override.stage).\(override.parameter)", "profile \(profile.name) has no stage \"\(override.stage)\"",
                                   hint: hintFor(override.stage, among: profile.stages.map(\.name), noun: "stages"))
            }
            guard let spec = implementation.parameter(named: override.parameter) else {
                throw ProfileError(file: "--set \(override.stage).\(override.parameter)", stage: override.stage, field: override.parameter,
                                   "\(implementation.id.name) has no parameter \"\(override.parameter)\"",
                                   hint: hintFor(override.parameter, among: implementation.parameters.map(\.name), noun: "parameters"))
            }
            if override.value.templateReferences.isEmpty, let problem = spec.problem(with: override.value) {
                throw ProfileError(file: "--set \(override.stage).\(override.parameter)=\(override.value.compactString)", problem,
                                   hint: "\(override.parameter): \(spec.summary)" + (spec.rangeDescription.map { " (\($0))" } ?? ""))
            }
            parameters[override.stage]!.params[override.parameter] = override.value
        }

        var nodes: [RenderPlan.Node] = []
        for stage in profile.stages {
            let implementation = implementations[stage.name]!
            var (params, ignored) = parameters[stage.name]!
            for spec in implementation.parameters where params[spec.name] == nil {
                if let value = spec.defaultValue { params[spec.name] = value }
            }
            var dependencies = Set<String>()
            var filled = JSONObject()
            for (name, value) in params {
                let field = "with.\(name)"
                for reference in value.templateReferences where reference.namespace != "subject" {
                    guard stageNames.contains(reference.namespace), reference.namespace != stage.name else {
                        throw ProfileError(file: stage.file, stage: stage.name, field: field,
                                           "{{\(reference.text)}} names no other stage of this profile",
                                           hint: "use {{subject.FIELD}} or {{STAGE.FIELD}} with one of: \(profile.stages.map(\.name).joined(separator: ", "))")
                    }
                    dependencies.insert(reference.namespace)
                }
                let rendered: JSON
                do {
                    rendered = try value.renderingTemplates { reference in
                        guard reference.namespace == "subject" else { return .string("{{\(reference.text)}}") }
                        return subject.fields[reference.field].map(JSON.string)
                    }
                } catch {
                    throw ProfileError(file: stage.file, stage: stage.name, field: field,
                                       "\(error.message) for subject \"\(subject.name)\"",
                                       hint: "subject fields: \(subject.fields.keys.sorted().joined(separator: ", "))")
                }
                if rendered.templateReferences.isEmpty, let spec = implementation.parameter(named: name), let problem = spec.problem(with: rendered) {
                    throw ProfileError(file: stage.file, stage: stage.name, field: field, problem)
                }
                filled[name] = rendered
            }
            for spec in implementation.parameters where spec.required && filled[spec.name] == nil && !overrides.allowsMissingParameters {
                let input = profile.inputs.first { $0.value == "\(stage.name).\(spec.name)" }?.key
                throw ProfileError(file: stage.file, stage: stage.name, field: "with.\(spec.name)", "required parameter is missing",
                                   hint: input.map { "give --\($0)" } ?? "set it in the profile or with --set \(stage.name).\(spec.name)=VALUE")
            }

            var inputs: [String: RenderPlan.OutputRef] = [:]
            for (port, source) in stage.from {
                let field = "from.\(port)"
                guard let input = implementation.input(named: port) else {
                    throw ProfileError(file: stage.file, stage: stage.name, field: field, "\(implementation.id.name) has no input \"\(port)\"",
                                       hint: hintFor(port, among: implementation.inputs.map(\.name), noun: "inputs"))
                }
                let (sourceStage, sourcePort) = try splitReference(source, file: stage.file, field: field, known: stageNames, stage: stage.name)
                guard let output = implementations[sourceStage]!.output(named: sourcePort) else {
                    throw ProfileError(file: stage.file, stage: stage.name, field: field,
                                       "stage \"\(sourceStage)\" (\(implementations[sourceStage]!.id.name)) has no output \"\(sourcePort)\"",
                                       hint: hintFor(sourcePort, among: implementations[sourceStage]!.outputs.map(\.name), noun: "outputs"))
                }
                guard output.kind.canFeed(input.kind) else {
                    throw ProfileError(file: stage.file, stage: stage.name, field: field,
                                       "\(source) is \(output.kind.rawValue) but input \"\(port)\" takes \(input.kind.rawValue)")
                }
                inputs[port] = RenderPlan.OutputRef(stage: sourceStage, port: sourcePort)
                dependencies.insert(sourceStage)
            }
            for port in implementation.inputs where !port.isOptional && inputs[port.name] == nil {
                throw ProfileError(file: stage.file, stage: stage.name, field: "from.\(port.name)",
                                   "input \"\(port.name)\" (\(port.kind.rawValue)) is not connected",
                                   hint: "add \"from\": {\"\(port.name)\": \"STAGE.OUTPUT\"}")
            }

            let use = profile.swap[stage.use] ?? stage.use
            nodes.append(RenderPlan.Node(
                name: stage.name, implementation: implementation, parameters: filled, inputs: inputs,
                dependencies: dependencies, swappedFrom: use == stage.use ? nil : stage.use, preset: stage.preset,
                ignoredParameters: ignored))
        }

        guard let outputText = profile.output else {
            throw ProfileError(file: profile.file, field: "output", "missing: the profile must name the stage output that is the result",
                               hint: "add \"output\": \"STAGE.OUTPUT\", e.g. \"video.video\"")
        }
        let (outputStage, outputPort) = try splitReference(outputText, file: profile.file, field: "output", known: stageNames)
        guard implementations[outputStage]!.output(named: outputPort) != nil else {
            throw ProfileError(file: profile.file, field: "output", "stage \"\(outputStage)\" has no output \"\(outputPort)\"")
        }

        let ordered = try Self.topologicalOrder(nodes, file: profile.file)
        var limits: [String: Int] = [:]
        for provider in Set(nodes.map(\.provider)) {
            limits[provider] = profile.limits[provider] ?? registry.provider(named: provider)?.defaultConcurrency ?? 1
        }
        return RenderPlan(profile: profile, subject: subject, nodes: ordered,
                          output: RenderPlan.OutputRef(stage: outputStage, port: outputPort), limits: limits)
    }

    private func implementation(for stage: Profile.Stage, in profile: Profile) throws -> any RenderStage {
        let implementation = try registeredImplementation(for: stage, in: profile)
        guard stage.chunked else { return implementation }
        do {
            return try ChunkedStage(wrapping: implementation)
        } catch let failure as StageFailure {
            throw ProfileError(file: stage.file, stage: stage.name, field: "chunked", failure.message, hint: failure.hint)
        }
    }

    private func registeredImplementation(for stage: Profile.Stage, in profile: Profile) throws -> any RenderStage {
        let use = profile.swap[stage.use] ?? stage.use
        if let implementation = registry.stage(named: use) { return implementation }
        let field = use == stage.use ? "use" : "use (swapped to \(use))"
        let provider = String(use.prefix { $0 != "." })
        if registry.provider(named: provider) == nil, let reason = registry.unavailable[provider] {
            throw ProfileError(file: stage.file, stage: stage.name, field: field, "provider \"\(provider)\" could not be loaded: \(reason)",
                               hint: "fix the plugin, then check it with: farm plugins check FOLDER")
        }
        if registry.provider(named: provider) == nil {
            throw ProfileError(file: stage.file, stage: stage.name, field: field,
                               "\"\(use)\": provider \"\(provider)\" is not available in this build of farm",
                               hint: "available providers: \(registry.providers.map(\.name).sorted().joined(separator: ", ")); for a local render use --profile offline")
        }
        throw ProfileError(file: stage.file, stage: stage.name, field: field, "unknown stage \"\(use)\"",
                           hint: hintFor(use, among: registry.stageNames, noun: "stages"))
    }

    /// Preset then `with` parameters, checked against the implementation's declared parameters.
    /// A swapped-in implementation ignores (and reports) parameters it does not declare.
    private func declaredParameters(for stage: Profile.Stage, implementation: any RenderStage, in profile: Profile) throws -> (params: JSONObject, ignored: [String]) {
        let use = profile.swap[stage.use] ?? stage.use
        let swapped = use != stage.use
        var sources: [(field: String, params: JSONObject)] = []
        if let preset = stage.preset {
            let owner = profile.presets[use]?[preset] != nil ? use : stage.use
            guard let params = profile.presets[owner]?[preset] else {
                let known = Set((profile.presets[use] ?? [:]).keys).union((profile.presets[stage.use] ?? [:]).keys).sorted()
                throw ProfileError(file: stage.file, stage: stage.name, field: "preset", "unknown preset \"\(preset)\" for \(use)",
                                   hint: known.isEmpty ? "the profile defines no presets for \(use)" : "known presets: \(known.joined(separator: ", "))")
            }
            sources.append(("presets.\(owner).\(preset)", params))
        }
        sources.append(("with", stage.with))
        var params = JSONObject()
        var ignored: [String] = []
        for (field, values) in sources {
            for (name, value) in values {
                if implementation.parameter(named: name) != nil {
                    params[name] = value
                } else if swapped {
                    if !ignored.contains(name) { ignored.append(name) }
                } else {
                    throw ProfileError(file: stage.file, stage: stage.name, field: "\(field).\(name)",
                                       "\(implementation.id.name) has no parameter \"\(name)\"",
                                       hint: hintFor(name, among: implementation.parameters.map(\.name), noun: "parameters"))
                }
            }
        }
        return (params, ignored)
    }

    private func splitReference(_ text: String, file: String, field: String, known: Set<String>, stage: String? = nil) throws -> (String, String) {
        let parts = text.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            throw ProfileError(file: file, stage: stage, field: field, "\"\(text)\" must be STAGE.NAME")
        }
        guard known.contains(parts[0]) else {
            throw ProfileError(file: file, stage: stage, field: field, "no stage named \"\(parts[0])\"",
                               hint: hintFor(parts[0], among: known.sorted(), noun: "stages"))
        }
        return (parts[0], parts[1])
    }

    private func hintFor(_ word: String, among candidates: [String], noun: String) -> String {
        if candidates.isEmpty { return "it has no \(noun)" }
        let list = "\(noun): \(candidates.joined(separator: ", "))"
        if let match = closest(to: word, in: candidates) { return "did you mean \"\(match)\"? \(list)" }
        return list
    }

    /// Kahn's algorithm, keeping profile order among ready stages; reports a cycle by its path.
    static func topologicalOrder(_ nodes: [RenderPlan.Node], file: String) throws -> [RenderPlan.Node] {
        var remaining = nodes
        var done = Set<String>()
        var ordered: [RenderPlan.Node] = []
        while !remaining.isEmpty {
            guard let index = remaining.firstIndex(where: { $0.dependencies.isSubset(of: done) }) else {
                throw ProfileError(file: file, field: "stages", "the stages depend on each other in a cycle: \(cycle(in: remaining))",
                                   hint: "a stage's \"from\" and {{STAGE.…}} placeholders must not lead back to itself")
            }
            let node = remaining.remove(at: index)
            done.insert(node.name)
            ordered.append(node)
        }
        return ordered
    }

    private static func cycle(in nodes: [RenderPlan.Node]) -> String {
        let byName = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0) })
        var path: [String] = [nodes[0].name]
        while true {
            let next = byName[path.last!]!.dependencies.sorted().first { byName[$0] != nil }!
            if let start = path.firstIndex(of: next) {
                return (path[start...] + [next]).reversed().joined(separator: " → ")
            }
            path.append(next)
        }
    }
}
