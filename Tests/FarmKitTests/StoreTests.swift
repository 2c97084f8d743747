import FarmKit
import FarmTestSupport
import Foundation
import Testing

@Suite struct StoreTests {
    @Test func defaultHomeFollowsFarmHomeThenXDG() {
        #expect(Store.defaultHome(environment: ["FARM_HOME": "/srv/farm", "XDG_DATA_HOME": "/x"]).path == "/srv/farm")
        #expect(Store.defaultHome(environment: ["FARM_HOME": "", "XDG_DATA_HOME": "/x"]).path == "/x/farm")
        #expect(Store.defaultHome(environment: ["HOME": "/home/ann"]).path == "/home/ann/.local/share/farm")
    }

    @Test func openingCreatesTheLayout() async throws {
        try await withTemporaryStore { store, _ in
            for name in ["farm.sqlite", "artifacts", "tmp"] {
                #expect(FileManager.default.fileExists(atPath: store.home.appendingPathComponent(name).path))
            }
        }
    }

    @Test func importingTheSameBytesTwiceKeepsOneFile() async throws {
        try await withTemporaryStore { store, folder in
            let first = try writeFile(folder.file("a.wav"), "the same bytes")
            let second = try writeFile(folder.file("b.wav"), "the same bytes")
            let a = try await store.importFile(at: first, kind: .audio, move: false)
            let b = try await store.importFile(at: second, kind: .audio, move: false)
            let again = try await store.importFile(at: first, kind: .audio, move: false)

            #expect(a.digest == (try SHA256.hexOfFile(at: first)))
            #expect(b == a)
            #expect(again == a)
            #expect(a.size == 14)
            #expect(a.path.path.hasSuffix("artifacts/\(a.digest.prefix(2))/\(a.digest)"))
            #expect(regularFiles(under: store.home.appendingPathComponent("artifacts")).count == 1)
            #expect(try String(contentsOf: a.path, encoding: .utf8) == "the same bytes")
            #expect(try await store.artifact(digest: a.digest) == a)
        }
    }

    @Test func artifactFilesAreReadOnly() async throws {
        try await withTemporaryStore { store, folder in
            let copied = try await store.importFile(at: try writeFile(folder.file("c"), "copied"), kind: .file, move: false)
            let moved = try await store.importFile(at: try writeFile(folder.file("m"), "moved"), kind: .file, move: true)
            #expect(try permissions(copied.path) == 0o444)
            #expect(try permissions(moved.path) == 0o444)
        }
    }

    @Test func copyKeepsTheSourceAndMoveRemovesIt() async throws {
        try await withTemporaryStore { store, folder in
            let kept = try writeFile(folder.file("kept.png"), "image bytes")
            let copied = try await store.importFile(at: kept, kind: .image, move: false)
            #expect(FileManager.default.fileExists(atPath: kept.path))
            #expect(try permissions(kept) != 0o444)

            let moved = try writeFile(folder.file("moved.mp4"), "video bytes")
            let artifact = try await store.importFile(at: moved, kind: .video, move: true)
            #expect(!FileManager.default.fileExists(atPath: moved.path))
            #expect(try String(contentsOf: artifact.path, encoding: .utf8) == "video bytes")
            #expect(artifact.kind == .video)

            // A moved duplicate is removed too; the stored file stays.
            let duplicate = try writeFile(folder.file("again.png"), "image bytes")
            #expect(try await store.importFile(at: duplicate, kind: .image, move: true) == copied)
            #expect(!FileManager.default.fileExists(atPath: duplicate.path))
            #expect(FileManager.default.fileExists(atPath: copied.path.path))
        }
    }

    @Test func importLeavesNoPartialFiles() async throws {
        try await withTemporaryStore { store, folder in
            let big = folder.file("big.bin")
            try Data((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: big)
            async let one = store.importFile(at: big, kind: .file, move: false)
            async let two = store.importFile(at: big, kind: .file, move: false)
            let (a, b) = try await (one, two)
            #expect(a == b)

            // A failed import (missing source) leaves nothing behind.
            await #expect(throws: StoreError.self) {
                try await store.importFile(at: folder.file("missing"), kind: .file, move: true)
            }

            let tmp = store.home.appendingPathComponent("tmp")
            #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path).isEmpty)
            #expect(try await store.usage().tmpBytes == 0)
            for file in regularFiles(under: store.home.appendingPathComponent("artifacts")) {
                #expect(try SHA256.hexOfFile(at: file) == file.lastPathComponent)
            }
        }
    }

