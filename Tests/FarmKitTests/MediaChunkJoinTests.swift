import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// Joining chunk videos: the result is exactly as long as the frames asked for, however long the
/// chunks came back (Sonic's are up to ~0.1 s short).
@Suite("FFmpeg chunk join")
struct MediaChunkJoinTests {
    let ffmpeg = FFmpeg()

    func sound(_ seconds: Double, in folder: TemporaryDirectory) async throws -> URL {
        let wav = try await TestMedia.sineWAV(seconds: seconds, to: folder.file("sound.wav"))
        let m4a = folder.file("sound.m4a")
        try await ffmpeg.encodeAAC(wav, to: m4a)
        return m4a
    }

    func frames(_ url: URL) async throws -> Int { try await TestMedia.videoFrameHashes(url).count }

    @Test func cutJoinCopiesClipsAndIsFrameExactEvenWithAShortClip() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let clips = [
            try await TestMedia.colorVideo(seconds: 4, color: "navy", to: folder.file("a.mp4")),
            try await TestMedia.colorVideo(seconds: 3.92, color: "maroon", to: folder.file("b.mp4")),
            try await TestMedia.colorVideo(seconds: 4, color: "olive", to: folder.file("c.mp4")),
        ]
        let output = folder.file("joined.mp4")
        let handling = try await ffmpeg.joinChunks(
            clips.map { FFmpeg.ChunkClip(url: $0, frames: 100) }, overlapFrames: 0, frameRate: 25,
            audio: try await sound(12, in: folder), to: output)
        #expect(handling == .copied)
        let info = try await ffmpeg.probe(output)
        #expect(abs((info.video?.duration ?? 0) - 12) <= 0.04 + 1e-6, "video lasts \(info.video?.duration ?? 0) s")
        #expect(info.audio?.codec == "aac")
        // The third clip starts at 8 s, where it belongs, although the second was two frames short.
        let hashes = try await TestMedia.videoFrameHashes(output)
        let third = try await TestMedia.videoFrameHashes(clips[2])
        #expect(Array(hashes.suffix(100)) == third)
    }

    @Test func aClipLongerThanItsSpanIsCut() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let clips = [
            try await TestMedia.colorVideo(seconds: 4.2, color: "navy", to: folder.file("a.mp4")),
            try await TestMedia.colorVideo(seconds: 4.4, color: "maroon", to: folder.file("b.mp4")),
        ]
        let output = folder.file("joined.mp4")
        try await ffmpeg.joinChunks(clips.map { FFmpeg.ChunkClip(url: $0, frames: 100) }, overlapFrames: 0, frameRate: 25,
                                    audio: try await sound(8, in: folder), to: output)
        let info = try await ffmpeg.probe(output)
        #expect(abs((info.video?.duration ?? 0) - 8) <= 0.04 + 1e-6, "video lasts \(info.video?.duration ?? 0) s")
        #expect(try await frames(output) == 200)
    }

    @Test func clipsOfDifferentSizesAreEncodedAgainToExactFrames() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let clips = [
            try await TestMedia.colorVideo(seconds: 2, size: "320x240", to: folder.file("a.mp4")),
            try await TestMedia.colorVideo(seconds: 1.9, size: "160x120", to: folder.file("b.mp4")),
        ]
        let output = folder.file("joined.mp4")
        let handling = try await ffmpeg.joinChunks(
            [FFmpeg.ChunkClip(url: clips[0], frames: 50), FFmpeg.ChunkClip(url: clips[1], frames: 52)], overlapFrames: 0,
            frameRate: 25, audio: try await sound(4.08, in: folder), to: output)
        #expect(handling == .reencoded)
        let info = try await ffmpeg.probe(output)
        #expect(info.video?.width == 320 && info.video?.height == 240)
        #expect(try await frames(output) == 102)
    }

    @Test func crossFadedChunksBlendTheirOverlapAndKeepTheTotalLength() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let clips = [
            try await TestMedia.colorVideo(seconds: 4.4, color: "navy", to: folder.file("a.mp4")),
            try await TestMedia.colorVideo(seconds: 4.8, color: "maroon", to: folder.file("b.mp4")),
            try await TestMedia.colorVideo(seconds: 4.4, color: "olive", to: folder.file("c.mp4")),
        ]
        let output = folder.file("joined.mp4")
        let handling = try await ffmpeg.joinChunks(
            [FFmpeg.ChunkClip(url: clips[0], frames: 110), FFmpeg.ChunkClip(url: clips[1], frames: 120),
             FFmpeg.ChunkClip(url: clips[2], frames: 110)],
            overlapFrames: 20, frameRate: 25, audio: try await sound(12, in: folder), to: output)
        #expect(handling == .reencoded)
        #expect(try await frames(output) == 300)
        let info = try await ffmpeg.probe(output)
        #expect(abs((info.video?.duration ?? 0) - 12) <= 0.04 + 1e-6)

        // Navy (0, 0, 128) until frame 90, then 20 frames fading to maroon (128, 0, 0), which is pure
        // from frame 110. Measured below the moving box.
        let below = "iw:ih/2:0:ih/2"
        let navy = try await TestMedia.frameColor(output, frame: 85, crop: below)
        let middle = try await TestMedia.frameColor(output, frame: 100, crop: below)
        let maroon = try await TestMedia.frameColor(output, frame: 115, crop: below)
        #expect(navy[0] < 16 && navy[2] > 112, "frame 85 is not navy: \(navy)")
        #expect(maroon[0] > 112 && maroon[2] < 16, "frame 115 is not maroon: \(maroon)")
        #expect((40...88).contains(middle[0]) && (40...88).contains(middle[2]), "frame 100 is not a blend of both: \(middle)")
    }
}
