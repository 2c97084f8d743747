import Foundation

/// Finds profiles by name on a search path and loads them, following `extends`.
public struct ProfileLibrary: Sendable {
    /// Folders searched in order; the first folder holding `NAME.json` wins.
    public let searchPath: [URL]

    public init(searchPath: [URL]) {
        self.searchPath = searchPath
    }

    /// The standard search path: `$FARM_PROFILE_PATH` (colon separated), the user's folder
    /// (`$XDG_CONFIG_HOME/farm/profiles`, default `~/.config/farm/profiles`), then the built-in
    /// profiles that ship with farm.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> ProfileLibrary {
        var path: [URL] = []
        if let extra = environment["FARM_PROFILE_PATH"] {
            path += extra.split(separator: ":").map { URL(fileURLWithPath: String($0), isDirectory: true) }
        }
        path.append(UserFolders.config(environment: environment).appendingPathComponent("profiles", isDirectory: true))
        if let builtIn = InstallLayout.builtInFolder("profiles") { path.append(builtIn) }
        return ProfileLibrary(searchPath: path)
    }

    /// A short description of one profile file.
    public struct Entry: Sendable {
        public let name: String
        public let file: String
        public let description: String?
        public let extends: String?
    }

    /// Every profile on the search path (the first of each name), sorted by name.
    public func entries() -> [Entry] {
        var seen = Set<String>()
        var entries: [Entry] = []
        for folder in searchPath {
            let files = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
            for file in files.sorted(by: { $0.path < $1.path }) where file.pathExtension == "json" {
                let name = file.deletingPathExtension().lastPathComponent
                guard seen.insert(name).inserted else { continue }
                let document = try? ProfileDocument(contentsOf: file)
                entries.append(Entry(name: name, file: file.path, description: document?.description, extends: document?.extends))
            }
        }
        return entries.sorted { $0.name < $1.name }
    }

    /// Loads a profile by name (`vivid`) or by path (`./my.json`), following `extends`.
    public func load(_ nameOrPath: String) throws -> Profile {
        var chain: [ProfileDocument] = []
        var visited: [String] = []
        var next: (reference: String, from: String?)? = (nameOrPath, nil)
        while let (reference, from) = next {
            let url = try locate(reference, referencedFrom: from)
            guard !visited.contains(url.path) else {
                throw ProfileError(file: from ?? url.path, field: "extends",
                                   "profiles extend each other in a loop: \((visited + [url.path]).joined(separator: " → "))")
            }
            visited.append(url.path)
            let document = try ProfileDocument(contentsOf: url)
            chain.insert(document, at: 0)
            next = document.extends.map { ($0, document.file) }
        }
        return try Profile(chain: chain)
    }

    private func locate(_ reference: String, referencedFrom: String?) throws -> URL {
        if reference.contains("/") || reference.hasSuffix(".json") {
            let base = referencedFrom.map { URL(fileURLWithPath: $0).deletingLastPathComponent() }
            let url = URL(fileURLWithPath: reference, relativeTo: base).standardizedFileURL
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ProfileError(file: referencedFrom ?? reference, field: referencedFrom == nil ? nil : "extends",
                                   "profile file not found: \(url.path)",
                                   hint: "check the path; farm profiles list shows the profiles farm can find by name")
            }
            return url
        }
        for folder in searchPath {
            let url = folder.appendingPathComponent(reference + ".json")
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        let known = entries().map(\.name)
        var hint = "known profiles: " + (known.isEmpty ? "none" : known.joined(separator: ", "))
        if let match = closest(to: reference, in: known) { hint = "did you mean \"\(match)\"? " + hint }
        throw ProfileError(file: referencedFrom ?? "profile \"\(reference)\"", field: referencedFrom == nil ? nil : "extends",
                           "unknown profile \"\(reference)\" (searched \(searchPath.map(\.path).joined(separator: ", ")))", hint: hint)
    }
}