    @Test func aPartialWriteLeftInTmpIsNotAnArtifact() async throws {
        try await withTemporaryStore { store, folder in
            let source = try writeFile(folder.file("song.wav"), "complete song")
            let digest = try SHA256.hexOfFile(at: source)
            // What a crash mid-copy leaves: a temp file with part of the bytes.
            try writeFile(store.home.appendingPathComponent("tmp/import.999999999.dead"), "compl")
            #expect(try await store.artifact(digest: digest) == nil)
            let artifact = try await store.importFile(at: source, kind: .audio, move: false)
            #expect(artifact.size == 13)
            #expect(try await store.usage().tmpBytes == 5)
        }
    }

    @Test func unknownOrInvalidDigestsAreNotArtifacts() async throws {
        try await withTemporaryStore { store, _ in
            for digest in [String(repeating: "a", count: 64), "../../etc/passwd", ""] {
                let artifact = try await store.artifact(digest: digest)
                #expect(artifact == nil)
            }
        }
    }

    @Test func fileDigestsAreMemoisedByPathSizeAndModificationTime() async throws {
        try await withTemporaryStore { store, folder in
            let file = try writeFile(folder.file("song.wav"), "AAAA")
            let first = try await store.digestOfFile(at: file)
            #expect(first == SHA256.hex(of: "AAAA"))

            // Same size, same mtime, same inode: the memo answers (the file is not re-hashed).
            let time = modificationTime(file)
            let handle = try FileHandle(forWritingTo: file)
            try handle.write(contentsOf: Data("BBBB".utf8))
            try handle.close()
            restoreModificationTime(file, time)
            #expect(try await store.digestOfFile(at: file) == first)

            // Same size but a new mtime: hashed again.
            try setModified(file, to: Date().addingTimeInterval(10))
            #expect(try await store.digestOfFile(at: file) == SHA256.hex(of: "BBBB"))
        }
    }

    @Test func digestOfAMissingFileNamesIt() async throws {
        try await withTemporaryStore { store, folder in
            let missing = folder.file("nope.wav")
            let error = await #expect(throws: StoreError.self) { try await store.digestOfFile(at: missing) }
            #expect(error?.message.contains(missing.path) == true)
        }
    }

    @Test func scratchDirectoriesAreFreshFoldersUnderTmp() async throws {
        try await withTemporaryStore { store, _ in
            let a = try store.makeScratchDirectory(label: "portrait/1")
            let b = try store.makeScratchDirectory(label: "portrait/1")
            #expect(a != b)
            #expect(a.deletingLastPathComponent().lastPathComponent == "tmp")
            #expect(a.lastPathComponent.hasPrefix("portrait-1."))
            #expect(try FileManager.default.contentsOfDirectory(atPath: a.path).isEmpty)
        }
    }
}

@Suite struct StoreCacheTests {
    @Test func storedResultsComeBack() async throws {
        try await withTemporaryStore { store, folder in
            let audio = try await store.importFile(at: try writeFile(folder.file("a"), "audio"), kind: .audio, move: true)
            let video = try await store.importFile(at: try writeFile(folder.file("v"), "video"), kind: .video, move: true)
            let metadata: [String: JSON] = ["seconds": 12.5, "model": "sonic", "tags": ["a", 1]]
            try await store.storeResult(
                forKey: "key-1", stage: StageID("offline.video", version: 2),
                outputs: ["audio": audio, "video": video], metadata: metadata)

            let result = try #require(try await store.cachedResult(forKey: "key-1"))
            #expect(result.outputs == ["audio": audio, "video": video])
            #expect(result.metadata == metadata)
            #expect(result.stage == "offline.video@2")
            #expect(abs(result.createdAt.timeIntervalSinceNow) < 60)
            #expect(try await store.cachedResult(forKey: "key-2") == nil)
        }
    }

