import FarmKit
import FarmTestSupport
import FetchProvider
import Foundation
import Synchronization
import Testing

/// The stage from the provider.
func songStage() throws -> any RenderStage {
    let provider = FetchProvider()
    #expect(provider.name == "fetch")
    return try #require(provider.stages().first { $0.id == StageID("fetch.song", version: 1) })
}

/// A preflight context with its own FARM_HOME that collects what the preflight reports.
struct PreflightHarness {
    let home: TemporaryDirectory
    let reports = Reports()

    final class Reports: Sendable {
        private let all = Mutex<[PreflightReport]>([])
        func append(_ report: PreflightReport) { all.withLock { $0.append(report) } }
        var downloads: Int { all.withLock { $0.filter { if case .download = $0 { true } else { false } }.count } }
        /// The totals the download reports gave (nil when a report had none).
        var downloadTotals: [Int64?] { all.withLock { $0.compactMap { if case .download(_, let total) = $0 { total } else { nil } } } }
        var notes: [String] { all.withLock { $0.compactMap { if case .note(let text) = $0 { text } else { nil } } } }
        func clear() { all.withLock { $0 = [] } }
    }

    init() throws {
        home = try TemporaryDirectory("farm-home")
    }

    func context(refresh: Bool = false) -> PreflightContext {
        let reports = self.reports
        return PreflightContext(stageName: "song", home: home.url, refresh: refresh) { reports.append($0) }
    }

    func preflight(_ parameters: [String: JSON], refresh: Bool = false) async throws -> Preparation {
        try await songStage().preflight(parameters, in: context(refresh: refresh))
    }

    /// Runs preflight and returns the bad-input failure it threw.
    func failure(_ parameters: [String: JSON], sourceLocation: SourceLocation = #_sourceLocation) async throws -> StageFailure {
        do {
            _ = try await preflight(parameters)
        } catch let failure as StageFailure {
            #expect(failure.isBadInput, "\(failure.message)", sourceLocation: sourceLocation)
            #expect(failure.hint != nil, sourceLocation: sourceLocation)
            return failure
        }
        Issue.record("preflight accepted \(parameters)", sourceLocation: sourceLocation)
        return StageFailure("accepted")
    }

    /// Every file under FARM_HOME.
    var homeFiles: [String] {
        FileManager.default.enumerator(atPath: home.url.path)?.allObjects as? [String] ?? []
    }

    func remove() { home.remove() }
}

@Suite("fetch.song: local files")
struct FetchSongTests {
    let ffmpeg = FFmpeg()

    func stage() throws -> any RenderStage { try songStage() }

    /// Runs preflight (in a throwaway FARM_HOME) and returns the bad-input failure it threw.
    func preflightFailure(_ parameters: [String: JSON]) async throws -> StageFailure {
        let harness = try PreflightHarness()
        defer { harness.remove() }
        do {
            _ = try await harness.preflight(parameters)
        } catch let failure as StageFailure {
            #expect(failure.isBadInput)
            #expect(failure.hint != nil)
            return failure
        }
        Issue.record("preflight accepted \(parameters)")
        return StageFailure("accepted")
    }

    func source(_ url: URL, _ more: [String: JSON] = [:]) -> [String: JSON] {
        more.merging(["source": .string(url.path)]) { $1 }
    }

    /// Runs preflight in a throwaway FARM_HOME and returns what it prepared.
    func preflight(_ parameters: [String: JSON]) async throws -> Preparation {
        let harness = try PreflightHarness()
        defer { harness.remove() }
        let prepared = try await harness.preflight(parameters)
        #expect(harness.homeFiles.isEmpty, "a local file needs no store")
        return prepared
    }

