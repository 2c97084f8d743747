import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// Runs every case of `Tests/Fixtures/bad-inputs/corpus.json` against a FARM_HOME that already
/// holds a finished render: each must end with its exit code, an `error:` line with the expected
/// words, a `hint:`, no crash report, and the store exactly as it was.
@Suite struct BadInputCorpusTests {
    static let corpusFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/bad-inputs/corpus.json")

    @Test func everyBadInputIsRefusedCleanlyAndTheStoreIsUntouched() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let song = try await TestMedia.sineWAV(seconds: 2, to: sandbox.file("good.wav"))
        let first = try await sandbox.farm.run(["render", "--profile", "offline", "--song", song.path, "--out", "good.mp4"])
        #expect(first.status == 0, "stderr: \(first.standardError)")
        let taken = try await sandbox.farm.run(["subjects", "add", "taken", "--trigger", "TOK"])
        #expect(taken.status == 0, "stderr: \(taken.standardError)")
        let before = try await StoreSnapshot(of: sandbox)

        let corpus = try JSON.parse(contentsOf: Self.corpusFile)
        let cases = try #require(corpus["cases"]?.arrayValue)
        var kinds: [String: Int] = [:]
        for (index, entry) in cases.enumerated() {
            let name = entry["name"]?.stringValue ?? "case \(index)"
            kinds[entry["kind"]?.stringValue ?? "other", default: 0] += 1
            let folder = sandbox.root.file("cases/\(index)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let fill = { (text: String) in
                text.replacingOccurrences(of: "{case}", with: folder.path).replacingOccurrences(of: "{home}", with: sandbox.farm.home.path)
            }
            var madeInHome: [URL] = []
            for (path, spec) in entry["files"]?.objectValue?.dictionary ?? [:] {
                let filled = fill(path)
                let url = (filled.hasPrefix("/") ? URL(fileURLWithPath: filled) : folder.appendingPathComponent(filled)).standardizedFileURL
                if url.path.hasPrefix(sandbox.farm.home.path) { madeInHome.append(url) }
                try await Self.make(url, spec)
            }
            var environment = sandbox.farm.environment
            for (key, value) in entry["env"]?.objectValue?.dictionary ?? [:] { environment[key] = value.stringValue.map(fill) }
            let farm = FarmCLI(home: sandbox.farm.home, workingDirectory: folder, environment: environment)
            let arguments = (entry["args"]?.arrayValue ?? []).compactMap(\.stringValue).map(fill)
            let result = try await farm.run(arguments)

            let expectedExit = Int32(entry["exit"]?.intValue ?? 2)
            // `farm plugins check` is a checker: it reports on standard output, `✗ problem` then `hint:`.
            let isReport = entry["report"]?.boolValue == true
            let stderr = isReport ? result.standardOutput + result.standardError : result.standardError
            #expect(result.status == expectedExit, "\(name): exit \(result.status), stderr: \(stderr)")
            let lines = stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(lines.contains { $0.hasPrefix(isReport ? "✗ " : "error: ") }, "\(name): no error line in: \(stderr)")
            #expect(lines.contains { $0.hasPrefix("hint: ") }, "\(name): no hint in: \(stderr)")
            for word in (entry["says"]?.arrayValue ?? []).compactMap(\.stringValue).map(fill) {
                #expect(stderr.contains(word), "\(name): \"\(word)\" missing from: \(stderr)")
            }
            for crash in ["Fatal error", "Stack dump", "Backtrace", "💣", "Segmentation fault"] {
                #expect(!stderr.contains(crash), "\(name): a crash report: \(stderr)")
            }
            for url in madeInHome { try? FileManager.default.removeItem(at: url) }
            let after = try await StoreSnapshot(of: sandbox)
            #expect(after == before, "\(name): the store changed")
        }
        print("reliability: bad-input corpus: \(cases.count) bad inputs (\(kinds.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))), each refused with its message, store untouched")
        #expect(cases.count >= 40)
    }

    /// Makes one corpus file from its spec.
    static func make(_ url: URL, _ spec: JSON) async throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if let text = spec["text"]?.stringValue {
            try Data(text.utf8).write(to: url)
        } else if let seconds = spec["sine"]?.doubleValue {
            _ = try await TestMedia.sineWAV(seconds: seconds, to: url)
        } else if let seconds = spec["truncated_mp3"]?.doubleValue {
            let whole = url.deletingLastPathComponent().appendingPathComponent(".whole.mp3")
            _ = try await TestMedia.mp3(seconds: seconds, to: whole)
            _ = try TestMedia.truncated(whole, keepingBytes: try Data(contentsOf: whole).count / 2, to: url)
            try FileManager.default.removeItem(at: whole)
        } else if let seconds = spec["silent_video"]?.doubleValue {
            _ = try await TestMedia.colorVideo(seconds: seconds, to: url)
        } else if spec["png"] != nil {
            _ = try await FFmpeg().run(["-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", url.path])
        } else if let count = spec["bytes"]?.intValue {
            try Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }).write(to: url)
        } else if spec["wav_header_only"] != nil {
            let wav = url.deletingLastPathComponent().appendingPathComponent(".full.wav")
            _ = try await TestMedia.sineWAV(seconds: 1, to: wav)
            try Data(try Data(contentsOf: wav).prefix(44)).write(to: url)
            try FileManager.default.removeItem(at: wav)
        } else if spec["folder"] != nil {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } else {
            Issue.record("unknown file spec \(spec.compactString) for \(url.lastPathComponent)")
        }
    }
}

/// What a FARM_HOME holds that a refused command must not change: every file but the database's
/// own (compared through `farm runs list` instead), with its size.
struct StoreSnapshot: Equatable {
    let files: [String: Int]
    let runs: String

    init(of sandbox: Sandbox) async throws {
        var files: [String: Int] = [:]
        let home = sandbox.farm.home
        for path in sandbox.homeFiles where !path.hasPrefix("farm.sqlite") {
            let attributes = try FileManager.default.attributesOfItem(atPath: home.appendingPathComponent(path).path)
            files[path] = (attributes[.type] as? FileAttributeType) == .typeDirectory ? -1 : (attributes[.size] as? Int ?? 0)
        }
        self.files = files
        runs = try await sandbox.farm.run(["runs", "list", "--json"]).standardOutput
    }
}
