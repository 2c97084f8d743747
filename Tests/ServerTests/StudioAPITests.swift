import FarmKit
import FarmTestSupport
import Foundation
import Testing

@Suite(.serialized) struct StudioAPITests {
    @Test func renderThroughTheAPIStreamsEventsAndServesTheVideoWithRanges() async throws {
        let studio = try Studio()
        defer { studio.remove() }
        let song = try await TestMedia.mp3(seconds: 4, to: studio.root.file("song.mp3"))
        try await studio.serve { server in
            let id = try await studio.submitOfflineRender(server, song: song)
            let events = try await studio.events(server, id)
            #expect(events.first?["event"] == "queued")
            #expect(events.contains { $0["event"] == "started" })
            #expect(events.contains { $0["event"] == "stage" && $0["stage"] == "portrait" && $0["status"] == "running" })
            let finished = try #require(events.last)
            #expect(finished["event"] == "finished")
            #expect(finished["status"] == "succeeded", "\(JSON.object(finished).compactString)")
            let run = try #require(finished["run"]?.stringValue)

            let entry = try await studio.get(server, "/api/renders/\(id)").json()
            #expect(entry["state"] == "finished")
            #expect(entry["run"]?.stringValue == run)
            // A late subscriber gets the whole history again.
            #expect(try await studio.events(server, id).count == events.count)
            // Polling instead of streaming: pages of the same events.
            let page = try await studio.get(server, "/api/renders/\(id)/events?from=2").json()
            #expect(page["events"]?.arrayValue?.count == events.count - 2)
            #expect(page["next"]?.intValue == events.count)
            #expect(page["done"] == .bool(true))
            let badPage = try await studio.get(server, "/api/renders/\(id)/events?from=-1")
            #expect(badPage.status == 400 && badPage.hint != nil)

            let detail = try await studio.get(server, "/api/runs/\(run)").json()
            #expect(detail["status"] == "succeeded")
            let stages = try #require(detail["stages"]?.arrayValue)
            let vocals = try #require(stages.first { $0["stage"] == "vocals" })
            let vocalsURL = try #require(vocals["outputs"]?.arrayValue?.first?["url"]?.stringValue)
            let audio = try await studio.get(server, vocalsURL)
            #expect(audio.status == 200)
            #expect(audio.header("content-type")?.hasPrefix("audio/") == true)
            let still = try await studio.get(server, "/api/runs/\(run)/still")
            #expect(still.header("content-type")?.hasPrefix("image/") == true)

            let video = try await studio.get(server, "/api/runs/\(run)/video")
            #expect(video.status == 200)
            #expect(video.header("content-type") == "video/mp4")
            #expect(video.header("accept-ranges") == "bytes")
            let size = video.body.count
            let part = try await studio.get(server, "/api/runs/\(run)/video", headers: [("Range", "bytes=10-19")])
            #expect(part.status == 206)
            #expect(part.header("content-range") == "bytes 10-19/\(size)")
            #expect(part.body == video.body[10..<20])
            let tail = try await studio.get(server, "/api/runs/\(run)/video", headers: [("Range", "bytes=-5")])
            #expect(tail.body == video.body.suffix(5))
            let open = try await studio.get(server, "/api/runs/\(run)/video", headers: [("Range", "bytes=\(size - 3)-")])
            #expect(open.status == 206 && open.body.count == 3)
            let outside = try await studio.get(server, "/api/runs/\(run)/video", headers: [("Range", "bytes=\(size)-")])
            #expect(outside.status == 416)
            #expect(outside.header("content-range") == "bytes */\(size)")

            let runs = try #require(try await studio.get(server, "/api/runs").json().arrayValue)
            #expect(runs.first?["run"]?.stringValue == run)
            #expect(runs.first?["video"]?.stringValue == "/api/runs/\(run)/video")
            let renders = try #require(try await studio.get(server, "/api/renders").json().arrayValue)
            #expect(renders.map { $0["id"]?.stringValue } == [id])

            // Finished renders cannot be cancelled.
            let late = try await studio.post(server, "/api/renders/\(id)/cancel")
            #expect(late.status == 409)
            #expect(late.hint != nil)
        }
    }

    @Test func listsProfilesSubjectsAndProviders() async throws {
        let studio = try Studio()
        defer { studio.remove() }
        try await studio.serve { server in
            let profiles = try #require(try await studio.get(server, "/api/profiles").json().arrayValue)
            #expect(profiles.contains { $0["name"] == "offline" })
            let subjects = try #require(try await studio.get(server, "/api/subjects").json().arrayValue)
            #expect(subjects.contains { $0["name"] == "demo" && $0["trigger"] == "DEMO" })
            let providers = try #require(try await studio.get(server, "/api/providers").json().arrayValue)
            let offline = try #require(providers.first { $0["name"] == "offline" })
            #expect(offline["stages"]?.arrayValue?.contains { $0["id"]?.stringValue?.hasPrefix("offline.image") == true } == true)
        }
    }

    @Test func cancelsAWaitingAndARunningRender() async throws {
        let studio = try Studio()
        defer { studio.remove() }
        let song = try await TestMedia.mp3(seconds: 20, to: studio.root.file("long.mp3"))
        try await studio.serve { server in
            let first = try await studio.submitOfflineRender(server, song: song)
            let second = try await studio.submitOfflineRender(server, song: song)
            _ = try await studio.waitFor(server, first, state: "running")
            try await studio.waitForRun(server, first)
            #expect(try await studio.get(server, "/api/renders/\(second)").json()["state"] == "queued")

            let cancelled = try await studio.post(server, "/api/renders/\(second)/cancel")
            #expect(cancelled.status == 202)
            #expect(try cancelled.json()["state"] == "cancelled")
            let secondEvents = try await studio.events(server, second)
            #expect(secondEvents.last?["status"] == "interrupted")

            #expect(try await studio.post(server, "/api/renders/\(first)/cancel").status == 202)
            let firstEvents = try await studio.events(server, first)
            #expect(firstEvents.last?["event"] == "finished")
            #expect(firstEvents.last?["status"] == "interrupted")
            _ = try await studio.waitFor(server, first, state: "cancelled")
            let run = try #require(try await studio.get(server, "/api/renders/\(first)").json()["run"]?.stringValue)
            #expect(try await studio.get(server, "/api/runs/\(run)").json()["status"] == "interrupted")
        }
    }

    @Test func aRestartPicksUpTheQueueAndResumesTheRunningRender() async throws {
        let studio = try Studio()
        defer { studio.remove() }
        let song = try await TestMedia.mp3(seconds: 20, to: studio.root.file("long.mp3"))
        let (first, second) = try await studio.serve { server in
            let first = try await studio.submitOfflineRender(server, song: song)
            let second = try await studio.submitOfflineRender(server, song: song)
            _ = try await studio.waitFor(server, first, state: "running")
            try await studio.waitForRun(server, first)
            // Stopped (SIGTERM) while the first renders and the second waits.
            return (first, second)
        }
        try await studio.serve { server in
            let firstEvents = try await studio.events(server, first)
            #expect(firstEvents.last?["status"] == "succeeded", "\(firstEvents.last.map { JSON.object($0).compactString } ?? "")")
            let secondEvents = try await studio.events(server, second)
            #expect(secondEvents.last?["status"] == "succeeded")
            let run = try #require(try await studio.get(server, "/api/renders/\(first)").json()["run"]?.stringValue)
            #expect(try await studio.get(server, "/api/runs/\(run)").json()["resumed_from"]?.stringValue != nil)
        }
    }
}