    @Test func missingFile() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let missing = folder.file("nope.mp3")
        let failure = try await preflightFailure(source(missing))
        #expect(failure.message == "song file not found: \(missing.path)")
    }

    @Test func relativePathIsResolvedAgainstTheWorkingDirectory() async throws {
        let failure = try await preflightFailure(["source": "no/such/song.mp3"])
        #expect(failure.message == "song file not found: \(FileManager.default.currentDirectoryPath)/no/such/song.mp3")
    }

    @Test func folderEmptyAndText() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        #expect(try await preflightFailure(source(folder.url)).message == "song path is a folder, not a file: \(folder.url.path)")

        let empty = folder.file("empty.mp3")
        try Data().write(to: empty)
        #expect(try await preflightFailure(source(empty)).message == "song file is empty: \(empty.path)")

        let text = folder.file("song.mp3")
        try "la la la\n".write(to: text, atomically: true, encoding: .utf8)
        #expect(try await preflightFailure(source(text)).message.hasPrefix(
            "song file cannot be read as audio or video (damaged, or not a media file): \(text.path) (Failed to read frame size"))

        let notes = folder.file("notes.txt")
        try "la la la\n".write(to: notes, atomically: true, encoding: .utf8)
        #expect(try await preflightFailure(source(notes)).message
            == "song file cannot be read as audio or video (damaged, or not a media file): \(notes.path) (Invalid data found when processing input)")
    }

    @Test func truncatedMP3IsRejected() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let whole = try await TestMedia.mp3(seconds: 10, to: folder.file("whole.mp3"))
        let size = try #require(try FileManager.default.attributesOfItem(atPath: whole.path)[.size] as? Int)
        _ = try await preflight(source(whole))

        let half = try TestMedia.truncated(whole, keepingBytes: size / 2, to: folder.file("half.mp3"))
        #expect(try await preflightFailure(source(half)).message
            == "song file is truncated: its header says 0:10 but only 0:05 could be decoded: \(half.path)")

        for bytes in [10, 500] {
            let stub = try TestMedia.truncated(whole, keepingBytes: bytes, to: folder.file("stub\(bytes).mp3"))
            #expect(try await preflightFailure(source(stub)).message.hasPrefix("song file cannot be read as audio or video"))
        }
    }

    @Test func damagedFilesAreRejected() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let wav = try await TestMedia.sineWAV(seconds: 4, to: folder.file("tone.wav"))
        let cutWAV = try TestMedia.truncated(wav, keepingBytes: 300_001, to: folder.file("cut.wav"))
        #expect(try await preflightFailure(source(cutWAV)).message
            == "song file is damaged, ffmpeg cannot decode it: \(cutWAV.path) (corrupt input packet in stream 0)")

        let mp3 = try await TestMedia.mp3(seconds: 10, to: folder.file("song.mp3"))
        var bytes = try Data(contentsOf: mp3)
        bytes.replaceSubrange(60_000..<65_120, with: (0..<5120).map { UInt8($0 % 256) })
        let scrambled = folder.file("scrambled.mp3")
        try bytes.write(to: scrambled)
        let failure = try await preflightFailure(source(scrambled))
        #expect(failure.message.hasPrefix("song file is damaged, ffmpeg cannot decode it: \(scrambled.path) ("))
        #expect(failure.hint == "download or export the song again")
    }

    @Test func videoWithoutSound() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let video = try await TestMedia.colorVideo(seconds: 1, to: folder.file("clip.mp4"))
        #expect(try await preflightFailure(source(video)).message == "song file is a video with no audio track: \(video.path)")
    }

    @Test func songLongerThanTheCap() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let song = try await TestMedia.sineWAV(seconds: 75, to: folder.file("long.wav"))
        let failure = try await preflightFailure(source(song, ["max_seconds": 60]))
        #expect(failure.message == "song is 1:15 long, over the 1:00 cap (max_seconds 60): \(song.path)")
        #expect(failure.hint == "raise the cap with --set song.max_seconds=75 or render a part with --start/--end (or --clip 0:30-1:45)")
        // A part within the cap is fine.
        _ = try await preflight(source(song, ["max_seconds": 60, "start": 20]))
    }

    @Test func startAndEndMustLieInTheSong() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let song = try await TestMedia.sineWAV(seconds: 5, to: folder.file("s.wav"))
        #expect(try await preflightFailure(source(song, ["start": 7])).message
            == "start (7 s) is outside the song, which is 0:05 long: \(song.path)")
        #expect(try await preflightFailure(source(song, ["end": 9.5])).message
            == "end (9.5 s) is outside the song, which is 0:05 long: \(song.path)")
        #expect(try await preflightFailure(source(song, ["start": 3, "end": 2])).message
            == "end (2 s) must come after start (3 s): \(song.path)")
        let failure = try await preflightFailure(source(song, ["start": -1]))
        #expect(failure.hint == "choose --start and --end (or --clip START-END) within 0…5 s")
    }

    @Test func imagesAreNotSongs() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let picture = folder.file("cover.mp3")
        try await ffmpeg.run(["-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", "-f", "image2", "-c:v", "png", picture.path])
        #expect(try await preflightFailure(source(picture)).message == "song file is an image (png), not audio or video: \(picture.path)")
    }

    @Test func preflightNamesTheTitle() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let tagged = try await TestMedia.mp3(seconds: 2, to: folder.file("a.mp3"), title: "Tagged Title")
        #expect(try await preflight(source(tagged)) == Preparation(facts: ["title": "Tagged Title"]))
        let plain = try await TestMedia.sineWAV(seconds: 1, to: folder.file("Plain Tune.wav"))
        #expect(try await preflight(source(plain)) == Preparation(facts: ["title": "Plain Tune"]))
    }

    @Test func runNormalizesAndDescribesTheSong() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let song = try await TestMedia.mp3(seconds: 6, to: folder.file("My Song.mp3"), title: "Tagged Title", coverArt: true)
        let parameters = source(song, ["max_seconds": 600])
        let prepared = try await preflight(parameters)
        let reports = StageReports()
        let result = try await stage().run(
            StageRequest(inputs: [:], parameters: parameters, prepared: prepared), in: TestStageContext.make(scratch: folder.url, reports: reports))
        let output = try #require(result.outputs["audio"])
        #expect(output.lastPathComponent == "song.wav")
        let info = try await ffmpeg.probe(output)
        #expect(info.formatName == "wav" && info.video == nil)
        #expect(info.audio?.codec == "pcm_s16le" && info.audio?.sampleRate == 44100 && info.audio?.channels == 2)
        #expect(result.metadata["title"] == "Tagged Title")
        #expect(result.metadata["source"] == .string(song.path))
        #expect(abs((result.metadata["duration"]?.doubleValue ?? 0) - 6) < 0.1)
        #expect(reports.fractions.first == 0 && reports.fractions.last == 1)
    }

    @Test func runTrimsAndFallsBackToTheFileName() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let song = try await TestMedia.sineWAV(seconds: 8, to: folder.file("Untagged Tune.wav"))
        let parameters = source(song, ["start": 1.5, "end": 5])
        _ = try await preflight(parameters)
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let result = try await stage().run(
            StageRequest(inputs: [:], parameters: parameters), in: TestStageContext.make(scratch: scratch.url))
        #expect(result.metadata["title"] == "Untagged Tune")
        #expect(abs((result.metadata["duration"]?.doubleValue ?? 0) - 3.5) < 0.001)
    }

    @Test func cacheIdentityFollowsTheBytes() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let song = try await TestMedia.sineWAV(seconds: 1, to: folder.file("a.wav"))
        let copy = folder.file("b.wav")
        try FileManager.default.copyItem(at: song, to: copy)
        let digest: @Sendable (URL) async throws -> String = { url in
            try await ProcessRunner.run("sha256sum", [url.path]).standardOutput.split(separator: " ")[0].description
        }
        func identity(_ url: URL) async throws -> JSON? {
            try await stage().cacheIdentity(StageRequest(inputs: [:], parameters: source(url)), digest: digest)
        }
        let original = try #require(try await identity(song))
        #expect(original["source_sha256"]?.stringValue?.count == 64)
        #expect(try await identity(copy) == original, "the same bytes elsewhere have the same identity")
        try await TestMedia.sineWAV(seconds: 1, frequency: 880, to: song)
        #expect(try await identity(song) != original, "an edited file has a new identity")
    }
}
