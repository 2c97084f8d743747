import FarmKit
import FarmTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Song links through the real `farm` binary, served from 127.0.0.1: renders with the offline
/// profile, the download cache, trimming, and every bad link refused before any work.
@Suite(.serialized) struct SongLinkRenderTests {
    @Test func directWavAndMP4LinksAndAPageWithMediaAllRender() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        for (name, output, seconds) in [("tone.wav", "demo-tone.mp4", 4.0), ("clip.mp4", "demo-clip.mp4", 3), ("page.html", "demo-page-song.mp4", 4)] {
            let result = try await sandbox.farm.run(["render", "--profile", "offline", "--song", songs.link(name), "--json"])
            #expect(result.status == 0, "\(name): \(result.standardError)")
            let summary = try result.finished()
            #expect(summary["output"]?.stringValue == sandbox.file(output).path, "the output is named after the song's title")
            let events = try result.jsonLines().compactMap(\.objectValue)
            let downloads = events.filter { $0["event"] == "download" }
            #expect(!downloads.isEmpty, "\(name): download progress is reported")
            #expect(downloads.last?["stage"] == "song")
            #expect(downloads.allSatisfy { $0["received"]?.intValue != nil })
            let info = try await FFmpeg().probe(sandbox.file(output))
            #expect(info.video?.codec == "h264" && info.audio?.codec == "aac")
            #expect(abs((info.duration ?? 0) - seconds) < 0.3, "\(name): \(info.duration ?? 0)")
        }
        let runs = try await sandbox.farm.run(["runs", "list", "--json"])
        let last = try #require(runs.standardOutput.split(separator: "\n").first.map { try JSON.parse(String($0), source: "runs") })
        let show = try await sandbox.farm.run(["runs", "show", try #require(last["run"]?.stringValue), "--json"])
        let stages = try #require(try JSON.parse(show.standardOutput, source: "runs show")["stages"]?.arrayValue)
        let song = try #require(stages.first { $0["stage"] == "song" })
        #expect(song["metadata"]?["title"] == "Page Song", "the title is recorded with the song")
        #expect(song["metadata"]?["source"] == .string(songs.link("page.html")))
        #expect(sandbox.temporaryFiles.isEmpty)
    }

    @Test func aSecondRenderWithTheSameLinkFetchesNothing() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let link = songs.link("tone.wav")
        let first = try await sandbox.farm.run(["render", "--profile", "offline", "--song", link, "--json"])
        #expect(first.status == 0, "\(first.standardError)")
        // Gone from the server: the second render can only succeed from the store's copy.
        try FileManager.default.removeItem(at: songs.file("tone.wav"))
        let second = try await sandbox.farm.run(["render", "--profile", "offline", "--song", link, "--out", "again.mp4", "--json"])
        #expect(second.status == 0, "\(second.standardError)")
        let events = try second.jsonLines().compactMap(\.objectValue)
        #expect(!events.contains { $0["event"] == "download" })
        #expect(events.contains { $0["event"] == "note" && $0["message"]?.stringValue?.hasPrefix("using the copy of \(link)") == true })
        #expect(try second.stageStatuses().values.allSatisfy { $0 == "cached" })
        #expect(try Data(contentsOf: sandbox.file("again.mp4")) == Data(contentsOf: sandbox.file("demo-tone.mp4")))

        let refreshed = try await sandbox.farm.run(["render", "--profile", "offline", "--song", link, "--refresh"])
        #expect(refreshed.status == 2, "--refresh fetches again, and the file is gone")
        #expect(refreshed.standardError.contains("error: song link answered HTTP 404 (not found): \(link)"))

        let usage = try await sandbox.farm.run(["cache", "du"])
        #expect(usage.standardOutput.contains("fetched songs  1"))
        let gc = try await sandbox.farm.run(["cache", "gc", "--all"])
        #expect(gc.standardOutput.contains("1 fetched songs"))
    }

