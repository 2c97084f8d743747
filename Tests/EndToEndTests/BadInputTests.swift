import FarmKit
import FarmTestSupport
import Foundation
import Testing

extension Sandbox {
    /// Runs `farm render` with `arguments` and checks the bad-input contract: `error:` naming the
    /// thing (each of `words`), a `hint:`, exit code 2, no FARM_HOME contents and no output file.
    /// Returns what farm printed.
    @discardableResult
    func expectRejected(
        _ arguments: [String], saying words: [String], environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> FarmCLI.Result {
        var cli = farm
        cli.environment.merge(environment) { _, new in new }
        let result = try await cli.run(["render"] + arguments + ["--out", "out.mp4"])
        #expect(result.status == 2, "exit \(result.status), stderr: \(result.standardError)", sourceLocation: sourceLocation)
        let lines = result.standardError.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("error: ") == true, "stderr: \(result.standardError)", sourceLocation: sourceLocation)
        #expect(lines.contains { $0.hasPrefix("hint: ") }, "no hint in: \(result.standardError)", sourceLocation: sourceLocation)
        for word in words {
            #expect(result.standardError.contains(word), "\"\(word)\" missing from: \(result.standardError)", sourceLocation: sourceLocation)
        }
        #expect(!result.standardError.contains("Fatal error"), sourceLocation: sourceLocation)
        #expect(homeFiles.isEmpty, "FARM_HOME was written: \(homeFiles)", sourceLocation: sourceLocation)
        #expect(systemTemporaryFiles.isEmpty, "left in TMPDIR: \(systemTemporaryFiles)", sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: file("out.mp4").path), sourceLocation: sourceLocation)
        return result
    }
}

/// Each bad input gets `error:` naming the thing, a `hint:`, exit code 2, and nothing written:
/// no FARM_HOME contents and no output file.
@Suite struct BadInputTests {
    private func expectRejected(
        _ arguments: [String], in sandbox: Sandbox, saying words: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        try await sandbox.expectRejected(arguments, saying: words, sourceLocation: sourceLocation)
    }

    @Test func missingSongFile() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await expectRejected(["--profile", "offline", "--song", "nowhere.mp3"], in: sandbox, saying: ["nowhere.mp3"])
    }

    @Test func emptySongFile() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try Data().write(to: sandbox.file("empty.mp3"))
        try await expectRejected(["--profile", "offline", "--song", "empty.mp3"], in: sandbox, saying: ["empty.mp3", "empty"])
    }

    @Test func textFileNamedMP3() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try Data("these are the lyrics, not the song\n".utf8).write(to: sandbox.file("lyrics.mp3"))
        try await expectRejected(["--profile", "offline", "--song", "lyrics.mp3"], in: sandbox, saying: ["lyrics.mp3"])
    }

    @Test func truncatedMP3() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let whole = try await TestMedia.mp3(seconds: 8, to: sandbox.root.file("whole.mp3"))
        let size = try Data(contentsOf: whole).count
        try TestMedia.truncated(whole, keepingBytes: size / 2, to: sandbox.file("half.mp3"))
        try await expectRejected(["--profile", "offline", "--song", "half.mp3"], in: sandbox, saying: ["half.mp3"])
    }

    @Test func videoWithoutAudio() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await TestMedia.colorVideo(seconds: 2, to: sandbox.file("silent.mp4"))
        try await expectRejected(["--profile", "offline", "--song", "silent.mp4"], in: sandbox, saying: ["silent.mp4", "no audio"])
    }

    @Test func songLongerThanTheCap() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await TestMedia.sineWAV(seconds: 5, to: sandbox.file("long.wav"))
        try await expectRejected(["--profile", "offline", "--song", "long.wav", "--set", "song.max_seconds=2"], in: sandbox, saying: ["long.wav", "2"])
    }

    @Test func unknownProfile() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await expectRejected(["--profile", "ofline", "--song", "x.mp3"], in: sandbox, saying: ["unknown profile \"ofline\"", "did you mean \"offline\""])
    }

    @Test func profileWithInvalidJSONShowsLineAndColumn() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try Data("{\n  \"extends\": \"offline\",\n  \"subject\" \"demo\"\n}\n".utf8).write(to: sandbox.file("broken.json"))
        try await expectRejected(["--profile", "broken.json", "--song", "x.mp3"], in: sandbox, saying: ["broken.json", "line 3", "broken.json:3:"])
    }

    @Test func profileWithACycle() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try Data(#"{ "extends": "offline", "stages": { "portrait": { "with": { "prompt": "{{video.title}}" } } } }"#.utf8)
            .write(to: sandbox.file("loop.json"))
        try await expectRejected(["--profile", "loop.json", "--song", "x.mp3"], in: sandbox, saying: ["loop.json", "cycle", "portrait"])
    }

    @Test func unknownStageParameter() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await expectRejected(["--profile", "offline", "--song", "x.mp3", "--set", "portrait.sed=7"], in: sandbox,
                                 saying: ["portrait", "sed", "did you mean \"seed\""])
    }

    @Test func setOnAMissingStage() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await expectRejected(["--profile", "offline", "--song", "x.mp3", "--set", "poster.seed=7"], in: sandbox,
                                 saying: ["no stage \"poster\"", "portrait"])
    }

    @Test func unwritableFarmHome() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await TestMedia.sineWAV(seconds: 1, to: sandbox.file("song.wav"))
        // A path below a regular file can never be created, even by root.
        try Data().write(to: sandbox.root.file("blocker"))
        let result = try await sandbox.farm.run(["render", "--profile", "offline", "--song", "song.wav", "--home", sandbox.root.file("blocker/home").path])
        #expect(result.status == 2, "stderr: \(result.standardError)")
        #expect(result.standardError.hasPrefix("error: "))
        #expect(result.standardError.contains("blocker/home"))
        #expect(result.standardError.contains("hint: "))
    }

    @Test func unwritableOutputFolder() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await TestMedia.sineWAV(seconds: 1, to: sandbox.file("song.wav"))
        let result = try await sandbox.farm.run(["render", "--profile", "offline", "--song", "song.wav", "--out", "missing/folder/out.mp4"])
        #expect(result.status == 2)
        #expect(result.standardError.contains("error: output folder does not exist"))
        #expect(result.standardError.contains("hint: "))
        #expect(sandbox.homeFiles.isEmpty)
    }
}

