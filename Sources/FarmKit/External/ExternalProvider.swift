import Foundation

/// A stage provider that lives in another process: a plugin folder with a `plugin.json`.
///
/// Its stages come from the manifest, so listing and validating them starts nothing; the process
/// starts on the first run of one of its stages and is shut down by `shutdown()`.
public struct ExternalProvider: StageProvider {
    public let host: PluginHost
    public var manifest: PluginManifest { host.manifest }

    public init(manifest: PluginManifest, hostVersion: String, grace: Duration = .seconds(2)) {
        host = PluginHost(manifest: manifest, hostVersion: hostVersion, grace: grace)
    }

    public var name: String { manifest.name }
    public var summary: String { manifest.summary }
    public var defaultConcurrency: Int { manifest.concurrency }

    public func stages() -> [any RenderStage] {
        manifest.stages.map { ExternalStage(declaration: $0, host: host) }
    }

    public func shutdown() async {
        await host.shutdown()
    }
}

/// One stage of a plugin, run by sending `run` to the plugin's process.
public struct ExternalStage: RenderStage {
    public let declaration: PluginManifest.Stage
    let host: PluginHost

    public var id: StageID { StageID("\(host.manifest.name).\(declaration.name)", version: declaration.version) }
    public var summary: String { declaration.summary }
    public var inputs: [Port] { declaration.inputs }
    public var outputs: [Port] { declaration.outputs }
    public var parameters: [ParamSpec] { declaration.parameters }
    public var isDeterministic: Bool { declaration.isDeterministic }

    public func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        try await host.run(declaration, request: request, context: context)
    }

    /// The plugin's declared version and the digest of its manifest: a new plugin version, or any
    /// change to plugin.json, makes new cache keys.
    public func cacheIdentity(_ request: StageRequest, digest: @Sendable (URL) async throws -> String) async throws -> JSON? {
        ["plugin": .string(host.manifest.name), "version": .string(host.manifest.version), "manifest": .string(host.manifest.digest)]
    }
}
