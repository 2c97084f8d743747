import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// `farm render --server URL`: the same render, queued on a running `farm serve`.
@Suite(.serialized) struct RemoteRenderTests {
    @Test func renderOnTheServerPrintsTheSameEventsAndDownloadsTheVideo() async throws {
        let studio = try Studio()
        defer { studio.remove() }
        let song = try await TestMedia.mp3(seconds: 3, to: studio.root.file("song.mp3"))
        try await studio.serve { server in
            let result = try await studio.farm.run(["render", "--server", server.url.absoluteString, "--profile", "offline",
                                                    "--song", song.path, "--out", "remote.mp4", "--json"])
            #expect(result.status == 0, "\(result.standardError)")
            let events = try result.jsonLines().compactMap(\.objectValue)
            #expect(events.first?["event"] == "queued")
            #expect(events.contains { $0["event"] == "started" })
            #expect(events.last?["event"] == "finished" && events.last?["status"] == "succeeded")
            let video = studio.farm.workingDirectory.appendingPathComponent("remote.mp4")
            let info = try await FFmpeg().probe(video)
            #expect(abs((info.duration ?? 0) - 3) < 0.2)

            let plain = try await studio.farm.run(["render", "--server", server.url.absoluteString, "--profile", "offline",
                                                   "--song", song.path, "--out", "again.mp4"])
            #expect(plain.status == 0, "\(plain.standardError)")
            #expect(plain.standardOutput.hasSuffix("again.mp4\n"))
            #expect(plain.standardError.contains("video: "))

            let refused = try await studio.farm.run(["render", "--server", server.url.absoluteString, "--profile", "nosuch",
                                                     "--song", song.path])
            #expect(refused.status == 2)
            #expect(refused.standardError.contains("error: ") && refused.standardError.contains("hint: "))
        }
    }

    @Test func ctrlCCancelsTheRenderOnTheServer() async throws {
        let studio = try Studio()
        defer { studio.remove() }
        let song = try await TestMedia.mp3(seconds: 30, to: studio.root.file("long.mp3"))
        try await studio.serve { server in
            let result = try await studio.farm.run(
                ["render", "--server", server.url.absoluteString, "--profile", "offline", "--song", song.path, "--json"],
                interruptWhen: { $0.contains(#""status":"running""#) })
            #expect(result.status == 130, "\(result.standardOutput)\(result.standardError)")
            let last = try #require(try result.jsonLines().last?.objectValue)
            #expect(last["status"] == "interrupted")
            let renders = try #require(try await studio.get(server, "/api/renders").json().arrayValue)
            #expect(renders.first?["state"] == "cancelled")
        }
    }

    @Test func anUnreachableServerIsAClearError() async throws {
        let studio = try Studio()
        defer { studio.remove() }
        let song = try await TestMedia.mp3(seconds: 1, to: studio.root.file("song.mp3"))
        let result = try await studio.farm.run(["render", "--server", "http://127.0.0.1:9/", "--profile", "offline", "--song", song.path])
        #expect(result.status == 2)
        #expect(result.standardError.contains("cannot reach farm serve"))
        #expect(result.standardError.contains("hint: start it with farm serve"))
        let bad = try await studio.farm.run(["render", "--server", "ftp://x", "--profile", "offline", "--song", song.path])
        #expect(bad.status == 2)
        #expect(bad.standardError.contains("not an http(s) address"))
    }
}
