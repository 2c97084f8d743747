import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// Content addressing across song sources, through the real `farm` binary: the same bytes from two
/// links are one artifact, and everything made from the song is reused.
@Suite struct SongSameBytesTests {
    @Test func sameBytesFromTwoLinksAreStoredOnceAndTheStagesAfterTheSongAreCached() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try FileManager.default.copyItem(at: songs.file("tone.wav"), to: songs.file("again.wav"))

        let first = try await sandbox.farm.run(["render", "--profile", "offline", "--song", songs.link("tone.wav"), "--json"])
        #expect(first.status == 0, "\(first.standardError)")
        let second = try await sandbox.farm.run(["render", "--profile", "offline", "--song", songs.link("again.wav"), "--json"])
        #expect(second.status == 0, "\(second.standardError)")
        let events = try second.jsonLines().compactMap(\.objectValue)
        #expect(events.contains { $0["event"] == "download" }, "another link is fetched")
        var statuses = try second.stageStatuses()
        #expect(statuses.removeValue(forKey: "song") != nil)
        #expect(statuses.count == 6 && statuses.values.allSatisfy { $0 == "cached" }, "\(statuses)")
        #expect(try Data(contentsOf: sandbox.file("demo-again.mp4")) == Data(contentsOf: sandbox.file("demo-tone.mp4")))

        let served = try Data(contentsOf: songs.file("tone.wav"))
        let artifacts = sandbox.farm.home.appendingPathComponent("artifacts")
        let copies = (FileManager.default.enumerator(atPath: artifacts.path)?.allObjects as? [String] ?? []).filter { path in
            (try? Data(contentsOf: artifacts.appendingPathComponent(path))) == served
        }
        #expect(copies.count == 1, "the song's bytes are stored once: \(copies)")
        let usage = try await sandbox.farm.run(["cache", "du"])
        #expect(usage.standardOutput.contains("fetched songs  2"), "\(usage.standardOutput)")
    }
}
