@testable import FarmKit
import FarmTestSupport
import Foundation
import Testing

@Suite struct StoreMaintenanceTests {
    @Test func usageCountsFilesOnDiskAndRecords() async throws {
        try await withTemporaryStore { store, folder in
            #expect(try await store.usage() == StoreUsage())
            let a = try await store.importFile(at: try writeFile(folder.file("a"), "0123456789"), kind: .file, move: true)
            let twenty = try writeFile(folder.file("b"), String(repeating: "b", count: 20))
            _ = try await store.importFile(at: twenty, kind: .file, move: true)
            try await store.storeResult(forKey: "k", stage: StageID("x.y", version: 1), outputs: ["out": a], metadata: [:])
            _ = try await store.createRun(NewRun(profile: "p", subject: "s", song: "t", request: [:]))
            let scratch = try store.makeScratchDirectory(label: "stage")
            try writeFile(scratch.appendingPathComponent("part"), "12345")

            let usage = try await store.usage()
            #expect(usage.artifacts == 2)
            #expect(usage.artifactBytes == 30)
            #expect(usage.cacheEntries == 1)
            #expect(usage.runs == 1)
            #expect(usage.tmpBytes == 5)
        }
    }

    @Test func gcRemovesUnusedEntriesAndUnreferencedArtifactsButKeepsRunOutputs() async throws {
        try await withTemporaryStore { store, folder in
            func importing(_ text: String) async throws -> Artifact {
                try await store.importFile(at: try writeFile(folder.file(text), text), kind: .file, move: true)
            }
            let cached = try await importing("cached")
            let output = try await importing("run output")
            let loose = try await importing("loose")
            let stage = StageID("x.y", version: 1)
            try await store.storeResult(forKey: "k", stage: stage, outputs: ["out": cached], metadata: [:])
            let run = try await store.createRun(NewRun(profile: "p", subject: "s", song: "t", request: [:]))
            try await store.finishRun(id: run.id, status: .succeeded, output: "/o.mp4", outputDigest: output.digest, error: nil)
            try await store.journal(forKey: "failed-stage").remember("prediction", "p1")

            // Within the grace period an unreferenced artifact stays (a render may be about to use it).
            #expect(try await store.collectGarbage(unusedFor: nil) == GarbageReport())

            var report = try await store.collectGarbage(unusedFor: nil, grace: 0)
            #expect(report == GarbageReport(artifacts: 1, artifactBytes: 5))
            #expect(!FileManager.default.fileExists(atPath: loose.path.path))
            #expect(try await store.artifact(digest: loose.digest) == nil)
            #expect(try await store.cachedResult(forKey: "k") != nil)

            // Entries used within the last hour are kept.
            report = try await store.collectGarbage(unusedFor: 3600, grace: 0)
            #expect(report == GarbageReport())

            report = try await store.collectGarbage(unusedFor: 0, grace: 0)
            #expect(report == GarbageReport(cacheEntries: 1, journalEntries: 1, artifacts: 1, artifactBytes: 6))
            #expect(try await store.cachedResult(forKey: "k") == nil)
            #expect(try await store.journal(forKey: "failed-stage").recall("prediction") == nil)
            #expect(try await store.artifact(digest: output.digest) == output)
            let usage = try await store.usage()
            #expect(usage.artifacts == 1)
            #expect(usage.runs == 1)
        }
    }

    @Test func gcRemovesStaleTemporaryEntriesOfGoneProcesses() async throws {
        try await withTemporaryStore { store, _ in
            let tmp = store.home.appendingPathComponent("tmp")
            let old = Date().addingTimeInterval(-7200)
            let crashed = try writeFile(tmp.appendingPathComponent("import.999999999.dead"), "partial")
            try setModified(crashed, to: old)
            let junk = try writeFile(tmp.appendingPathComponent("junk"), "x")
            try setModified(junk, to: old)
            let young = try writeFile(tmp.appendingPathComponent("import.999999999.young"), "in flight")
            // A scratch folder of this (running) process stays however old it is.
            let scratch = try store.makeScratchDirectory(label: "sonic")
            try writeFile(scratch.appendingPathComponent("frame"), "frame")
            try setModified(scratch, to: old)

            let report = try await store.collectGarbage(unusedFor: nil)
            #expect(report == GarbageReport(tmpEntries: 2, tmpBytes: 8))
            #expect(!FileManager.default.fileExists(atPath: crashed.path))
            #expect(!FileManager.default.fileExists(atPath: junk.path))
            #expect(FileManager.default.fileExists(atPath: young.path))
            #expect(FileManager.default.fileExists(atPath: scratch.path))
        }
    }

    @Test func aHomeInsideAFileCannotBeCreated() throws {
        let folder = try TemporaryDirectory("farm-store")
        defer { folder.remove() }
        let file = try writeFile(folder.file("file"), "not a folder")

        let inside = #expect(throws: StoreError.self) { try Store(home: file.appendingPathComponent("sub")) }
        #expect(inside?.message == "cannot create FARM_HOME \(file.path)/sub: \(file.path) is not a folder")
        #expect(inside?.hint == "set FARM_HOME to a folder you can write, or fix its permissions")

        let itself = #expect(throws: StoreError.self) { try Store(home: file) }
        #expect(itself == .notAFolder(file))
        #expect(itself?.message == "FARM_HOME \(file.path) is not a folder")
        #expect(itself?.hint != nil)
    }

    @Test(.disabled(if: runningAsRoot, "root may write any folder"))
    func aReadOnlyHomeIsNotWritable() throws {
        let folder = try TemporaryDirectory("farm-store")
        defer { folder.remove() }
        let home = folder.file("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o500], ofItemAtPath: home.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: home.path) }

        let error = #expect(throws: StoreError.self) { try Store(home: home) }
        #expect(error?.message == "FARM_HOME \(home.path) is not writable")
        #expect(error?.hint == "set FARM_HOME to a folder you can write, or fix its permissions")
    }

    @Test func aDamagedDatabaseIsReported() throws {
        let folder = try TemporaryDirectory("farm-store")
        defer { folder.remove() }
        let home = folder.file("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try Data(repeating: 0x42, count: 8192).write(to: home.appendingPathComponent("farm.sqlite"))

        let error = #expect(throws: StoreError.self) { try Store(home: home) }
        guard case .corruptDatabase(let path, _) = error else {
            Issue.record("expected corruptDatabase, got \(String(describing: error))")
            return
        }
        #expect(path.lastPathComponent == "farm.sqlite")
        #expect(error?.message.contains(home.path) == true)
    }
}
