import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// What the studio keeps beyond one server's memory: the stage graph and events of past renders,
/// and which uploads it keeps.
@Suite(.serialized) struct StudioHistoryTests {
    /// The offline profile's edges, stage → the stages it reads.
    static let offlineGraph: [String: [String]] = [
        "song": [], "portrait": [], "cover": ["song"], "vocals": ["song"], "performance": ["portrait", "vocals"],
        "sound": ["cover"], "video": ["performance", "sound"],
    ]

    @Test func aRestartedServerStillShowsAPastRendersStagesAndEvents() async throws {
        let studio = try Studio()
        defer { studio.remove() }
        let song = try await TestMedia.mp3(seconds: 4, to: studio.root.file("song.mp3"))
        let (id, live) = try await studio.serve { server in
            let id = try await studio.submitOfflineRender(server, song: song)
            return (id, try await studio.events(server, id))
        }
        // The live events: the started event lists each stage's edges; the chunked stage reports its chunks.
        let started = try #require(live.first { $0["event"] == "started" })
        #expect(Self.graph(started["stages"]) == Self.offlineGraph)
        #expect(live.contains { $0["event"] == "chunks" && $0["stage"] == "performance" && $0["done"] == 0 && $0["total"] == 1 })
        #expect(live.contains { $0["event"] == "chunks" && $0["stage"] == "performance" && $0["done"] == 1 && $0["total"] == 1 })
        let run = try #require(live.last?["run"]?.stringValue)

        try await studio.serve { server in
            // Rebuilt from the store: queued, started with the same graph, each stage's last state, finished.
            let events = try await studio.events(server, id)
            #expect(events.first?["event"] == "queued")
            let replayedStart = try #require(events.first { $0["event"] == "started" })
            #expect(replayedStart["run"]?.stringValue == run)
            #expect(Self.graph(replayedStart["stages"]) == Self.offlineGraph)
            let stageEvents = events.filter { $0["event"] == "stage" }
            #expect(Set(stageEvents.compactMap { $0["stage"]?.stringValue }) == Set(Self.offlineGraph.keys))
            for event in stageEvents {
                #expect(event["status"] == "succeeded", "\(JSON.object(event).compactString)")
                #expect(event["seconds"]?.doubleValue ?? -1 >= 0)
            }
            #expect(events.contains { $0["event"] == "chunks" && $0["stage"] == "performance" && $0["done"] == 1 && $0["total"] == 1 })
            let finished = try #require(events.last)
            #expect(finished["event"] == "finished" && finished["status"] == "succeeded" && finished["replayed"] == true)
            #expect(finished["run"]?.stringValue == run)
            #expect(finished["exit_code"] == 0)
            #expect(finished["stages"]?["performance"]?["chunks"] == 1)
            #expect(finished["stages"]?["video"]?["status"] == "succeeded")

            // Polling pages the same events.
            let page = try await studio.get(server, "/api/renders/\(id)/events?from=1").json()
            #expect(page["events"]?.arrayValue?.count == events.count - 1)
            #expect(page["done"] == true)
            #expect(page["events"]?.arrayValue?.first?["event"] == "started")

            // The run, as the page opens it: every stage with its state, time and edges.
            let detail = try await studio.get(server, "/api/runs/\(run)").json()
            let stages = try #require(detail["stages"]?.arrayValue)
            #expect(Self.graph(.array(stages), name: "stage") == Self.offlineGraph)
            #expect(stages.allSatisfy { $0["status"] == "succeeded" && ($0["seconds"]?.doubleValue ?? -1) >= 0 })
            #expect(stages.first { $0["stage"] == "performance" }?["chunks"] == 1)
            #expect(stages.first { $0["stage"] == "performance" }?["chunks_cached"] == 0)
        }
    }

    @Test func uploadsNoRenderNeedsAreRemovedAndWaitingRendersKeepTheirs() async throws {
        let studio = try Studio()
        defer { studio.remove() }
        let long = try await TestMedia.mp3(seconds: 40, to: studio.root.file("long.mp3"))
        let uploads = studio.farm.home.appendingPathComponent("studio/uploads")
        let (running, waiting, unused) = try await studio.serve(["--keep-uploads", "1h"]) { server in
            let running = try await studio.submitOfflineRender(server, song: long)
            let waiting = try await studio.submitOfflineRender(server, song: long)
            let unused = try await studio.upload(server, song: long)
            _ = try await studio.waitFor(server, running, state: "running")
            try await studio.waitForRun(server, running)
            return (running, waiting, unused)
        }
        // All old now, with a stale upload and a partial one a stopped server left.
        let files = try FileManager.default.contentsOfDirectory(atPath: uploads.path)
        #expect(files.count == 3, "\(files)")
        let stale = uploads.appendingPathComponent(String(repeating: "ab", count: 16) + ".mp3")
        let partial = uploads.appendingPathComponent(".0123.part")
        try Data("old".utf8).write(to: stale)
        try Data("half".utf8).write(to: partial)
        let old = Date().addingTimeInterval(-3 * 86400)
        for name in try FileManager.default.contentsOfDirectory(atPath: uploads.path) {
            try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: uploads.appendingPathComponent(name).path)
        }
        let needed: Set = [try await studio.uploadFile(render: running), try await studio.uploadFile(render: waiting)]
        #expect(needed.count == 2)

        try await studio.serve(["--keep-uploads", "2s"]) { server in
            // At start: what the running and the waiting render read stays, old as it is; the rest went.
            #expect(try Self.names(uploads) == needed)
            #expect(!needed.contains { $0.hasPrefix(unused) })
            // A new upload nothing submits goes after the retention; submitting it then is a clear error.
            let fresh = try await studio.upload(server, song: long)
            #expect(try Self.names(uploads).count == 3)
            try await Self.waitUntil { try Self.names(uploads) == needed }
            let late = try await studio.post(server, "/api/renders", .json(["profile": "offline", "upload": .string(fresh)]))
            #expect(late.status == 400)
            #expect(late.errorMessage == "no upload \(fresh) (uploads not used by a waiting render are removed after 2s)")
            #expect(late.hint?.contains("upload the song again") == true)
            // Several retentions later the renders' songs are still there.
            try await Task.sleep(for: .seconds(3))
            #expect(try Self.names(uploads) == needed)
            // Once their renders end, they go too.
            #expect(try await studio.post(server, "/api/renders/\(waiting)/cancel").status == 202)
            #expect(try await studio.post(server, "/api/renders/\(running)/cancel").status == 202)
            _ = try await studio.waitFor(server, running, state: "cancelled")
            try await Self.waitUntil { try Self.names(uploads).isEmpty }
        }
    }

    @Test func keepUploadsMustBeATime() async throws {
        let studio = try Studio()
        defer { studio.remove() }
        for bad in ["soon", "0", "-5m"] {
            let result = try await studio.farm.run(["serve", "--port", "0", "--keep-uploads", bad])
            #expect(result.status == 2, "\(bad): \(result.standardError)")
            #expect(result.standardError.contains("--keep-uploads"), "\(result.standardError)")
            #expect(result.standardError.contains("hint: "))
        }
    }

    static func graph(_ stages: JSON?, name: String = "name") -> [String: [String]] {
        Dictionary(uniqueKeysWithValues: (stages?.arrayValue ?? []).compactMap { stage in
            stage[name]?.stringValue.map { ($0, stage["depends_on"]?.arrayValue?.compactMap(\.stringValue) ?? ["missing"]) }
        })
    }

    static func names(_ folder: URL) throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
    }

    static func waitUntil(timeout: Duration = .seconds(20), _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("the condition never held")
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