    @Test func storingAgainReplacesTheResult() async throws {
        try await withTemporaryStore { store, folder in
            let first = try await store.importFile(at: try writeFile(folder.file("1"), "one"), kind: .image, move: true)
            let second = try await store.importFile(at: try writeFile(folder.file("2"), "two"), kind: .image, move: true)
            let stage = StageID("offline.image", version: 1)
            try await store.storeResult(forKey: "k", stage: stage, outputs: ["image": first, "extra": first], metadata: [:])
            try await store.storeResult(forKey: "k", stage: stage, outputs: ["image": second], metadata: ["n": 2])
            let result = try #require(try await store.cachedResult(forKey: "k"))
            #expect(result.outputs == ["image": second])
            #expect(result.metadata == ["n": 2])
        }
    }

    @Test func aMissingOrChangedArtifactDropsTheEntry() async throws {
        try await withTemporaryStore { store, folder in
            let kept = try await store.importFile(at: try writeFile(folder.file("k"), "kept"), kind: .audio, move: true)
            let lost = try await store.importFile(at: try writeFile(folder.file("l"), "lost"), kind: .audio, move: true)
            let stage = StageID("offline.voice", version: 1)
            try await store.storeResult(forKey: "missing", stage: stage, outputs: ["a": kept, "b": lost], metadata: [:])
            try await store.storeResult(forKey: "changed", stage: stage, outputs: ["a": kept], metadata: [:])

            try FileManager.default.removeItem(at: lost.path)
            #expect(try await store.cachedResult(forKey: "missing") == nil)

            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: kept.path.path)
            try writeFile(kept.path, "kept, but longer")
            #expect(try await store.cachedResult(forKey: "changed") == nil)
            #expect(try await store.usage().cacheEntries == 0)
        }
    }

    @Test func storingAnArtifactTheStoreDoesNotHoldFails() async throws {
        try await withTemporaryStore { store, folder in
            let outside = try writeFile(folder.file("outside"), "bytes")
            let artifact = Artifact(digest: SHA256.hex(of: "bytes"), path: outside, kind: .file, size: 5)
            let error = await #expect(throws: StoreError.self) {
                try await store.storeResult(
                    forKey: "k", stage: StageID("x.y", version: 1), outputs: ["out": artifact], metadata: [:])
            }
            guard case .artifactMissing(let digest, _) = error else {
                Issue.record("expected artifactMissing, got \(String(describing: error))")
                return
            }
            #expect(digest == artifact.digest)
            #expect(try await store.cachedResult(forKey: "k") == nil)
        }
    }

    @Test func theJournalSurvivesReopeningTheStore() async throws {
        let folder = try TemporaryDirectory("farm-store")
        defer { folder.remove() }
        let home = folder.file("home")
        do {
            let journal = try Store(home: home).journal(forKey: "cache-key")
            try await journal.remember("prediction", "abc123")
            try await journal.remember("prediction", "def456")
            try await journal.remember("upload", "https://example.com/x")
        }
        let reopened = try Store(home: home)
        let journal = reopened.journal(forKey: "cache-key")
        #expect(try await journal.recall("prediction") == "def456")
        #expect(try await journal.recall("upload") == "https://example.com/x")
        #expect(try await journal.recall("other") == nil)
        #expect(try await reopened.journal(forKey: "another-key").recall("prediction") == nil)
    }
}

@Suite struct StoreCancellationTests {
    @Test func recordsLandEvenWhenTheCallerIsCancelled() async throws {
        try await withTemporaryStore { store, _ in
            let run = try await store.createRun(NewRun(profile: "p", subject: "s", song: "t", request: [:]))
            let task = Task {
                while !Task.isCancelled { await Task.yield() }
                try await store.journal(forKey: "k").remember("prediction", "p-1")
                try await store.finishRun(id: run.id, status: .interrupted, output: nil, error: "interrupted")
            }
            task.cancel()
            try await task.value
            #expect(try await store.journal(forKey: "k").recall("prediction") == "p-1")
            #expect(try await store.run(id: run.id)?.0.status == .interrupted)
        }
    }
}
