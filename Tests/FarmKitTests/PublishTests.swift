import FarmTestSupport
import Foundation
import Testing

@testable import FarmKit

/// Writing the finished video where the user asked: all or nothing, and what a killed copy left
/// behind is cleaned up by the next one.
struct PublishTests {
    @Test func publishReplacesTheDestinationAndRemovesOnlyAbandonedPartFiles() async throws {
        let folder = try TemporaryDirectory("farm-publish")
        defer { folder.remove() }
        let source = folder.file("artifact")
        try Data(repeating: 7, count: 3 << 20).write(to: source)
        let artifact = Artifact(digest: "0", path: source, kind: .video, size: 3 << 20)
        // A copy killed midway (nobody holds its lock), and one another process is writing now.
        let abandoned = folder.file(".out.mp4.dead0001.part")
        try Data("half a video".utf8).write(to: abandoned)
        let live = folder.file(".out.mp4.live0001.part")
        try Data("being written".utf8).write(to: live)
        let writer = open(live.path, O_RDONLY)
        defer { close(writer) }
        #expect(flock(writer, LOCK_EX) == 0)
        let other = folder.file(".other.mp4.dead0002.part")
        try Data().write(to: other)

        try await RenderService.publish(artifact, to: folder.file("out.mp4"))
        #expect(try Data(contentsOf: folder.file("out.mp4")) == Data(contentsOf: source))
        #expect(!FileManager.default.fileExists(atPath: abandoned.path), "an abandoned part file was left")
        #expect(FileManager.default.fileExists(atPath: live.path), "a part file still being written was removed")
        #expect(FileManager.default.fileExists(atPath: other.path), "a part file of another destination was removed")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).sorted()
        #expect(names == [".other.mp4.dead0002.part", ".out.mp4.live0001.part", "artifact", "out.mp4"])
        let mode = try FileManager.default.attributesOfItem(atPath: folder.file("out.mp4").path)[.posixPermissions] as? Int
        #expect(mode == 0o644)
    }
}
