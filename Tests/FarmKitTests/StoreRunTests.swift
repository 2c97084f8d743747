import FarmKit
import FarmTestSupport
import Foundation
import Synchronization
import Testing

@Suite struct StoreRunTests {
    private func newRun(_ song: String = "song.wav") -> NewRun {
        NewRun(profile: "offline", subject: "alice", song: song, request: ["set": ["portrait.seed=7"], "json": true])
    }

    @Test func runsAreCreatedUpdatedFinishedAndListed() async throws {
        try await withTemporaryStore { store, _ in
            let first = try await store.createRun(newRun("one.wav"))
            let second = try await store.createRun(newRun("two.wav"))
            #expect(first.id.wholeMatch(of: /\d{8}-\d{6}-[0-9a-f]{4}/) != nil)
            #expect(first.status == .running)
            #expect(first.id != second.id)

            let started = Date()
            var portrait = StageRunRecord(
                stage: "portrait", implementation: "offline.image@1", provider: "offline", cacheKey: "k1",
                status: .running, startedAt: started)
            try await store.updateStage(runID: first.id, portrait)
            let video = StageRunRecord(
                stage: "video", implementation: "ffmpeg.mux@1", provider: "ffmpeg", status: .waiting)
            try await store.updateStage(runID: first.id, video)
            portrait.status = .succeeded
            portrait.finishedAt = started.addingTimeInterval(2.5)
            portrait.seconds = 2.5
            portrait.log = "line 1\nline 2"
            portrait.metadata = ["seed": 7]
            try await store.updateStage(runID: first.id, portrait)

            let output = String(repeating: "c", count: 64)
            try await store.finishRun(
                id: first.id, status: .succeeded, output: "/out/one.mp4", outputDigest: output, error: nil)
            try await store.finishRun(id: second.id, status: .failed, output: nil, error: "stage cover failed")

            let (run, stages) = try #require(try await store.run(id: first.id))
            #expect(run.status == .succeeded)
            #expect(run.output == "/out/one.mp4")
            #expect(run.outputDigest == output)
            #expect(run.request == newRun().request)
            #expect(run.song == "one.wav")
            #expect(run.finishedAt != nil)
            #expect(stages == [portrait, video])
            #expect(stages[0].cached == false)

            let listed = try await store.runs(limit: 10)
            #expect(listed.map(\.id) == [second.id, first.id])
            #expect(listed[0].error == "stage cover failed")
            #expect(try await store.runs(limit: 1).map(\.id) == [second.id])
        }
    }

    @Test func aRunKeepsItsStageGraph() async throws {
        try await withTemporaryStore { store, _ in
            let graph: JSON = [["name": "song", "implementation": "fetch.song@1", "provider": "fetch", "depends_on": []],
                               ["name": "cover", "implementation": "offline.voice@1", "provider": "offline", "depends_on": ["song"]]]
            let created = try await store.createRun(NewRun(profile: "offline", subject: "alice", song: "a.wav", request: [:], graph: graph))
            #expect(created.graph == graph)
            let (run, _) = try #require(try await store.run(id: created.id))
            #expect(run.graph == graph)
            let plain = try await store.createRun(newRun())
            #expect(try await store.run(id: plain.id)?.0.graph == nil)
        }
    }

    @Test func queueEntriesAreNarrowedByStateBeforeTheLimit() async throws {
        try await withTemporaryStore { store, _ in
            let waiting = try await store.enqueue(["profile": "offline"])
            for _ in 0..<3 {
                let done = try await store.enqueue(["profile": "offline"])
                _ = try await store.updateQueueEntry(id: done.id, state: .finished)
            }
            #expect(try await store.queueEntries(states: [.queued], limit: 1).map(\.id) == [waiting.id])
            #expect(try await store.queueEntries(states: [.finished], limit: 2).count == 2)
            #expect(try await store.queueEntries().count == 4)
        }
    }

    @Test func runsAreFoundByAUniquePrefix() async throws {
        try await withTemporaryStore { store, _ in
            let ids = try await [store.createRun(newRun()), store.createRun(newRun()), store.createRun(newRun())].map(\.id)
            for id in ids {
                // The shortest prefix of `id` that no other id shares.
                let length = (1...id.count).first { n in ids.filter { $0.hasPrefix(id.prefix(n)) }.count == 1 }!
                let found = try await store.run(id: String(id.prefix(length)))
                #expect(found?.0.id == id)
            }
            let error = await #expect(throws: StoreError.self) { try await store.run(id: String(ids[0].prefix(4))) }
            if case .ambiguousRunID(_, let matches) = error {
                #expect(Set(matches) == Set(ids))
            } else {
                Issue.record("expected ambiguousRunID, got \(String(describing: error))")
            }
            #expect(try await store.run(id: "19990101") == nil)
        }
    }

    @Test func updatingAnUnknownRunFails() async throws {
        try await withTemporaryStore { store, _ in
            let record = StageRunRecord(stage: "video", implementation: "ffmpeg.mux@1", provider: "ffmpeg", status: .waiting)
            await #expect(throws: StoreError.unknownRun("nope")) { try await store.updateStage(runID: "nope", record) }
            await #expect(throws: StoreError.unknownRun("nope")) {
                try await store.finishRun(id: "nope", status: .failed, output: nil, error: nil)
            }
        }
    }

    @Test func twoStoresOnOneHomeWriteAtTheSameTime() async throws {
        let folder = try TemporaryDirectory("farm-store")
        defer { folder.remove() }
        let home = folder.file("home")
        let stores = [try Store(home: home), try Store(home: home)]
        let source = try writeFile(folder.file("shared.wav"), String(repeating: "x", count: 100_000))

        let digests = try await withThrowingTaskGroup(of: String.self) { group in
            for (index, store) in stores.enumerated() {
                group.addTask {
                    for n in 0..<40 {
                        let run = try await store.createRun(
                            NewRun(profile: "p", subject: "s\(index)", song: "\(n)", request: .null))
                        try await store.updateStage(
                            runID: run.id,
                            StageRunRecord(
                                stage: "video", implementation: "ffmpeg.mux@1", provider: "ffmpeg", status: .running))
                        try await store.journal(forKey: "k\(index)").remember("n", "\(n)")
                        try await store.finishRun(id: run.id, status: .succeeded, output: nil, error: nil)
                    }
                    return try await store.importFile(at: source, kind: .audio, move: false).digest
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(digests).count == 1)
        #expect(try await stores[0].runs(limit: 1000).count == 80)
        #expect(try await stores[1].journal(forKey: "k0").recall("n") == "39")
        #expect(regularFiles(under: home.appendingPathComponent("artifacts")).count == 1)
    }

    @Test func severalProcessesMayOpenAFreshStoreAtOnce() throws {
        let folder = try TemporaryDirectory("farm-store")
        defer { folder.remove() }
        let failures = Mutex<[String]>([])
        // The race (both see no migration applied, one creates the tables first) is rare: try a few homes.
        for home in (0..<10).map({ folder.file("home\($0)") }) {
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                do {
                    _ = try Store(home: home)
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 } == [])
    }
}
