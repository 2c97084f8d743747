import FarmKit
import FarmTestSupport
@testable import FetchProvider
import Foundation
import Testing

/// Song links served from 127.0.0.1: direct files through the HTTP client, web pages through the
/// real yt-dlp, and the store's copy reused within the freshness window.
@Suite("fetch.song: links", .serialized)
struct FetchLinkTests {
    @Test func sourcesThatAreNotFilesOrHTTPLinksAreRefused() async throws {
        let harness = try PreflightHarness()
        defer { harness.remove() }
        let cases: [(String, String)] = [
            ("file:///etc/hostname", "file:// links are not accepted: file:///etc/hostname"),
            ("ftp://example.com/song.mp3", "unsupported link scheme \"ftp:\" in ftp://example.com/song.mp3"),
            ("javascript:alert(1)", "unsupported link scheme \"javascript:\" in javascript:alert(1)"),
            ("www.example.com/a.mp3", "song link without http:// or https://: www.example.com/a.mp3"),
            ("http://", "song link is not a valid URL: http://"),
        ]
        for (source, message) in cases {
            let failure = try await harness.failure(["source": .string(source)])
            #expect(failure.message == message)
        }
        for source in ["https://alice:hunter2@example.com/song.mp3", "http://alice@example.com/song.mp3", "ftp://alice:hunter2@example.com/x"] {
            let failure = try await harness.failure(["source": .string(source)])
            #expect(!failure.message.contains("alice") && !failure.message.contains("hunter2"), "\(failure.message)")
            #expect(!(failure.hint ?? "").contains("alice"))
        }
        #expect(try await harness.failure(["source": "https://alice:hunter2@example.com/song.mp3"]).message
            == "song link has a user name or password in it, which farm does not send: https://example.com/song.mp3")
        #expect(harness.homeFiles.isEmpty)
    }

    @Test func aFileNamedLikeALinkIsAFile() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let odd = try await TestMedia.sineWAV(seconds: 1, to: folder.file("live:take.wav"))
        #expect(try SongOrigin(odd.path) == .file(odd))
        #expect(try SongOrigin("https://youtu.be/abc") == .link(URL(string: "https://youtu.be/abc")!))
        #expect(SongOrigin.isVideoSite(URL(string: "https://m.youtube.com/watch?v=abc")!))
        #expect(SongOrigin.isVideoSite(URL(string: "https://youtu.be/abc")!))
        #expect(!SongOrigin.isVideoSite(URL(string: "https://notyoutube.com/abc")!))
    }

    @Test func aDirectLinkIsFetchedCheckedKeptAndNotFetchedAgain() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let harness = try PreflightHarness()
        defer { harness.remove() }
        let parameters: [String: JSON] = ["source": .string(songs.link("tone.wav"))]
        let prepared = try await harness.preflight(parameters)
        let artifact = try #require(prepared.artifacts["song"])
        #expect(artifact.kind == .audio)
        #expect(try Data(contentsOf: artifact.path) == Data(contentsOf: songs.file("tone.wav")))
        #expect(prepared.facts == ["title": "tone"])
        #expect(harness.reports.downloads > 0)
        #expect(harness.reports.notes.isEmpty)

        // The second time nothing is fetched: the served file is gone and it still works.
        harness.reports.clear()
        try FileManager.default.removeItem(at: songs.file("tone.wav"))
        #expect(try await harness.preflight(parameters) == prepared)
        #expect(harness.reports.downloads == 0)
        #expect(harness.reports.notes.count == 1)
        #expect(harness.reports.notes.first?.hasPrefix("using the copy of \(songs.link("tone.wav")) fetched ") == true)
        #expect(harness.reports.notes.first?.hasSuffix(" ago (--refresh fetches it again)") == true)

        // --refresh and an expired window fetch it again (and find it gone).
        #expect(try await refreshFailure(harness, parameters).message == "song link answered HTTP 404 (not found): \(songs.link("tone.wav"))")
        var expired = parameters
        expired["fresh_hours"] = 0
        #expect(try await harness.failure(expired).message.hasPrefix("song link answered HTTP 404"))
    }

    /// A positive window: within it the stored copy is used; a copy older than the window (a
    /// short one, so the test need not wait long) is fetched again. No step races the clock: the
    /// copy's age is only ever compared with a window far from it.
    @Test func aLinkFetchedWithinTheFreshnessWindowIsNotFetchedAgainUntilItEnds() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let harness = try PreflightHarness()
        defer { harness.remove() }
        let link = JSON.string(songs.link("tone.wav"))
        let hour: [String: JSON] = ["source": link, "fresh_hours": 1]
        let prepared = try await harness.preflight(hour)
        let fetched = ContinuousClock.now
        #expect(harness.reports.downloads > 0)

        harness.reports.clear()
        #expect(try await harness.preflight(hour) == prepared)
        #expect(harness.reports.downloads == 0, "fetched again within the window")
        #expect(harness.reports.notes.first?.hasPrefix("using the copy of \(songs.link("tone.wav")) fetched ") == true)

        let window = 2.0
        try await Task.sleep(until: fetched + .seconds(window + 1))
        harness.reports.clear()
        #expect(try await harness.preflight(["source": link, "fresh_hours": .double(window / 3600)]) == prepared, "the same bytes again")
        #expect(harness.reports.downloads > 0, "not fetched again once the window ended")
        #expect(harness.reports.notes.isEmpty)
    }

    private func refreshFailure(_ harness: PreflightHarness, _ parameters: [String: JSON]) async throws -> StageFailure {
        do {
            _ = try await harness.preflight(parameters, refresh: true)
        } catch let failure as StageFailure {
            return failure
        }
        Issue.record("--refresh did not fetch again")
        return StageFailure("")
    }

    @Test func theContentDecidesNotTheNameOrContentType() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let harness = try PreflightHarness()
        defer { harness.remove() }
        let text = try await harness.preflight(["source": .string(songs.link("song.txt"))])
        #expect(text.artifacts["song"]?.kind == .audio, "a WAV served as text/plain is a song")
        #expect(try await harness.failure(["source": .string(songs.link("picture.mp3"))]).message
            == "song link is an image (png), not audio or video: \(songs.link("picture.mp3"))")
        #expect(try await harness.failure(["source": .string(songs.link("notes.txt"))]).message
            == "song link cannot be read as audio or video (damaged, or not a media file): \(songs.link("notes.txt")) (Invalid data found when processing input)")
        let named = try await harness.preflight(["source": .string(songs.server.url("/named").absoluteString)])
        #expect(named.facts == ["title": "Nice Song"], "the title comes from Content-Disposition")
    }

    @Test func anMP4LinkIsKeptAsVideoAndRunExtractsItsAudio() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let harness = try PreflightHarness()
        defer { harness.remove() }
        let parameters: [String: JSON] = ["source": .string(songs.link("clip.mp4"))]
        let prepared = try await harness.preflight(parameters)
        #expect(prepared.artifacts["song"]?.kind == .video)
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let result = try await songStage().run(
            StageRequest(inputs: [:], parameters: parameters, prepared: prepared), in: TestStageContext.make(scratch: scratch.url))
        let info = try await FFmpeg().probe(try #require(result.outputs["audio"]))
        #expect(info.video == nil && info.audio?.codec == "pcm_s16le")
        #expect(abs((info.duration ?? 0) - 3) < 0.1)
        #expect(result.metadata["title"] == "clip")
        #expect(result.metadata["source"] == .string(songs.link("clip.mp4")))
        #expect(try await songStage().cacheIdentity(StageRequest(inputs: [:], parameters: parameters)) { _ in "x" } == nil,
                "a link's identity is its prepared download")
    }

    @Test func httpFailuresAreBadInputAndLeaveNothingBehind() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let harness = try PreflightHarness()
        defer { harness.remove() }
        let missing = songs.link("missing.wav")
        #expect(try await harness.failure(["source": .string(missing)]).message == "song link answered HTTP 404 (not found): \(missing)")
        let big = try await harness.failure(["source": .string(songs.link("tone.wav")), "max_bytes": 1000])
        #expect(big.message == "song link is larger than the size cap of 1000 bytes: \(songs.link("tone.wav"))")
        #expect(big.hint == "raise the cap with --set song.max_bytes=N (bytes), or link a smaller file")
        let loop = songs.server.url("/redirect/8").absoluteString
        #expect(try await harness.failure(["source": .string(loop)]).message == "song link cannot be fetched: \(loop) (more than 5 redirects)")
        let unreachable = try await harness.failure(["source": "http://127.0.0.1:9/song.wav"])
        #expect(unreachable.message.hasPrefix("cannot reach the song link: http://127.0.0.1:9/song.wav ("))
        #expect(harness.homeFiles.isEmpty, "\(harness.homeFiles)")

        let redirected = songs.server.url("/redirect-to?url=/files/tone.wav").absoluteString
        #expect(try await harness.preflight(["source": .string(redirected)]).facts == ["title": "tone"], "redirects are followed")
    }

    @Test func longSongsAndClipsAreCheckedOnTheDownload() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let harness = try PreflightHarness()
        defer { harness.remove() }
        let link = songs.link("tone.wav")
        #expect(try await harness.failure(["source": .string(link), "max_seconds": 2]).message
            == "song is 0:04 long, over the 0:02 cap (max_seconds 2): \(link)")
        #expect(try await harness.failure(["source": .string(link), "start": 1, "end": 9]).message
            == "end (9 s) is outside the song, which is 0:04 long: \(link)")
        #expect(harness.homeFiles.isEmpty)
        _ = try await harness.preflight(["source": .string(link), "max_seconds": 2, "start": 1, "end": 3])
        // The kept copy is checked again against a new cap.
        #expect(try await harness.failure(["source": .string(link), "max_seconds": 3]).message
            == "song is 0:04 long, over the 0:03 cap (max_seconds 3): \(link)")
    }

    @Test func pagesWithMediaGoThroughYTDLP() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let harness = try PreflightHarness()
        defer { harness.remove() }
        let page = try await harness.preflight(["source": .string(songs.link("page.html"))])
        #expect(page.facts == ["title": "Page Song"])
        #expect(page.artifacts["song"]?.kind == .audio)
        // The page itself comes through the HTTP client; the song on it only through yt-dlp, whose
        // progress must arrive too.
        let pageSize = try #require(FileManager.default.attributesOfItem(atPath: songs.file("page.html").path)[.size] as? Int)
        let songSize = try #require(FileManager.default.attributesOfItem(atPath: songs.file("tone.wav").path)[.size] as? Int)
        #expect(harness.reports.downloadTotals.contains { ($0 ?? 0) > Int64(pageSize) }, "yt-dlp's progress: \(harness.reports.downloadTotals)")
        #expect(harness.reports.downloadTotals.contains(Int64(songSize)))
        let video = try await harness.preflight(["source": .string(songs.link("video.html"))])
        #expect(video.facts == ["title": "Video Page"])
        #expect(harness.reports.notes.isEmpty)
        let two = try await harness.preflight(["source": .string(songs.link("two.html"))])
        #expect(two.facts == ["title": "Two"])
        #expect(harness.reports.notes == ["the link holds 2 items (a playlist, or a page with several): only the first, \"Two\", is rendered"])
        let tmp = harness.home.file("tmp")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path).isEmpty, "scratch folders are removed")
    }

    @Test func pagesWithoutMediaAndBrokenPagesAreRefused() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let harness = try PreflightHarness()
        defer { harness.remove() }
        let empty = try await harness.failure(["source": .string(songs.link("empty.html"))])
        #expect(empty.message == "no audio or video found at the song link: \(songs.link("empty.html"))")
        let broken = try await harness.failure(["source": .string(songs.link("broken.html"))])
        #expect(broken.message == "yt-dlp failed on \(songs.link("broken.html")): ERROR: unable to download video data: HTTP Error 404: Not Found")
        let big = try await harness.failure(["source": .string(songs.link("page.html")), "max_bytes": 2000])
        #expect(big.message.hasPrefix("song link is larger than the size cap of 2000 bytes ("), "\(big.message)")
        let long = try await harness.failure(["source": .string(songs.link("page.html")), "max_seconds": 2])
        #expect(long.message == "song is 0:04 long, over the 0:02 cap (max_seconds 2): \(songs.link("page.html"))")
        #expect(harness.homeFiles.isEmpty, "\(harness.homeFiles)")
    }

    @Test func ytdlpRunsWithTheSafeFlagsAndOneItem() {
        let arguments = YTDLP.arguments(
            url: URL(string: "https://www.youtube.com/watch?v=abc&list=xyz")!, folder: URL(fileURLWithPath: "/tmp/scratch"),
            maxBytes: 1234, ffmpeg: FFmpeg(ffmpegPath: "/usr/bin/ffmpeg"))
        for flag in ["--ignore-config", "--no-plugin-dirs", "--no-cache-dir", "--no-cookies", "--no-cookies-from-browser", "--no-exec",
                     "--no-playlist", "--restrict-filenames", "--no-simulate"] {
            #expect(arguments.contains(flag), "\(flag)")
        }
        func value(_ flag: String) -> String? { arguments.firstIndex(of: flag).map { arguments[$0 + 1] } }
        #expect(value("--playlist-items") == "1")
        #expect(value("--max-filesize") == "1234")
        #expect(value("--audio-format") == "wav")
        #expect(value("-P") == "/tmp/scratch")
        #expect(value("-o") == "%(id)s.%(ext)s")
        #expect(value("--ffmpeg-location") == "/usr/bin/ffmpeg")
        #expect(arguments.suffix(2) == ["--", "https://www.youtube.com/watch?v=abc&list=xyz"])
        #expect(arguments.contains("after_move:farm-file %(filepath)s"))
        #expect(!arguments.contains("--exec") && !arguments.contains("--cookies") && !arguments.contains("--load-info-json"))
    }

    @Test func ytdlpErrorLinesAreSorted() {
        func kind(_ line: String) -> String { "\(YTDLP.classify(line))".components(separatedBy: "(").first! }
        #expect(kind("ERROR: [youtube] abc: Private video. Sign in if you've been granted access to this video") == "privateVideo")
        #expect(kind("ERROR: [youtube] abc: Video unavailable. This video has been removed by the uploader") == "unavailable")
        #expect(kind("ERROR: [youtube] abc: This live event will begin in 3 hours.") == "liveStream")
        #expect(kind("ERROR: Unsupported URL: http://127.0.0.1/x.html") == "unsupported")
        #expect(kind("ERROR: unable to download video data: HTTP Error 404: Not Found") == "failed")
        #expect(YTDLP.errorLine("WARNING: slow\nERROR: first\nTraceback\nERROR: last\nmore noise\n") == "ERROR: last")
        #expect(YTDLP.errorLine("") == nil)
    }

    @Test func ytdlpVersionsAreDates() {
        let now = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18
        #expect(YTDLP.ageInDays(ofVersion: "2026.10.26", now: now) == 23)
        #expect(YTDLP.ageInDays(ofVersion: "2026.10.26.233014", now: now) == 23)
        #expect(YTDLP.ageInDays(ofVersion: "nightly", now: now) == nil)
        #expect(YTDLP(environment: ["FARM_YT_DLP": "/opt/yt-dlp"]).executable == "/opt/yt-dlp")
        #expect(YTDLP(environment: [:]).executable == "yt-dlp")
    }

    @Test func theInstallHintPinsTheVersionSetupInstalls() throws {
        let setup = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/setup")
        let text = try String(contentsOf: setup, encoding: .utf8)
        #expect(text.contains("YT_DLP_VERSION=\(YTDLP.pinnedVersion)\n"))
        #expect(YTDLP.installHint.contains("yt-dlp==\(YTDLP.pinnedVersion)"))
    }
}
