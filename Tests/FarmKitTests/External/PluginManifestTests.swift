import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// plugin.json validation, discovery on the plugin path, and how plugins meet profiles and the cache.
@Suite struct PluginManifestTests {
    static let examples = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Plugins/examples")

    /// Writes `json` as FOLDER/plugin.json under `root`.
    @discardableResult
    static func write(_ json: String, in root: TemporaryDirectory, folder: String = "thing") throws -> URL {
        let url = root.file(folder)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try json.write(to: url.appendingPathComponent("plugin.json"), atomically: true, encoding: .utf8)
        return url
    }

    static let minimal = """
        {"protocol": 1, "name": "thing", "version": "2.1", "command": ["./run"],
         "stages": [{"name": "make", "outputs": [{"name": "out", "kind": "image"}]}]}
        """

    @Test func theExamplesAreValid() throws {
        for name in ["captions", "grade", "poster"] {
            let manifest = try PluginManifest(folder: Self.examples.appendingPathComponent(name))
            #expect(manifest.name == name)
            #expect(!manifest.stages.isEmpty)
        }
        let captions = try PluginManifest(folder: Self.examples.appendingPathComponent("captions"))
        let burn = try #require(captions.stage(named: "burn"))
        #expect(burn.parameters.first { $0.name == "position" }?.choices == ["top", "center", "bottom"])
        #expect(burn.parameters.first { $0.name == "font_size" }?.range == 8...200)
        #expect(burn.parameters.first { $0.name == "text" }?.required == true)
        #expect(burn.timeout == .seconds(120))
    }