    @Test func clipRendersPartOfALinkedSongAndPlainOutputShowsNotes() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let clipped = try await sandbox.farm.run(["render", "--profile", "offline", "--song", songs.link("two.html"), "--clip", "0:01-0:03"])
        #expect(clipped.status == 0, "\(clipped.standardError)")
        #expect(clipped.standardError.contains(
            "note: song: the link holds 2 items (a playlist, or a page with several): only the first, \"Two\", is rendered"))
        let info = try await FFmpeg().probe(sandbox.file("demo-two.mp4"))
        #expect(abs((info.duration ?? 0) - 2) < 0.2, "\(info.duration ?? 0)")
        let started = try await sandbox.farm.run(["render", "--profile", "offline", "--song", songs.link("tone.wav"), "--start", "1", "--json"])
        #expect(started.status == 0)
        let info2 = try await FFmpeg().probe(sandbox.file("demo-tone.mp4"))
        #expect(abs((info2.duration ?? 0) - 3) < 0.2)
    }

    @Test func ctrlCDuringADownloadStopsItAndKeepsNothing() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let slow = songs.server.url("/drip/4000000/20").absoluteString
        let result = try await sandbox.farm.run(
            ["render", "--profile", "offline", "--song", slow, "--json"], interruptWhen: { $0.contains("\"event\":\"download\"") })
        #expect(result.status == 130, "\(result.standardError)")
        #expect(try result.finished()["status"] == "interrupted")
        #expect(sandbox.homeFiles.isEmpty, "\(sandbox.homeFiles)")
        #expect(sandbox.systemTemporaryFiles.isEmpty, "the download's scratch folder is gone: \(sandbox.systemTemporaryFiles)")
    }

    /// A YouTube link goes to yt-dlp (a fake here, which records its arguments) without any HTTP
    /// request of farm's own: every proxy is a trap that counts connections. A playlist link gets a
    /// note that only the named video is rendered.
    @Test func aYouTubePlaylistLinkGoesStraightToYTDLPWithANote() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let trap = try ConnectionTrap()
        defer { trap.stop() }
        let tone = try await TestMedia.sineWAV(seconds: 2, to: sandbox.root.file("tone.wav"))
        let arguments = sandbox.root.file("yt-dlp-arguments")
        try FakeYTDLP.write(in: sandbox, """
            printf '%s\\n' "$@" > '\(arguments.path)'
            while [ $# -gt 0 ]; do
              if [ "$1" = -P ]; then folder="$2"; fi
              shift
            done
            echo 'farm-item {"id": "dQw4w9WgXcQ", "title": "Tube Song", "duration": 2, "live_status": "not_live"}'
            cp '\(tone.path)' "$folder/dQw4w9WgXcQ.wav"
            echo 'farm-progress 88244 176444'
            echo "farm-file $folder/dQw4w9WgXcQ.wav"
            """)
        var farm = sandbox.farm
        farm.environment.merge(FakeYTDLP.path(in: sandbox)) { $1 }
        farm.environment.merge(trap.proxyEnvironment) { $1 }
        let link = "https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=PLfarmTestPlaylist"
        let result = try await farm.run(["render", "--profile", "offline", "--song", link, "--json"])
        #expect(result.status == 0, "\(result.standardError)")
        let events = try result.jsonLines().compactMap(\.objectValue)
        #expect(events.contains { $0["event"] == "note" && $0["message"] == "the link is part of a playlist: only the video it names is rendered" },
                "\(result.standardOutput)")
        #expect(events.contains { $0["event"] == "download" && $0["total"] == 176444 }, "yt-dlp's progress is reported")
        #expect(try result.finished()["output"]?.stringValue == sandbox.file("demo-tube-song.mp4").path)
        let argv = try String(contentsOf: arguments, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(argv.suffix(2) == ["--", link], "the link itself goes to yt-dlp")
        #expect(argv.contains("--no-playlist"))
        #expect(trap.connections == 0, "farm made an HTTP request of its own for a YouTube link")
        #expect(sandbox.temporaryFiles.isEmpty)

        // The trap does catch farm's own requests: a direct link reaches it (and so fails).
        let direct = try await farm.run(["render", "--profile", "offline", "--song", "http://songs.invalid/tone.wav"])
        #expect(direct.status != 0)
        #expect(trap.connections > 0)
    }

    @Test func doctorReportsYTDLP() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let real = try await sandbox.farm.run(["doctor"])
        #expect(real.standardOutput.contains("yt-dlp      \(try await YTDLPVersion.installed())"), "\(real.standardOutput)")
        let old = try FakeYTDLP.write(in: sandbox, #"echo 2025.01.15"#)
        var cli = sandbox.farm
        cli.environment["FARM_YT_DLP"] = old.path
        let stale = try await cli.run(["doctor"])
        #expect(stale.standardOutput.contains("warn  yt-dlp      2025.01.15 is "), "\(stale.standardOutput)")
        #expect(stale.standardOutput.contains(" days old, and sites change: update it (python3 -m pip install -U yt-dlp)"))
        cli.environment["FARM_YT_DLP"] = sandbox.root.file("nowhere/yt-dlp").path
        let missing = try await cli.run(["doctor"])
        #expect(missing.standardOutput.contains("warn  yt-dlp      not found (FARM_YT_DLP is \(sandbox.root.file("nowhere/yt-dlp").path))"))
        #expect(missing.standardOutput.contains("python3 -m pip install yt-dlp==2026.10.26 (or run scripts/setup)"))
    }
}

