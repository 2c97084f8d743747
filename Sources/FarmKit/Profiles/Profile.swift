/// A profile after `extends` is followed: every inherited field merged, nothing resolved yet.
public struct Profile: Sendable {
    /// One stage as the merged profile describes it.
    public struct Stage: Sendable {
        public let name: String
        public let use: String
        public let with: JSONObject
        public let from: [(port: String, source: String)]
        public let preset: String?
        /// Rendered chunk by chunk (`ChunkedStage`).
        public let chunked: Bool
        /// The file that last changed this stage, for messages.
        public let file: String
    }

    public let name: String
    /// The files merged, the named profile first, then what it extends.
    public let files: [String]
    public let description: String?
    /// The subject used when the command line names none.
    public let defaultSubject: String?
    /// Named render inputs (`song`) and the `STAGE.PARAM` each one fills.
    public let inputs: [String: String]
    public let stages: [Stage]
    public let presets: [String: [String: JSONObject]]
    /// Stage implementation replacements: `replicate.rvc` → `offline.voice`.
    public let swap: [String: String]
    public let limits: [String: Int]
    public let output: String?

    /// The profile's own file, for messages.
    public var file: String { files.first ?? name }

    /// Merges a chain of documents, the base first and the named profile last.
    init(chain: [ProfileDocument]) throws {
        let top = chain.last!
        var stageOrder: [String] = []
        var stages: [String: (entry: ProfileDocument.StageEntry, file: String)] = [:]
        var inputs: [String: String] = [:]
        var presets: [String: [String: JSONObject]] = [:]
        var swap: [String: String] = [:]
        var limits: [String: Int] = [:]
        var description: String?, subject: String?, output: String?

        for document in chain {
            description = document.description ?? description
            subject = document.subject ?? subject
            output = document.output ?? output
            for (name, target) in document.inputs { inputs[name] = target }
            for (from, to) in document.swap { swap[from] = to }
            limits.merge(document.limits) { _, new in new }
            for (use, named) in document.presets {
                for (presetName, params) in named {
                    var merged = presets[use]?[presetName] ?? JSONObject()
                    for (key, value) in params { merged[key] = value }
                    presets[use, default: [:]][presetName] = merged
                }
            }
            for (name, entry) in document.stages {
                guard let entry else {
                    stages[name] = nil
                    stageOrder.removeAll { $0 == name }
                    continue
                }
                guard var merged = stages[name]?.entry else {
                    stages[name] = (entry, document.file)
                    stageOrder.append(name)
                    continue
                }
                if let use = entry.use, use != merged.use {
                    // Another implementation: the parameters meant for the old one do not carry over.
                    merged = ProfileDocument.StageEntry(use: use, from: merged.from, chunked: merged.chunked)
                }
                merged.preset = entry.preset ?? merged.preset
                merged.chunked = entry.chunked ?? merged.chunked
                for (key, value) in entry.with { merged.with[key] = value }
                for link in entry.from {
                    merged.from.removeAll { $0.port == link.port }
                    merged.from.append(link)
                }
                stages[name] = (merged, document.file)
            }
        }

        self.name = top.name
        self.files = chain.reversed().map(\.file)
        self.description = description
        self.defaultSubject = subject
        self.inputs = inputs
        self.presets = presets
        self.swap = swap
        self.limits = limits
        self.output = output
        self.stages = try stageOrder.map { name in
            let (entry, file) = stages[name]!
            guard let use = entry.use else {
                throw ProfileError(file: file, stage: name, field: "use", "missing: every stage names the implementation it uses",
                                   hint: "add \"use\": \"PROVIDER.STAGE\" (see farm providers list)")
            }
            return Stage(name: name, use: use, with: entry.with, from: entry.from, preset: entry.preset,
                         chunked: entry.chunked ?? false, file: file)
        }
    }
}
