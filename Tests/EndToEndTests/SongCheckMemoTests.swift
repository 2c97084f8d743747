import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// A repeated render of the same local song does not probe and decode it again (its checks and
/// title are remembered by the song's digest); a song whose bytes changed is checked afresh.
@Suite struct SongCheckMemoTests {
    /// `ffmpeg` and `ffprobe` in a folder put first on farm's PATH: each records its arguments in
    /// `calls.log`, then becomes the real program.
    struct RecordingTools {
        let folder: TemporaryDirectory
        var log: URL { folder.file("calls.log") }

        init() throws {
            folder = try TemporaryDirectory("farm-tools")
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            for name in ["ffmpeg", "ffprobe"] {
                let real = try #require(
                    path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) },
                    "\(name) is not on PATH")
                let script = """
                    #!/usr/bin/env python3
                    import json, os, sys
                    with open(\(JSON.string(log.path).compactString), "a") as log:
                        log.write(json.dumps(sys.argv[1:]) + "\\n")
                    os.execv(\(JSON.string(real).compactString), [\(JSON.string(real).compactString)] + sys.argv[1:])
                    """
                let file = folder.file(name)
                try Data(script.utf8).write(to: file)
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path)
            }
        }

        var path: String { folder.url.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") }

        /// The recorded calls that name `file`; clears the log.
        func takeCalls(on file: URL) throws -> [String] {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: log)
            return text.split(separator: "\n").map(String.init).filter { $0.contains(file.path) }
        }
    }

    @Test func aRepeatDoesNotCheckTheSameSongAgainAndChangedBytesAreChecked() async throws {
        let tools = try RecordingTools()
        defer { tools.folder.remove() }
        let sandbox = try Sandbox(environment: ["PATH": tools.path])
        defer { sandbox.remove() }
        let song = try await TestMedia.mp3(seconds: 4, to: sandbox.file("song.mp3"), title: "Memo Tune")
        let render = ["render", "--profile", "offline", "--song", song.path, "--json"]

        let first = try await sandbox.farm.run(render)
        #expect(first.status == 0, "stderr: \(first.standardError)")
        #expect(try tools.takeCalls(on: song).count >= 2, "the first render probes and decodes the song")
        let output = try #require(try first.finished()["output"]?.stringValue)
        #expect(output.hasSuffix("memo-tune.mp4"), "the default name comes from the song's title: \(output)")

        let second = try await sandbox.farm.run(render)
        #expect(second.status == 0, "stderr: \(second.standardError)")
        #expect(try second.stageStatuses().values.allSatisfy { $0 == "cached" })
        #expect(try tools.takeCalls(on: song) == [], "the same bytes are not checked again")
        #expect(try second.finished()["output"]?.stringValue == output, "the remembered title names the output")

        // Other bytes under the same name: checked again, and a damaged file is refused as before.
        let whole = try Data(contentsOf: song)
        try whole.prefix(whole.count / 3).write(to: song)
        let third = try await sandbox.farm.run(render.filter { $0 != "--json" })
        #expect(third.status == 2, "stderr: \(third.standardError)")
        #expect(third.standardError.hasPrefix("error:"), "\(third.standardError)")
        #expect(try tools.takeCalls(on: song).count >= 1)
    }
}
