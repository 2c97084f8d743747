/// The providers a host knows, and their stages by qualified name.
///
/// The host itself knows no provider by name: the CLI registers the built-in ones, and external
/// providers are added the same way.
public struct ProviderRegistry: Sendable {
    public private(set) var providers: [any StageProvider] = []
    private var stagesByName: [String: any RenderStage] = [:]
    /// Providers that were found but could not be loaded (a broken plugin.json), by name → why.
    public var unavailable: [String: String] = [:]

    public init(_ providers: [any StageProvider] = []) {
        for provider in providers { register(provider) }
    }

    /// Adds a provider. A later provider's stage replaces an earlier one with the same name.
    public mutating func register(_ provider: any StageProvider) {
        providers.removeAll { $0.name == provider.name }
        providers.append(provider)
        for stage in provider.stages() {
            precondition(stage.id.provider == provider.name,
                         "stage \(stage.id.name) must be named \(provider.name).<stage>")
            stagesByName[stage.id.name] = stage
        }
    }

    public func stage(named name: String) -> (any RenderStage)? { stagesByName[name] }

    public func provider(named name: String) -> (any StageProvider)? {
        providers.first { $0.name == name }
    }

    /// All stage names, sorted.
    public var stageNames: [String] { stagesByName.keys.sorted() }

    /// Lets every provider release what it holds (plugin processes); returns when all are done.
    public func shutdown() async {
        await withTaskGroup(of: Void.self) { group in
            for provider in providers { group.addTask { await provider.shutdown() } }
        }
    }
}
