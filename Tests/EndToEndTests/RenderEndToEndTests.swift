import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// A fresh FARM_HOME, working folder and system temporary folder (TMPDIR) per test, and the real
/// `farm` binary.
struct Sandbox {
    let root: TemporaryDirectory
    let farm: FarmCLI

    init(environment: [String: String] = [:]) throws {
        root = try TemporaryDirectory("farm-e2e")
        let work = root.file("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.file("tmp"), withIntermediateDirectories: true)
        farm = FarmCLI(home: root.file("home"), workingDirectory: work, environment: ["TMPDIR": root.file("tmp").path].merging(environment) { $1 })
    }

    func file(_ name: String) -> URL { farm.workingDirectory.appendingPathComponent(name) }
    func remove() { root.remove() }

    /// Every file under FARM_HOME, relative to it.
    var homeFiles: [String] {
        FileManager.default.enumerator(atPath: farm.home.path)?.allObjects as? [String] ?? []
    }

    var temporaryFiles: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: farm.home.appendingPathComponent("tmp").path)) ?? []
    }

    /// What farm left in its system temporary folder (TMPDIR).
    var systemTemporaryFiles: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: root.file("tmp").path)) ?? []
    }
}

extension FarmCLI.Result {
    /// The `finished` event of a `--json` run.
    func finished() throws -> JSONObject {
        let last = try #require(try jsonLines().last?.objectValue)
        #expect(last["event"] == "finished")
        return last
    }

    func stageStatuses() throws -> [String: String] {
        try finished()["stages"]!.objectValue!.dictionary.mapValues { $0["status"]!.stringValue! }
    }
}

