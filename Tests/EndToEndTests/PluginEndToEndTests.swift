import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// Out-of-process plugins through the real `farm` binary: the examples render end to end, commands
/// list and check them, and a broken plugin fails a render clearly without leaving processes.
@Suite(.serialized) struct PluginEndToEndTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures/plugins")

    /// A sandbox whose profile path is its own `profiles/` folder (first), with extra plugin folders.
    struct PluginSandbox {
        let sandbox: Sandbox
        var farm: FarmCLI

        init(plugins: [URL] = []) throws {
            sandbox = try Sandbox()
            try FileManager.default.createDirectory(at: sandbox.root.file("profiles"), withIntermediateDirectories: true)
            farm = sandbox.farm
            farm.environment["FARM_PROFILE_PATH"] = sandbox.root.file("profiles").path
            if !plugins.isEmpty { farm.environment["FARM_PLUGIN_PATH"] = plugins.map(\.path).joined(separator: ":") }
        }

        var root: TemporaryDirectory { sandbox.root }
        var temporaryFiles: [String] { sandbox.temporaryFiles }
        func file(_ name: String) -> URL { sandbox.file(name) }
        func remove() { sandbox.remove() }

        func writeProfile(_ name: String, _ json: String) throws {
            try json.write(to: sandbox.root.file("profiles/\(name).json"), atomically: true, encoding: .utf8)
        }
    }

    /// A plugin folder running Tests/Fixtures/plugins/misbehave.py with the given stages.
    static func misbehavingPlugin(stages: [String], in sandbox: PluginSandbox, deterministic: Bool = true) throws -> (folder: URL, pids: URL) {
        let folder = sandbox.root.file("plugins/misbehave"), pids = sandbox.root.file("pids")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: pids, withIntermediateDirectories: true)
        let manifest: JSON = [
            "protocol": 1, "name": "misbehave", "version": "1.0.0", "timeout_seconds": 60,
            "command": ["python3", .string(fixtures.appendingPathComponent("misbehave.py").path), "--stages", .string(stages.joined(separator: ",")),
                        "--pids", .string(pids.path)],
            "stages": .array(stages.map { ["name": .string($0), "outputs": [["name": "out", "kind": "file"]], "deterministic": .bool(deterministic)] }),
        ]
        try manifest.prettyString.write(to: folder.appendingPathComponent("plugin.json"), atomically: true, encoding: .utf8)
        return (folder, pids)
    }

    static func expectNoneAlive(_ pids: URL, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let recorded = ((try? FileManager.default.contentsOfDirectory(atPath: pids.path)) ?? []).compactMap(Int32.init)
        #expect(!recorded.isEmpty, sourceLocation: sourceLocation)
        let gone = try await ProcessTable.waitFor { recorded.allSatisfy { !ProcessTable.isAlive($0) } ? true : nil }
        #expect(gone == true, "still running: \(recorded.filter(ProcessTable.isAlive))", sourceLocation: sourceLocation)
        for pid in recorded where ProcessTable.isAlive(pid) { kill(pid, SIGKILL) }
    }

    @Test func offlineCaptionsRendersWithThePythonPluginAndARepeatIsCached() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let song = try await TestMedia.mp3(seconds: 4, to: sandbox.file("song.mp3"), title: "Plugin Tune")
        let first = try await sandbox.farm.run(["render", "--profile", "offline-captions", "--song", song.path, "--out", "out.mp4", "--json"])
        #expect(first.status == 0, "stderr: \(first.standardError)")
        let statuses = try first.stageStatuses()
        #expect(statuses["captioned"] == "succeeded" && statuses["video"] == "succeeded", "\(statuses)")
        let events = try first.jsonLines().compactMap(\.objectValue)
        #expect(events.contains { $0["event"] == "progress" && $0["stage"] == "captioned" })
        #expect(events.contains { $0["event"] == "log" && $0["stage"] == "captioned" && $0["line"]?.stringValue?.contains("Plugin Tune") == true })

        let info = try await FFmpeg().probe(sandbox.file("out.mp4"))
        #expect(info.video?.codec == "h264" && info.audio != nil)
        #expect(abs((info.duration ?? 0) - 4) < 0.3)
        #expect(ProcessTable.pids(commandLineContaining: "captions.py").isEmpty, "the plugin was shut down")

        let runs = try await sandbox.farm.run(["runs", "list", "--json"])
        let runID = try #require(try runs.jsonLines().first?["run"]?.stringValue)
        let show = try await sandbox.farm.run(["runs", "show", runID, "--json"])
        let stages = try #require(try show.jsonLines().first?["stages"]?.arrayValue)
        let captioned = try #require(stages.first { $0["stage"] == "captioned" })
        #expect(captioned["implementation"] == "captions.burn@1")
        #expect(captioned["metadata"]?["caption"] == "Plugin Tune")

        let second = try await sandbox.farm.run(["render", "--profile", "offline-captions", "--song", song.path, "--out", "again.mp4", "--json"])
        #expect(second.status == 0)
        #expect(try second.stageStatuses().values.allSatisfy { $0 == "cached" })
        #expect(try Data(contentsOf: sandbox.file("again.mp4")) == Data(contentsOf: sandbox.file("out.mp4")))
        #expect(sandbox.temporaryFiles.isEmpty)
    }

    @Test func theSwiftAndShellExamplesRunInOneRender() async throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        try sandbox.writeProfile("every-example", """
            {
              "extends": "offline-captions",
              "stages": {
                "graded": { "use": "grade.look", "from": { "video": "video.video" }, "with": { "saturation": 1.6 } },
                "captioned": { "from": { "video": "graded.video" } },
                "poster": { "use": "poster.frame", "from": { "video": "captioned.video" }, "with": { "at": 1.5 } }
              },
              "output": "poster.image"
            }
            """)
        let song = try await TestMedia.sineWAV(seconds: 3, to: sandbox.file("tone.wav"))
        let result = try await sandbox.farm.run(["render", "--profile", "every-example", "--song", song.path, "--out", "poster.png", "--json"])
        #expect(result.status == 0, "stderr: \(result.standardError) stdout: \(result.standardOutput.suffix(600))")
        let statuses = try result.stageStatuses()
        #expect(statuses["graded"] == "succeeded" && statuses["captioned"] == "succeeded" && statuses["poster"] == "succeeded", "\(statuses)")
        let info = try await FFmpeg().probe(sandbox.file("poster.png"))
        #expect(info.video?.codec == "png")
        #expect(ProcessTable.pids(commandLineContaining: "farm-example-grade").isEmpty)
        #expect(ProcessTable.pids(commandLineContaining: "poster.sh").isEmpty)
    }

    @Test func aPluginWrittenFromTheDocsAloneWorks() async throws {
        let sandbox = try PluginSandbox(plugins: [Self.fixtures.appendingPathComponent("mirror")])
        defer { sandbox.remove() }
        let check = try await sandbox.farm.run(["plugins", "check", Self.fixtures.appendingPathComponent("mirror").path])
        #expect(check.status == 0, "\(check.standardOutput)")
        try sandbox.writeProfile("mirrored", """
            { "extends": "offline",
              "stages": { "mirrored": { "use": "mirror.flip", "from": { "video": "video.video" }, "with": { "direction": "horizontal" } } },
              "output": "mirrored.video" }
            """)
        let song = try await TestMedia.sineWAV(seconds: 2, to: sandbox.file("tone.wav"))
        let result = try await sandbox.farm.run(["render", "--profile", "mirrored", "--song", song.path, "--out", "mirrored.mp4", "--json"])
        #expect(result.status == 0, "stderr: \(result.standardError) stdout: \(result.standardOutput.suffix(600))")
        #expect(try result.stageStatuses()["mirrored"] == "succeeded")
        #expect(try await FFmpeg().probe(sandbox.file("mirrored.mp4")).video?.codec == "h264")
    }

    @Test func providersPluginsAndChecksShowThePlugins() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let providers = try await sandbox.farm.run(["providers", "list"])
        #expect(providers.status == 0)
        for text in ["captions.burn@1: draws text over a video", "grade.look@1", "poster.frame@1", "plugin 1.0.0 in ",
                     "- position: string, default \"bottom\", one of \"top\" | \"center\" | \"bottom\"", "- text: string, required"] {
            #expect(providers.standardOutput.contains(text), "missing \(text)")
        }
        let list = try await sandbox.farm.run(["plugins", "list"])
        #expect(list.status == 0)
        for name in ["captions", "grade", "poster"] {
            #expect(list.standardOutput.split(separator: "\n").contains { $0.hasPrefix(name) && $0.contains(" ok ") }, "\(list.standardOutput)")
        }
        for name in ["captions", "grade", "poster"] {
            let check = try await sandbox.farm.run(["plugins", "check", Self.repository.appendingPathComponent("Plugins/examples/\(name)").path])
            #expect(check.status == 0, "\(check.standardOutput)")
            #expect(check.standardOutput.contains("✓ hello after"))
            #expect(check.standardOutput.contains("✓ shutdown: exited by itself"))
        }
        #expect(sandbox.homeFiles.isEmpty, "listing and checking plugins writes nothing")
    }

    @Test func checkCanRunAStageOnGivenFiles() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let clip = try await TestMedia.colorVideo(seconds: 2, to: sandbox.file("clip.mp4"))
        let poster = Self.repository.appendingPathComponent("Plugins/examples/poster").path
        let check = try await sandbox.farm.run(["plugins", "check", poster, "--run", "frame", "--input", "video=\(clip.path)", "--set", "at=0.5", "--out", "try"])
        #expect(check.status == 0, "\(check.standardOutput)")
        #expect(check.standardOutput.contains("✓ run poster.frame with at=0.5"), "\(check.standardOutput)")
        #expect(check.standardOutput.contains("| poster: frame at 0.5 s of "))
        #expect(check.standardOutput.contains("✓ result after "))
        #expect(try await FFmpeg().probe(sandbox.file("try/image.png")).video?.codec == "png")

        let late = try await sandbox.farm.run(["plugins", "check", poster, "--run", "frame", "--input", "video=\(clip.path)", "--set", "at=60"])
        #expect(late.status == 1)
        #expect(late.standardOutput.contains("✗ run failed: plugin \"poster\", stage \"frame\": ffmpeg made no frame"), "\(late.standardOutput)")
        let unknown = try await sandbox.farm.run(["plugins", "check", poster, "--run", "frame", "--input", "video=\(clip.path)", "--set", "size=3"])
        #expect(unknown.status == 1)
        #expect(unknown.standardOutput.contains("✗ run failed: the stage has no parameter \"size\""), "\(unknown.standardOutput)")
    }

    @Test func checkReportsABrokenPlugin() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let folder = sandbox.file("broken")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try #"{"protocol": 1, "name": "broken", "version": "1", "command": ["python3", "-c", "print('loading…', flush=True)"], "stages": [{"name": "x", "outputs": [{"name": "o", "kind": "file"}]}]}"#
            .write(to: folder.appendingPathComponent("plugin.json"), atomically: true, encoding: .utf8)
        let check = try await sandbox.farm.run(["plugins", "check", folder.path])
        #expect(check.status == 1)
        #expect(check.standardOutput.contains("✗ handshake failed: plugin \"broken\" broke the protocol: not a JSON object"), "\(check.standardOutput)")
        #expect(check.standardOutput.contains("\"loading…\""))

        try #"{"protocol": 1, "name": "broken"}"#.write(to: folder.appendingPathComponent("plugin.json"), atomically: true, encoding: .utf8)
        let invalid = try await sandbox.farm.run(["plugins", "check", folder.path])
        #expect(invalid.status == 1)
        #expect(invalid.standardOutput.contains("✗ \(folder.path)/plugin.json: field \"version\": missing"), "\(invalid.standardOutput)")
    }

    @Test func profilesAreCheckedAgainstThePluginBeforeAnythingRuns() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let song = try await TestMedia.sineWAV(seconds: 1, to: sandbox.file("tone.wav"))
        let bad = try await sandbox.farm.run(["render", "--profile", "offline-captions", "--song", song.path, "--set", "captioned.font_size=500"])
        #expect(bad.status == 2)
        #expect(bad.standardError.contains("500 is outside 8…200"), "\(bad.standardError)")
        #expect(sandbox.homeFiles.isEmpty, "nothing ran")
        let dry = try await sandbox.farm.run(["render", "--profile", "offline-captions", "--song", song.path, "--dry-run"])
        #expect(dry.status == 0)
        #expect(dry.standardOutput.contains("captions.burn@1"), "\(dry.standardOutput)")
        #expect(ProcessTable.pids(commandLineContaining: "captions.py").isEmpty, "a dry run starts no plugin")
    }

    @Test func aCrashingPluginFailsTheRenderWithItsNameAndLog() async throws {
        var sandbox = try PluginSandbox()
        let (folder, pids) = try Self.misbehavingPlugin(stages: ["crash"], in: sandbox)
        defer { sandbox.remove() }
        sandbox.farm.environment["FARM_PLUGIN_PATH"] = folder.path
        try sandbox.writeProfile("boom", #"{"subject": "demo", "stages": {"boom": {"use": "misbehave.crash"}}, "output": "boom.out"}"#)
        let result = try await sandbox.farm.run(["render", "--profile", "boom", "--out", "boom.txt"])
        #expect(result.status == 1)
        #expect(result.standardError.contains("stage boom failed: plugin \"misbehave\" exited (exit status 3) while running stage \"crash\""), "\(result.standardError)")
        #expect(result.standardError.contains("misbehave: about to crash"))
        try await Self.expectNoneAlive(pids)
    }

    /// docs/plugins.md §8: a stage marked `"deterministic": false` is cached like any other (as
    /// the AI stages are): a repeat reuses its output and does not start the plugin.
    @Test func aNonDeterministicPluginStageIsCachedToo() async throws {
        var sandbox = try PluginSandbox()
        let (folder, pids) = try Self.misbehavingPlugin(stages: ["ok"], in: sandbox, deterministic: false)
        defer { sandbox.remove() }
        sandbox.farm.environment["FARM_PLUGIN_PATH"] = folder.path
        let providers = try await sandbox.farm.run(["providers", "list"])
        #expect(providers.standardOutput.contains("misbehave.ok@1 (not deterministic)"), "\(providers.standardOutput)")
        try sandbox.writeProfile("take", #"{"subject": "demo", "stages": {"take": {"use": "misbehave.ok"}}, "output": "take.out"}"#)
        let first = try await sandbox.farm.run(["render", "--profile", "take", "--out", "one.txt", "--json"])
        #expect(first.status == 0, "\(first.standardError)")
        #expect(try first.stageStatuses() == ["take": "succeeded"])
        try await Self.expectNoneAlive(pids)
        try FileManager.default.removeItem(at: pids)
        try FileManager.default.createDirectory(at: pids, withIntermediateDirectories: true)
        let second = try await sandbox.farm.run(["render", "--profile", "take", "--out", "two.txt", "--json"])
        #expect(second.status == 0, "\(second.standardError)")
        #expect(try second.stageStatuses() == ["take": "cached"])
        #expect(try Data(contentsOf: sandbox.file("two.txt")) == Data(contentsOf: sandbox.file("one.txt")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: pids.path).isEmpty, "the plugin was not started again")
    }

    @Test func ctrlCStopsAPluginAndItsHelpers() async throws {
        var sandbox = try PluginSandbox()
        let (folder, pids) = try Self.misbehavingPlugin(stages: ["child"], in: sandbox)
        defer { sandbox.remove() }
        sandbox.farm.environment["FARM_PLUGIN_PATH"] = folder.path
        try sandbox.writeProfile("wait", #"{"subject": "demo", "stages": {"wait": {"use": "misbehave.child"}}, "output": "wait.out"}"#)
        let result = try await sandbox.farm.run(["render", "--profile", "wait", "--out", "wait.txt", "--json"],
                                        interruptWhen: { $0.contains("started helper") })
        #expect(result.status == 130, "\(result.standardError)")
        #expect(try result.finished()["status"] == "interrupted")
        try await Self.expectNoneAlive(pids)
        #expect(sandbox.temporaryFiles.isEmpty, "left in tmp/: \(sandbox.temporaryFiles)")
    }
}
