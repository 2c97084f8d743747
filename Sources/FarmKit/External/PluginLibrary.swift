import Foundation

/// Finds plugin folders (folders with a `plugin.json`) on the plugin path and reads their manifests.
///
/// Only manifests are read: no plugin process starts until one of its stages runs.
public struct PluginLibrary: Sendable {
    /// Folders searched in order. Each is a plugin folder itself or holds plugin folders; the first
    /// plugin of each name wins.
    public let searchPath: [URL]

    public init(searchPath: [URL]) {
        self.searchPath = searchPath
    }

    /// `$FARM_PLUGIN_PATH` (colon separated), the user's folder (`$XDG_CONFIG_HOME/farm/plugins`,
    /// default `~/.config/farm/plugins`), then the example plugins that ship with farm.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> PluginLibrary {
        var path: [URL] = []
        if let extra = environment["FARM_PLUGIN_PATH"] {
            path += extra.split(separator: ":").map { URL(fileURLWithPath: String($0), isDirectory: true) }
        }
        path.append(UserFolders.config(environment: environment).appendingPathComponent("plugins", isDirectory: true))
        if let examples = InstallLayout.builtInFolder("Plugins/examples", environment: environment) { path.append(examples) }
        return PluginLibrary(searchPath: path)
    }

    /// One plugin folder found on the path.
    public struct Entry: Sendable {
        public let folder: URL
        /// The manifest, or why it could not be read.
        public let manifest: Result<PluginManifest, PluginError>
        /// An earlier folder on the path has a plugin of the same name, which wins.
        public let shadowedBy: URL?

        /// The plugin's name, or its folder's name when the manifest cannot be read.
        public var name: String {
            (try? manifest.get().name) ?? folder.lastPathComponent
        }
    }

    /// Every plugin folder on the path, in path order.
    public func entries() -> [Entry] {
        var entries: [Entry] = []
        var seen: [String: URL] = [:]
        for folder in pluginFolders() {
            let manifest = Result { () throws(PluginError) in try PluginManifest(folder: folder) }
            let name = (try? manifest.get().name) ?? folder.lastPathComponent
            entries.append(Entry(folder: folder, manifest: manifest, shadowedBy: seen[name]))
            if seen[name] == nil { seen[name] = folder }
        }
        return entries
    }

    /// The plugin folder `path` names: a folder with a plugin.json, or a plugin.json itself.
    public static func folder(for path: String, relativeTo base: URL? = nil) -> URL {
        let url = URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL
        return url.lastPathComponent == "plugin.json" ? url.deletingLastPathComponent() : url
    }

    private func pluginFolders() -> [URL] {
        var folders: [URL] = []
        var visited = Set<String>()
        for root in searchPath {
            let root = root.standardizedFileURL
            let candidates: [URL]
            if Self.hasManifest(root) {
                candidates = [root]
            } else {
                let children = (try? FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: nil)) ?? []
                candidates = children.filter(Self.hasManifest).sorted { $0.lastPathComponent < $1.lastPathComponent }
            }
            for folder in candidates where visited.insert(folder.resolvingSymlinksInPath().path).inserted {
                folders.append(folder)
            }
        }
        return folders
    }

    private static func hasManifest(_ folder: URL) -> Bool {
        FileManager.default.fileExists(atPath: folder.appendingPathComponent("plugin.json").path)
    }
}

extension ProviderRegistry {
    /// Registers every usable plugin of `library` as an `ExternalProvider`. A plugin with a broken
    /// manifest, or named like a provider already registered, is left out and recorded in
    /// `unavailable` (so a profile that uses it gets a clear error).
    /// - Returns: what was found, for listing.
    @discardableResult
    public mutating func addPlugins(from library: PluginLibrary, hostVersion: String, grace: Duration = .seconds(2)) -> [PluginLibrary.Entry] {
        let entries = library.entries()
        for entry in entries where entry.shadowedBy == nil {
            switch entry.manifest {
            case .failure(let error):
                if provider(named: entry.name) == nil { unavailable[entry.name] = error.message }
            case .success(let manifest):
                guard provider(named: manifest.name) == nil else { continue }
                register(ExternalProvider(manifest: manifest, hostVersion: hostVersion, grace: grace))
            }
        }
        return entries
    }
}