@Suite(.serialized) struct RenderEndToEndTests {
    @Test func offlineRenderMakesAWatchableVideoAndARepeatIsFullyCached() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let song = try await TestMedia.mp3(seconds: 6, to: sandbox.file("song.mp3"), title: "Test Tune")
        let first = try await sandbox.farm.run(["render", "--profile", "offline", "--song", song.path, "--out", "out.mp4", "--json"])
        #expect(first.status == 0, "stderr: \(first.standardError)")
        let summary = try first.finished()
        #expect(summary["status"] == "succeeded")
        #expect(summary["output"]?.stringValue == sandbox.file("out.mp4").path)
        #expect(try first.stageStatuses() == ["song": "succeeded", "portrait": "succeeded", "cover": "succeeded", "sound": "succeeded",
                                              "vocals": "succeeded", "performance": "succeeded", "video": "succeeded"])
        let events = try first.jsonLines().compactMap { $0.objectValue }
        #expect(events.first?["event"] == "started")
        #expect(events.allSatisfy { $0["event"] != nil })

        let info = try await FFmpeg().probe(sandbox.file("out.mp4"))
        #expect(info.video?.codec == "h264")
        #expect(info.audio?.codec == "aac")
        let songInfo = try await FFmpeg().probe(song)
        #expect(abs((info.duration ?? 0) - (songInfo.duration ?? 0)) < 0.2)

        for (name, stage) in try #require(summary["stages"]?.objectValue).dictionary {
            #expect(stage["cached"] == false, "\(name)")
            #expect(stage["seconds"]?.doubleValue != nil, "\(name): \(stage)")
        }

        let second = try await sandbox.farm.run(["render", "--profile", "offline", "--song", song.path, "--out", "again.mp4", "--json"])
        #expect(second.status == 0, "stderr: \(second.standardError)")
        let repeated = try second.stageStatuses()
        #expect(repeated.count == 7 && repeated.values.allSatisfy { $0 == "cached" }, "\(repeated)")
        let again = try second.finished()
        for (name, stage) in try #require(again["stages"]?.objectValue).dictionary {
            #expect(stage["cached"] == true, "\(name): \(stage)")
            #expect(stage["seconds"]?.doubleValue != nil, "\(name): \(stage)")
        }
        // Speed is farm-bench's to judge (figure 4); the figure is printed here for the log.
        print("render: a fully cached repeat took farm \(try #require(again["seconds"]?.doubleValue)) s")
        #expect(try Data(contentsOf: sandbox.file("again.mp4")) == Data(contentsOf: sandbox.file("out.mp4")))
        #expect(sandbox.temporaryFiles.isEmpty)
    }

    /// The README's first command, `scripts/demo`, with the debug binary: the demo song and training
    /// inputs made by the repository's scripts, then the `farm` lines of scripts/demo itself (train
    /// `demo-singer`, render with the offline profile), run as the script runs them.
    @Test func theReadmeDemoMakesAWatchableVideoOfTheDemoSong() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let scripts = Self.repository.appendingPathComponent("scripts")
        let demo = try String(contentsOf: scripts.appendingPathComponent("demo"), encoding: .utf8)
        for (script, output) in [("make-demo-song", "demo/demo-song.mp3"), ("make-demo-training", "demo/training")] {
            #expect(demo.contains("scripts/\(script) \(output)\n"), "scripts/demo runs \(script) \(output)")
            let made = try await ProcessRunner.run(scripts.appendingPathComponent(script).path, [sandbox.file(output).path])
            #expect(made.status == 0, "\(script): \(made.standardError)")
        }
        let commands = Self.farmCommands(in: demo)
        #expect(commands.map { $0.first } == ["train", "render"], "\(commands)")
        for command in commands {
            let result = try await sandbox.farm.run(command)
            #expect(result.status == 0, "farm \(command.joined(separator: " ")): \(result.standardError)")
            if command.first == "render" {
                #expect(result.standardOutput == sandbox.file("demo/demo.mp4").path + "\n", "it prints the path of the video")
            }
        }
        let song = try await FFmpeg().probe(sandbox.file("demo/demo-song.mp3"))
        #expect(abs((song.duration ?? 0) - 20) < 0.1, "the demo song is 20 s long")
        let video = try await FFmpeg().probe(sandbox.file("demo/demo.mp4"))
        #expect(video.video?.codec == "h264")
        #expect(video.audio?.codec == "aac")
        #expect(abs((video.duration ?? 0) - (song.duration ?? 0)) < 0.2, "video \(video.duration ?? 0) s, song \(song.duration ?? 0) s")
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The arguments of each `"$farm" …` command in a script (continued lines joined), without the
    /// script's `"$@"` and redirections.
    static func farmCommands(in script: String) -> [[String]] {
        script.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("\"$farm\" ") }
            .map { line in line.split(separator: " ").dropFirst().map(String.init).filter { $0 != "\"$@\"" && !$0.hasPrefix(">") } }
    }

    @Test func changingOneParameterRerunsOnlyThatStageAndItsDependents() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let song = try await TestMedia.sineWAV(seconds: 3, to: sandbox.file("song.wav"))
        let first = try await sandbox.farm.run(["render", "--profile", "offline", "--song", song.path, "--json"])
        #expect(first.status == 0, "stderr: \(first.standardError)")
        let changed = try await sandbox.farm.run(["render", "--profile", "offline", "--song", song.path, "--set", "portrait.seed=99", "--json"])
        #expect(changed.status == 0, "stderr: \(changed.standardError)")
        #expect(try changed.stageStatuses() == ["song": "cached", "portrait": "succeeded", "cover": "cached", "sound": "cached",
                                                "vocals": "cached", "performance": "succeeded", "video": "succeeded"])
        #expect(FileManager.default.fileExists(atPath: sandbox.file("demo-song.mp4").path))
    }

    @Test func humanOutputShowsASummaryTableAndThePath() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let song = try await TestMedia.sineWAV(seconds: 2, to: sandbox.file("tone.wav"))
        let result = try await sandbox.farm.run(["render", "--profile", "offline", "--song", song.path])
        #expect(result.status == 0)
        #expect(result.standardOutput == sandbox.file("demo-tone.mp4").path + "\n")
        #expect(result.standardError.contains("stage"))
        #expect(result.standardError.contains("performance  offline"))
        #expect(result.standardError.contains("succeeded in"))
        // Not a terminal: one plain line per change, no live table.
        #expect(result.standardError.contains("portrait: running\n"))
        #expect(result.standardError.contains(/portrait: succeeded \(\d+\.\d+s\)\n/), "\(result.standardError)")
        #expect(result.standardError.contains(/performance: succeeded \(\d+\.\d+s\)\n/))
        #expect(!result.standardError.contains("\u{1B}["), "no terminal escapes")

        let runs = try await sandbox.farm.run(["runs", "list"])
        #expect(runs.status == 0)
        #expect(runs.standardOutput.contains("succeeded"))
        let id = try #require(runs.standardOutput.split(separator: "\n").dropFirst().first?.split(separator: " ").first)
        let show = try await sandbox.farm.run(["runs", "show", String(id)])
        #expect(show.status == 0)
        #expect(show.standardOutput.contains("offline.face+chunked@1"))

        let usage = try await sandbox.farm.run(["cache", "du"])
        #expect(usage.standardOutput.contains("cache entries  8"), "seven stages and the one chunk of the face")
        let gc = try await sandbox.farm.run(["cache", "gc", "--all"])
        #expect(gc.status == 0)
        #expect(gc.standardOutput.contains("removed 8 cache entries"))
        let again = try await sandbox.farm.run(["render", "--profile", "offline", "--song", song.path, "--json"])
        #expect(try again.stageStatuses().values.allSatisfy { $0 == "succeeded" })
    }

    @Test func ctrlCInterruptsCleanlyAndTheNextRunResumesFromTheCache() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let song = try await TestMedia.sineWAV(seconds: 40, to: sandbox.file("long.wav"))
        let interrupted = try await sandbox.farm.run(
            ["render", "--profile", "offline", "--song", song.path, "--out", "long.mp4", "--json"],
            interruptWhen: { $0.contains("\"stage\":\"performance\",\"status\":\"running\"") })
        #expect(interrupted.status == 130, "stderr: \(interrupted.standardError)")
        let statuses = try interrupted.stageStatuses()
        #expect(try interrupted.finished()["status"] == "interrupted")
        #expect(statuses["performance"] == "interrupted")
        #expect(statuses["vocals"] == "succeeded")
        #expect(!FileManager.default.fileExists(atPath: sandbox.file("long.mp4").path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: sandbox.farm.workingDirectory.path).filter { $0.hasSuffix(".part") }
        #expect(leftovers.isEmpty)
        #expect(sandbox.temporaryFiles.isEmpty, "left in tmp/: \(sandbox.temporaryFiles)")

        let resumed = try await sandbox.farm.run(["render", "--profile", "offline", "--song", song.path, "--out", "long.mp4", "--json"])
        #expect(resumed.status == 0)
        let after = try resumed.stageStatuses()
        #expect(after["vocals"] == "cached" && after["song"] == "cached")
        #expect(after["performance"] == "succeeded")
    }

    @Test func vividWithoutATokenFailsBeforeAnyWork() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let song = try await TestMedia.sineWAV(seconds: 1, to: sandbox.file("song.wav"))
        _ = try await sandbox.farm.run(["subjects", "add", "alice", "--trigger", "TOK", "--lora", "farm-test/alice-flux",
                                        "--voice", "http://127.0.0.1:9/alice.zip"])
        let result = try await sandbox.farm.run(["render", "--profile", "vivid", "--subject", "alice", "--song", song.path])
        #expect(result.status == 2)
        #expect(result.standardError.contains("error: no Replicate API token"))
        #expect(result.standardError.contains("hint: "))
    }

    @Test func versionProvidersAndProfilesCommandsWork() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let version = try await sandbox.farm.run(["--version"])
        #expect(version.status == 0 && !version.standardOutput.isEmpty)
        let providers = try await sandbox.farm.run(["providers", "list"])
        for stage in ["fetch.song@1", "ffmpeg.mux@2", "ffmpeg.aac@1", "offline.image@1", "offline.voice@1", "offline.face@1"] {
            #expect(providers.standardOutput.contains(stage))
        }
        let profiles = try await sandbox.farm.run(["profiles", "list"])
        #expect(profiles.standardOutput.contains("offline") && profiles.standardOutput.contains("vivid"))
        let show = try await sandbox.farm.run(["profiles", "show", "offline"])
        #expect(show.status == 0)
        #expect(show.standardOutput.contains("portrait: offline.image@1 (swapped from replicate.flux-lora)"))
        #expect(show.standardOutput.contains("prompt = \"close-up portrait of DEMO"))
        _ = try await TestMedia.sineWAV(seconds: 1, to: sandbox.file("song.wav"))
        let dry = try await sandbox.farm.run(["render", "--profile", "offline", "--song", "song.wav", "--dry-run"])
        #expect(dry.status == 0, "\(dry.standardError)")
        #expect(dry.standardOutput.contains("source = \"song.wav\""))
        // A dry run checks the song as a render does: the same bad-input error.
        let missing = try await sandbox.farm.run(["render", "--profile", "offline", "--song", "x.mp3", "--dry-run"])
        let render = try await sandbox.farm.run(["render", "--profile", "offline", "--song", "x.mp3"])
        #expect(missing.status == 2)
        #expect(missing.standardError == "error: song file not found: \(sandbox.file("x.mp3").path)\nhint: check the path given to --song\n")
        #expect(render.status == 2 && render.standardError == missing.standardError)
        #expect(missing.standardOutput.isEmpty)
        let noFolder = try await sandbox.farm.run(["render", "--profile", "offline", "--song", "song.wav", "--out", "nowhere/out.mp4", "--dry-run"])
        #expect(noFolder.status == 2)
        #expect(noFolder.standardError.contains("error: output folder does not exist: \(sandbox.file("nowhere").path)"))
        #expect(sandbox.homeFiles.isEmpty, "a dry run writes nothing")
    }
}
