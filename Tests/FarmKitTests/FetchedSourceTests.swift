import FarmKit
import FarmTestSupport
import Foundation
import Synchronization
import Testing

@Suite struct FetchedSourceTests {
    @Test func aKeptSourceIsFoundByItsKeyWithItsFacts() async throws {
        try await withTemporaryStore { store, folder in
            let file = try writeFile(folder.file("download"), "song bytes")
            let kept = try await store.keepFetchedSource("https://example.com/a.mp3", file: file, kind: .audio, facts: ["title": "A"])
            #expect(!FileManager.default.fileExists(atPath: file.path), "the download is moved into the store")
            #expect(kept.artifact.kind == .audio)
            let found = try #require(try await store.fetchedSource("https://example.com/a.mp3"))
            #expect(found.artifact == kept.artifact)
            #expect(found.facts == ["title": "A"])
            #expect(abs(found.fetchedAt.timeIntervalSince(kept.fetchedAt)) < 0.001)
            #expect(try await store.fetchedSource("https://example.com/b.mp3") == nil)
            #expect(try await store.usage().fetchedSources == 1)
        }
    }

    @Test func aSourceWhoseFileIsGoneIsForgotten() async throws {
        try await withTemporaryStore { store, folder in
            let kept = try await store.keepFetchedSource("k", file: try writeFile(folder.file("d"), "x"), kind: .audio, facts: [:])
            try FileManager.default.removeItem(at: kept.artifact.path)
            #expect(try await store.fetchedSource("k") == nil)
            #expect(try await store.usage().fetchedSources == 0)
        }
    }

    @Test func gcKeepsFetchedSourcesUntilTheyAreUnusedForLong() async throws {
        try await withTemporaryStore { store, folder in
            let kept = try await store.keepFetchedSource("k", file: try writeFile(folder.file("d"), "x"), kind: .audio, facts: [:])
            let report = try await store.collectGarbage(unusedFor: nil, grace: 0)
            #expect(report.artifacts == 0 && report.fetchedSources == 0)
            #expect(FileManager.default.fileExists(atPath: kept.artifact.path.path))
            #expect(try await store.collectGarbage(unusedFor: 3600, grace: 0).fetchedSources == 0, "used just now")
            let all = try await store.collectGarbage(unusedFor: 0, grace: 0)
            #expect(all.fetchedSources == 1 && all.artifacts == 1)
            #expect(try await store.fetchedSource("k") == nil)
        }
    }
}

@Suite struct PreflightContextTests {
    @Test func withoutAStoreNothingIsCreatedAndScratchFoldersGoAway() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let home = folder.file("home")
        let context = PreflightContext(stageName: "song", home: home)
        #expect(try await context.fetchedSource("k", maxAge: 3600) == nil)
        let scratch = try await context.withScratchFolder { scratch in
            #expect(FileManager.default.fileExists(atPath: scratch.path))
            #expect(!scratch.path.hasPrefix(home.path))
            return scratch
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.path))
        struct Boom: Error {}
        var failed: URL?
        await #expect(throws: Boom.self) {
            try await context.withScratchFolder { scratch in
                failed = scratch
                throw Boom()
            }
        }
        #expect(failed.map { FileManager.default.fileExists(atPath: $0.path) } == false)
        #expect(!FileManager.default.fileExists(atPath: home.path), "no store was created")
    }

    @Test func keptSourcesAreFoundWithinTheirAgeAndScratchFoldersMoveIntoTheStore() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let home = folder.file("home")
        let reports = Mutex<[PreflightReport]>([])
        let context = PreflightContext(stageName: "song", home: home) { report in reports.withLock { $0.append(report) } }
        let kept = try await context.withScratchFolder { scratch in
            try await context.keepFetchedSource("k", file: try writeFile(scratch.appendingPathComponent("d"), "x"), kind: .audio, facts: ["title": "T"])
        }
        #expect(try await context.fetchedSource("k", maxAge: 3600)?.artifact == kept.artifact)
        #expect(try await context.fetchedSource("k", maxAge: 0) == nil, "too old")
        try await context.withScratchFolder { scratch in
            #expect(scratch.path.hasPrefix(home.appendingPathComponent("tmp").path), "once the store exists, scratch is in its tmp/")
        }
        context.progress(received: 10, total: 20)
        context.note("hello")
        #expect(reports.withLock { $0 } == [.download(received: 10, total: 20), .note("hello")])
    }
}
