import FarmKit
import FarmTestSupport
import Foundation
import Testing

@Suite("FFmpeg mux and concat")
struct MediaVideoTests {
    let ffmpeg = FFmpeg()

    @Test func muxCopiesALongerVideoAndCutsItAtTheAudio() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let video = try await TestMedia.colorVideo(seconds: 6, to: folder.file("v.mp4"), withAudio: true)
        let audio = try await TestMedia.sineWAV(seconds: 3.3, to: folder.file("a.wav"))
        let output = folder.file("out.mp4")
        let handling = try await ffmpeg.muxVideo(video, audio: audio, to: output)
        #expect(handling == .copied)
        let info = try await ffmpeg.probe(output)
        #expect(info.video?.codec == "h264")
        #expect(info.audio?.codec == "aac")
        #expect(abs((info.duration ?? 0) - 3.3) < 0.1)
        let source = try await TestMedia.videoFrameHashes(video)
        let copied = try await TestMedia.videoFrameHashes(output)
        #expect(copied.count >= 82 && copied.count < source.count)
        #expect(Array(source.prefix(copied.count)) == copied, "the frames are the original ones, not re-encoded")
    }

    @Test func muxHoldsTheLastFrameOfAShorterVideo() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let video = try await TestMedia.colorVideo(seconds: 2, to: folder.file("v.mp4"))
        let audio = try await TestMedia.sineWAV(seconds: 5.5, to: folder.file("a.wav"))
        let output = folder.file("out.mp4")
        #expect(try await ffmpeg.muxVideo(video, audio: audio, to: output) == .lastFrameHeld)
        let info = try await ffmpeg.probe(output)
        #expect(info.video?.codec == "h264")
        #expect(info.audio?.codec == "aac")
        #expect(abs((info.duration ?? 0) - 5.5) < 0.1)
        #expect(abs((info.video?.duration ?? 0) - 5.5) < 0.1, "the picture lasts as long as the sound")
        let source = try await TestMedia.videoFrameHashes(video)
        let held = try await TestMedia.videoFrameHashes(output)
        #expect(abs(Double(held.count) - 5.5 * 25) <= 2)
        #expect(Array(held.prefix(source.count)) != source, "re-encoded, so not the original frames")
    }

    @Test func muxReencodesAnotherCodec() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let video = folder.file("v.mkv")
        try await ffmpeg.run(["-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=3", "-c:v", "mpeg4", video.path])
        let audio = try await TestMedia.sineWAV(seconds: 2, to: folder.file("a.wav"))
        let output = folder.file("out.mp4")
        #expect(try await ffmpeg.muxVideo(video, audio: audio, to: output) == .reencoded)
        let info = try await ffmpeg.probe(output)
        #expect(info.video?.codec == "h264")
        #expect(abs((info.duration ?? 0) - 2) < 0.1)
    }

    @Test func muxRejectsAnAudioInputWithoutSound() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let video = try await TestMedia.colorVideo(seconds: 1, to: folder.file("v.mp4"))
        await #expect {
            try await ffmpeg.muxVideo(video, audio: video, to: folder.file("out.mp4"))
        } throws: { error in
            "\(error)" == "\(video.path) has no audio stream"
        }
    }

    @Test func concatCopiesMatchingClips() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let first = try await TestMedia.colorVideo(seconds: 2, color: "navy", to: folder.file("it's 1.mp4"), withAudio: true)
        let second = try await TestMedia.colorVideo(seconds: 3, color: "olive", to: folder.file("b.mp4"), withAudio: true)
        let output = folder.file("joined.mp4")
        #expect(try await ffmpeg.concatVideos([first, second], to: output) == .copied)
        let info = try await ffmpeg.probe(output)
        #expect(abs((info.duration ?? 0) - 5) < 0.15)
        #expect(info.audio?.codec == "aac")
        let joined = try await TestMedia.videoFrameHashes(output)
        let expected = try await TestMedia.videoFrameHashes(first) + TestMedia.videoFrameHashes(second)
        #expect(joined == expected, "the frames are the original ones, not re-encoded")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { $0.hasPrefix(".concat") }
        #expect(leftovers.isEmpty)
    }

    @Test func concatReencodesDifferentClips() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let first = try await TestMedia.colorVideo(seconds: 2, size: "320x240", rate: 25, to: folder.file("a.mp4"), withAudio: true)
        let second = try await TestMedia.colorVideo(seconds: 1.5, size: "160x160", rate: 30, to: folder.file("b.mp4"))
        let output = folder.file("joined.mp4"), again = folder.file("again.mp4")
        #expect(try await ffmpeg.concatVideos([first, second], to: output) == .reencoded)
        try await ffmpeg.concatVideos([first, second], to: again)
        let info = try await ffmpeg.probe(output)
        #expect(info.video?.codec == "h264")
        #expect(info.video?.width == 320 && info.video?.height == 240)
        #expect(info.video?.frameRate == 25)
        #expect(info.audio?.codec == "aac")
        #expect(abs((info.duration ?? 0) - 3.5) < 0.15)
        #expect(try Data(contentsOf: output) == Data(contentsOf: again))
    }
}