/// FARM_HOME or the output folder where nothing may be written: a read-only mount as root (whom
/// permission bits do not stop), mode 0555 otherwise. Refused up front, by a render and a dry run
/// alike: exit 2, `error:` naming the path, a `hint:`, no output file, the store untouched.
@Suite(.enabled(if: ReadOnlyFolder.isAvailable, "running as root without permission to mount a tmpfs: root writes through mode 0555"))
struct UnwritablePlaceTests {
    private func expectRefused(
        _ result: FarmCLI.Result, saying message: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let lines = result.standardError.split(separator: "\n").map(String.init)
        #expect(result.status == 2, "exit \(result.status), stderr: \(result.standardError)", sourceLocation: sourceLocation)
        #expect(lines.first == "error: \(message)", "stderr: \(result.standardError)", sourceLocation: sourceLocation)
        #expect(lines.contains { $0.hasPrefix("hint: ") }, "no hint in: \(result.standardError)", sourceLocation: sourceLocation)
    }

    /// Every file under `folder` with its size and modification time.
    private func snapshot(_ folder: URL) throws -> [String: String] {
        var files: [String: String] = [:]
        for case let path as String in FileManager.default.enumerator(atPath: folder.path)?.allObjects ?? [] {
            let attributes = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(path).path)
            files[path] = "\(attributes[.size] ?? 0) \((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
        }
        return files
    }

    @Test func farmHomeHoldingAStoreMadeReadOnly() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await TestMedia.sineWAV(seconds: 1, to: sandbox.file("song.wav"))
        let home = try ReadOnlyFolder(at: sandbox.root.file("locked-home"))
        defer { home.release() }
        var farm = sandbox.farm
        farm.environment["FARM_HOME"] = home.url.path
        let first = try await farm.run(["render", "--profile", "offline", "--song", "song.wav", "--out", "first.mp4"])
        #expect(first.status == 0, "stderr: \(first.standardError)")
        try home.lock()
        let before = try snapshot(home.url)
        #expect(before["farm.sqlite"] != nil)

        for dryRun in [[], ["--dry-run"]] {
            let result = try await farm.run(["render", "--profile", "offline", "--song", "song.wav", "--out", "out.mp4"] + dryRun)
            expectRefused(result, saying: "FARM_HOME \(home.url.path) is not writable")
            #expect(!FileManager.default.fileExists(atPath: sandbox.file("out.mp4").path))
        }
        #expect(try snapshot(home.url) == before, "the store changed")
    }

    @Test func emptyFarmHomeOrOneToMakeInAReadOnlyFolder() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await TestMedia.sineWAV(seconds: 1, to: sandbox.file("song.wav"))
        let locked = try ReadOnlyFolder(at: sandbox.root.file("locked"))
        defer { locked.release() }
        try locked.lock()
        let below = locked.url.appendingPathComponent("farm")
        for (home, message) in [(locked.url, "FARM_HOME \(locked.url.path) is not writable"),
                                (below, "cannot create FARM_HOME \(below.path): \(locked.url.path): Read-only file system")] {
            var farm = sandbox.farm
            farm.environment["FARM_HOME"] = home.path
            for dryRun in [[], ["--dry-run"]] {
                let result = try await farm.run(["render", "--profile", "offline", "--song", "song.wav", "--out", "out.mp4"] + dryRun)
                expectRefused(result, saying: geteuid() == 0 ? message : message.replacingOccurrences(of: "Read-only file system", with: "Permission denied"))
                #expect(!FileManager.default.fileExists(atPath: sandbox.file("out.mp4").path))
            }
        }
        #expect(try snapshot(locked.url).isEmpty)
    }

    @Test func existingOutputFolderMadeReadOnly() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await TestMedia.sineWAV(seconds: 1, to: sandbox.file("song.wav"))
        let folder = try ReadOnlyFolder(at: sandbox.file("videos"))
        defer { folder.release() }
        try folder.lock()
        // A file path in the folder, and the folder itself (the video gets its default name there).
        for out in ["videos/out.mp4", "videos"] {
            for dryRun in [[], ["--dry-run"]] {
                let result = try await sandbox.farm.run(["render", "--profile", "offline", "--song", "song.wav", "--out", out] + dryRun)
                expectRefused(result, saying: "output folder is not writable: \(folder.url.path)")
                #expect(sandbox.homeFiles.isEmpty, "FARM_HOME was written: \(sandbox.homeFiles)")
            }
        }
        #expect(try snapshot(folder.url).isEmpty)
    }
}