/// Every bad link: `error:` + `hint:`, exit 2, nothing in FARM_HOME, no output.
@Suite(.serialized) struct SongLinkBadInputTests {
    @Test func brokenLinks() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        func song(_ link: String, _ more: [String] = []) -> [String] { ["--profile", "offline", "--song", link] + more }
        let missing = songs.link("missing.mp3")
        try await sandbox.expectRejected(song(missing), saying: ["error: song link answered HTTP 404 (not found): \(missing)"])
        try await sandbox.expectRejected(song(songs.link("empty.html")), saying: ["no audio or video found at the song link: \(songs.link("empty.html"))"])
        try await sandbox.expectRejected(song(songs.link("picture.png")), saying: ["song link is an image (png), not audio or video: \(songs.link("picture.png"))"])
        try await sandbox.expectRejected(
            song(songs.link("clip.mp4"), ["--set", "song.max_bytes=10000"]),
            saying: ["song link is larger than the size cap of 10000 bytes: \(songs.link("clip.mp4"))", "hint: raise the cap with --set song.max_bytes"])
        try await sandbox.expectRejected(
            song(songs.link("tone.wav"), ["--set", "song.max_seconds=3"]),
            saying: ["song is 0:04 long, over the 0:03 cap (max_seconds 3): \(songs.link("tone.wav"))"])
        try await sandbox.expectRejected(
            song(songs.link("tone.wav"), ["--clip", "0:10-0:20"]), saying: ["start (10 s) is outside the song, which is 0:04 long"])
        try await sandbox.expectRejected(song(songs.link("tone.wav"), ["--clip", "0:30"]), saying: ["--clip \"0:30\" is not a range START-END"])
        // yt-dlp failing for real: the page's video is missing. Its ERROR line is shown.
        try await sandbox.expectRejected(
            song(songs.link("broken.html")),
            saying: ["yt-dlp failed on \(songs.link("broken.html")): ERROR: unable to download video data: HTTP Error 404: Not Found"])
    }

    @Test func unsupportedSchemes() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await sandbox.expectRejected(["--profile", "offline", "--song", "file:///etc/hostname"], saying: ["file:// links are not accepted"])
        try await sandbox.expectRejected(["--profile", "offline", "--song", "ftp://example.com/song.mp3"], saying: ["unsupported link scheme \"ftp:\""])
        try await sandbox.expectRejected(["--profile", "offline", "--song", "javascript:alert(1)"], saying: ["unsupported link scheme \"javascript:\""])
    }

    @Test func credentialsAreRefusedAndNeverShown() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let link = songs.link("tone.wav").replacingOccurrences(of: "http://", with: "http://alice:hunter2@")
        let plain = try await sandbox.expectRejected(
            ["--profile", "offline", "--song", link],
            saying: ["song link has a user name or password in it, which farm does not send: \(songs.link("tone.wav"))"])
        let json = try await sandbox.farm.run(["render", "--profile", "offline", "--song", link, "--json"])
        #expect(json.status == 2)
        let finished = try json.finished()
        #expect(finished["error"]?.stringValue?.hasPrefix("song link has a user name or password in it") == true)
        #expect(finished["hint"]?.stringValue != nil)
        let dry = try await sandbox.farm.run(["render", "--profile", "offline", "--song", link, "--dry-run"])
        #expect(dry.status == 2, "a dry run checks the link as a render does")
        #expect(dry.standardError.contains("error: song link has a user name or password in it"))
        for result in [plain, json, dry] {
            for secret in ["alice", "hunter2"] {
                #expect(!result.standardOutput.contains(secret) && !result.standardError.contains(secret), "\(result)")
            }
        }
        #expect(sandbox.homeFiles.isEmpty)
    }

    @Test func ytdlpMissing() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            .filter { !FileManager.default.isExecutableFile(atPath: "\($0)/yt-dlp") }.joined(separator: ":")
        try await sandbox.expectRejected(
            ["--profile", "offline", "--song", songs.link("page.html")],
            saying: ["yt-dlp is not installed; farm needs it for web pages and video sites: \(songs.link("page.html"))",
                     "hint: install it: python3 -m pip install yt-dlp==2026.10.26 (or run scripts/setup)"],
            environment: ["PATH": path])
    }

    /// Cases loopback cannot produce: a fake yt-dlp first on PATH prints what the real one prints.
    @Test func privateAndUnavailableVideosAndFailingYTDLP() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let link = songs.link("video.html")
        let arguments = sandbox.root.file("yt-dlp-arguments")
        try FakeYTDLP.write(in: sandbox, """
            printf '%s\\n' "$@" > '\(arguments.path)'
            echo "ERROR: [youtube] dQw4w9WgXcQ: Private video. Sign in if you've been granted access to this video" >&2
            exit 1
            """)
        try await sandbox.expectRejected(
            ["--profile", "offline", "--song", link], saying: ["the video is private: \(link)", "hint: only people its owner invited"],
            environment: FakeYTDLP.path(in: sandbox))
        let argv = try String(contentsOf: arguments, encoding: .utf8).split(separator: "\n").map(String.init)
        for flag in ["--ignore-config", "--no-plugin-dirs", "--no-cookies", "--no-exec", "--no-playlist"] { #expect(argv.contains(flag)) }
        #expect(argv.suffix(2) == ["--", link])

        try FakeYTDLP.write(in: sandbox, """
            echo "ERROR: [youtube] abc123: Video unavailable. This video has been removed by the uploader" >&2
            exit 1
            """)
        try await sandbox.expectRejected(
            ["--profile", "offline", "--song", link], saying: ["the video is not available: \(link) (Video unavailable. This video has been removed by the uploader)"],
            environment: FakeYTDLP.path(in: sandbox))

        try FakeYTDLP.write(in: sandbox, """
            echo "WARNING: [generic] Falling back on generic information extractor" >&2
            echo "Traceback (most recent call last):" >&2
            echo "ERROR: [generic] Unable to extract video data; the site changed" >&2
            echo "trailing noise" >&2
            exit 1
            """)
        let failing = try await sandbox.expectRejected(
            ["--profile", "offline", "--song", link],
            saying: ["error: yt-dlp failed on \(link): ERROR: [generic] Unable to extract video data; the site changed"],
            environment: FakeYTDLP.path(in: sandbox))
        for noise in ["WARNING", "Traceback", "trailing noise"] { #expect(!failing.standardError.contains(noise)) }
    }

    @Test func aLiveStreamIsRefusedAndYTDLPStopped() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let link = songs.link("video.html")
        let pidFile = sandbox.root.file("yt-dlp.pid")
        // What yt-dlp prints for farm's `--print video:farm-item …` before it starts a live download.
        try FakeYTDLP.write(in: sandbox, """
            echo $$ > '\(pidFile.path)'
            echo 'farm-item {"id": "live1", "title": "Live now", "live_status": "is_live"}'
            exec sleep 60
            """)
        let start = ContinuousClock.now
        try await sandbox.expectRejected(
            ["--profile", "offline", "--song", link], saying: ["the song link is a live stream: \(link)"], environment: FakeYTDLP.path(in: sandbox))
        #expect(ContinuousClock.now - start < .seconds(30))
        let pid = try #require(Int32(String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let alive = kill(pid, 0) == 0
        if alive { kill(pid, SIGKILL) }
        #expect(!alive, "farm left the yt-dlp process \(pid) running")
    }
}

/// A stand-in yt-dlp (a shell script) for cases loopback cannot produce.
enum FakeYTDLP {
    /// Writes `body` as `bin/yt-dlp` in the sandbox's root and returns it.
    @discardableResult
    static func write(in sandbox: Sandbox, _ body: String) throws -> URL {
        let bin = sandbox.root.file("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let script = bin.appendingPathComponent("yt-dlp")
        try Data("#!/bin/sh\n\(body)\n".utf8).write(to: script)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        return script
    }

    /// PATH with the fake first.
    static func path(in sandbox: Sandbox) -> [String: String] {
        ["PATH": sandbox.root.file("bin").path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]
    }
}

/// The version of the yt-dlp installed on this machine.
enum YTDLPVersion {
    static func installed() async throws -> String {
        try await ProcessRunner.run("yt-dlp", ["--version"]).standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