    @Test func defaultsApply() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let manifest = try PluginManifest(folder: try Self.write(Self.minimal, in: root))
        #expect(manifest.concurrency == 1 && manifest.retries == 1)
        #expect(manifest.startTimeout == .seconds(20))
        let stage = try #require(manifest.stages.first)
        #expect(stage.version == 1 && stage.isDeterministic && stage.inputs.isEmpty && stage.timeout == .seconds(300))
    }

    @Test(arguments: [
        (#"{"protocol": 1, "name": "thing", "version": "1", "comand": ["x"], "stages": []}"#,
         #"field "comand": unknown field"#, "did you mean \"command\"?"),
        (#"{"protocol": 2, "name": "thing", "version": "1", "command": ["x"], "stages": []}"#,
         #"field "protocol": protocol 2 is not spoken by this farm (it speaks 1)"#, nil),
        (#"{"protocol": 1, "name": "Thing", "version": "1", "command": ["x"], "stages": []}"#,
         #"field "name": "Thing" is not a valid name"#, nil),
        (#"{"protocol": 1, "name": "thing", "command": ["x"], "stages": []}"#, #"field "version": missing"#, "cache key"),
        (#"{"protocol": 1, "name": "thing", "version": "1", "command": "python3 x.py", "stages": []}"#,
         #"field "command": expected a non-empty array of non-empty strings (argv; no shell)"#, nil),
        (#"{"protocol": 1, "name": "thing", "version": "1", "command": ["x"], "stages": []}"#,
         #"field "stages": expected a non-empty array of stages"#, nil),
        (#"{"protocol": 1, "name": "thing", "version": "1", "command": ["x"], "stages": [{"name": "a", "outputs": [{"name": "o", "kind": "movie"}]}]}"#,
         #"field "stages[0].outputs[0].kind": missing or unknown: use one of audio, image, video, archive, file"#, nil),
        (#"{"protocol": 1, "name": "thing", "version": "1", "command": ["x"], "stages": [{"name": "a", "outputs": []}]}"#,
         #"field "stages[0].outputs": missing: a stage makes at least one file"#, nil),
        (#"{"protocol": 1, "name": "thing", "version": "1", "command": ["x"], "stages": [{"name": "a", "outputs": [{"name": "o", "kind": "file"}], "params": [{"name": "n", "type": "integer", "default": 50, "min": 0, "max": 10}]}]}"#,
         #"field "stages[0].params[0].default": 50 is outside 0…10"#, nil),
        (#"{"protocol": 1, "name": "thing", "version": "1", "command": ["x"], "stages": [{"name": "a", "outputs": [{"name": "o", "kind": "file"}], "params": [{"name": "n", "type": "string", "required": true, "default": "x"}]}]}"#,
         #"field "stages[0].params[0].default": a required parameter has no default"#, nil),
        (#"{"protocol": 1, "name": "thing", "version": "1", "command": ["x"], "stages": [{"name": "a", "outputs": [{"name": "o", "kind": "file"}]}, {"name": "a", "outputs": [{"name": "o", "kind": "file"}]}]}"#,
         #"field "stages[1].name": stage "a" is declared twice"#, nil),
        (#"{"protocol": 1, "name": "thing", "version": "1", "command": ["x"], "stages": [{"name": "a", "outputs": [{"name": "o", "kind": "file"}], "timeout_seconds": 0}]}"#,
         #"field "stages[0].timeout_seconds": expected a number of seconds above 0, got 0"#, nil),
    ])
    func invalidManifestsNameTheFileAndTheField(json: String, problem: String, hint: String?) throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let folder = try Self.write(json, in: root)
        let error = try #require(throws: PluginError.self) { try PluginManifest(folder: folder) }
        #expect(error.message.hasPrefix(folder.appendingPathComponent("plugin.json").path + ": " + problem), "\(error.message)")
        if let hint { #expect(error.hint?.contains(hint) == true, "\(error.hint ?? "")") }
        #expect(error.exitCode == ExitStatus.badInput)
    }

    @Test func invalidJSONGivesLineAndColumn() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let folder = try Self.write("{\n  \"protocol\": 1,\n  \"name\" \"x\"\n}", in: root)
        let error = try #require(throws: PluginError.self) { try PluginManifest(folder: folder) }
        #expect(error.message.contains("plugin.json: invalid JSON at line 3"), "\(error.message)")
    }

    @Test func discoveryFollowsThePathAndTheFirstOfANameWins() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let first = root.file("first"), second = root.file("second")
        try Self.write(Self.minimal, in: root, folder: "first/thing")
        try Self.write(Self.minimal.replacingOccurrences(of: "\"2.1\"", with: "\"3.0\""), in: root, folder: "second/thing")
        try Self.write(#"{"protocol": 1}"#, in: root, folder: "second/broken")
        // A path entry may also be a plugin folder itself.
        let single = try Self.write(Self.minimal.replacingOccurrences(of: "\"thing\"", with: "\"solo\""), in: root, folder: "solo-folder")

        let library = PluginLibrary.standard(environment: [
            "FARM_PLUGIN_PATH": [first.path, second.path, single.path].joined(separator: ":"),
            "XDG_CONFIG_HOME": root.file("config").path, "HOME": root.url.path, "FARM_SHARE": root.file("no-share").path,
        ])
        let entries = library.entries().filter { $0.folder.path.hasPrefix(root.url.path) }
        #expect(entries.map(\.name) == ["thing", "broken", "thing", "solo"])
        #expect(entries[0].shadowedBy == nil && entries[2].shadowedBy == entries[0].folder)
        #expect(try entries[0].manifest.get().version == "2.1")

        var registry = ProviderRegistry()
        registry.addPlugins(from: PluginLibrary(searchPath: [first, second, single]), hostVersion: "test")
        #expect(registry.stageNames == ["solo.make", "thing.make"])
        #expect((registry.provider(named: "thing") as? ExternalProvider)?.manifest.version == "2.1")
        #expect(registry.unavailable["broken"]?.contains("field \"name\": missing") == true)
        #expect(library.searchPath.map(\.path).contains(root.file("config/farm/plugins").path))
    }

    @Test func aPluginCannotReplaceABuiltInProvider() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        try Self.write(Self.minimal.replacingOccurrences(of: "\"thing\"", with: "\"test\""), in: root, folder: "test")
        var registry = ProviderRegistry([TestProvider(recorder: StageRecorder())])
        registry.addPlugins(from: PluginLibrary(searchPath: [root.url]), hostVersion: "test")
        #expect(registry.provider(named: "test") is TestProvider)
    }

    @Test func profilesAreCheckedAgainstTheManifestAndABrokenPluginIsNamed() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        try Self.write(Self.minimal, in: root, folder: "plugins/thing")
        try Self.write(#"{"protocol": 1, "name": "broken"}"#, in: root, folder: "plugins/broken")
        var registry = ProviderRegistry()
        registry.addPlugins(from: PluginLibrary(searchPath: [root.file("plugins")]), hostVersion: "test")
        let profiles = root.file("profiles")
        try FileManager.default.createDirectory(at: profiles, withIntermediateDirectories: true)
        try #"{"subject": "demo", "stages": {"still": {"use": "thing.make", "with": {"size": 3}}}, "output": "still.out"}"#
            .write(to: profiles.appendingPathComponent("unknown-param.json"), atomically: true, encoding: .utf8)
        try #"{"subject": "demo", "stages": {"still": {"use": "broken.make"}}, "output": "still.out"}"#
            .write(to: profiles.appendingPathComponent("uses-broken.json"), atomically: true, encoding: .utf8)
        let library = ProfileLibrary(searchPath: [profiles])
        let resolver = ProfileResolver(registry: registry)

        let unknown = try #require(throws: ProfileError.self) { try resolver.resolve(try library.load("unknown-param"), subject: .demo) }
        #expect(unknown.message.contains("stage \"still\""), "\(unknown.message)")
        #expect(unknown.message.contains("size"), "\(unknown.message)")
        let broken = try #require(throws: ProfileError.self) { try resolver.resolve(try library.load("uses-broken"), subject: .demo) }
        #expect(broken.message.contains("provider \"broken\" could not be loaded: "), "\(broken.message)")
        #expect(broken.message.contains("field \"version\": missing"), "\(broken.message)")
    }

    @Test func theCacheIdentityHoldsThePluginVersionAndTheManifestDigest() async throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let one = try PluginManifest(folder: try Self.write(Self.minimal, in: root, folder: "one"))
        let spaced = try PluginManifest(folder: try Self.write(Self.minimal.replacingOccurrences(of: ", ", with: ",   "), in: root, folder: "two"))
        let bumped = try PluginManifest(folder: try Self.write(Self.minimal.replacingOccurrences(of: "\"2.1\"", with: "\"2.2\""), in: root, folder: "three"))
        #expect(one.digest == spaced.digest, "formatting does not change the digest")
        #expect(one.digest != bumped.digest)

        func identity(_ manifest: PluginManifest) async throws -> JSON? {
            let stage = ExternalProvider(manifest: manifest, hostVersion: "test").stages()[0]
            #expect(stage.id.description == "thing.make@1")
            return try await stage.cacheIdentity(StageRequest(inputs: [:], parameters: [:])) { _ in "" }
        }
        let identityOne = try await identity(one)
        #expect(identityOne == ["plugin": "thing", "version": "2.1", "manifest": .string(one.digest)])
        #expect(try await identity(bumped) != identityOne)
    }
}
