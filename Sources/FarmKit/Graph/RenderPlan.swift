/// A validated render graph: every stage bound to an implementation, every input wired, every
/// parameter known and typed, no cycles. Made by `ProfileResolver`; run by `GraphRunner`.
public struct RenderPlan: Sendable {
    /// `STAGE.PORT`: one output of one stage.
    public struct OutputRef: Sendable, Hashable, CustomStringConvertible {
        public let stage: String
        public let port: String
        public var description: String { "\(stage).\(port)" }
    }

    /// One stage of the plan.
    public struct Node: Sendable {
        public let name: String
        public let implementation: any RenderStage
        /// Parameters with presets, `with`, `--set` and defaults applied and `{{subject.*}}` filled;
        /// `{{STAGE.*}}` placeholders are filled when the stage runs.
        public let parameters: JSONObject
        public let inputs: [String: OutputRef]
        /// Stages that must finish first: the sources of `inputs` and of placeholders.
        public let dependencies: Set<String>
        /// The implementation the profile named before a `swap` replaced it.
        public let swappedFrom: String?
        public let preset: String?
        /// Parameters the profile sets that the swapped-in implementation does not take.
        public let ignoredParameters: [String]

        public var provider: String { implementation.id.provider }

        /// Whether the stage's inputs can be checked before anything runs: no `{{STAGE.…}}`
        /// placeholders are left and every required parameter is set.
        public var canPreflight: Bool {
            parameters.allSatisfy { $0.value.templateReferences.isEmpty }
                && implementation.parameters.allSatisfy { !$0.required || parameters[$0.name] != nil }
        }
    }

    public let profile: Profile
    public let subject: Subject
    /// In an order where every stage comes after its dependencies (profile order otherwise).
    public let nodes: [Node]
    public let output: OutputRef
    /// Provider name → how many of its stages may run at once.
    public let limits: [String: Int]

    public func node(_ name: String) -> Node? { nodes.first { $0.name == name } }
}
