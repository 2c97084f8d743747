import FarmKit
import FarmTestSupport
import Foundation
import Testing

@Suite("FFmpeg audio and probe")
struct MediaFFmpegTests {
    let ffmpeg = FFmpeg()

    @Test func probesAWAV() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let info = try await ffmpeg.probe(try await TestMedia.sineWAV(seconds: 2, channels: 1, to: folder.file("a.wav")))
        #expect(info.formatName == "wav")
        #expect(abs((info.duration ?? 0) - 2) < 0.01)
        let audio = try #require(info.audio)
        #expect(audio.codec == "pcm_s16le")
        #expect(audio.sampleRate == 44100)
        #expect(audio.channels == 1)
        #expect(abs((audio.duration ?? 0) - 2) < 0.01)
        #expect(info.video == nil)
    }

    @Test func probeReadsTagsAndSkipsCoverArt() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let song = try await TestMedia.mp3(
            seconds: 3, to: folder.file("song.mp3"), title: "Blue Song", artist: "Ann", coverArt: true)
        let info = try await ffmpeg.probe(song)
        #expect(info.formatName == "mp3")
        #expect(info.audio?.codec == "mp3")
        #expect(info.audio?.channels == 2)
        #expect(info.video == nil, "an attached picture is not a video stream")
        #expect(info.tags["title"] == "Blue Song")
        #expect(info.tags["artist"] == "Ann")
    }

    @Test func probesAVideo() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let info = try await ffmpeg.probe(
            try await TestMedia.colorVideo(seconds: 2, size: "320x240", rate: 25, to: folder.file("v.mp4"), withAudio: true))
        let video = try #require(info.video)
        #expect(video.codec == "h264")
        #expect(video.width == 320 && video.height == 240)
        #expect(video.frameRate == 25)
        #expect(abs((video.duration ?? 0) - 2) < 0.05)
        #expect(info.audio?.codec == "aac")
        #expect(info.formatName.contains("mp4"))
    }

    @Test func probeOfANonMediaFileFailsWithFFprobesMessage() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let text = folder.file("notes.txt")
        try "just some words\n".write(to: text, atomically: true, encoding: .utf8)
        await #expect {
            _ = try await ffmpeg.probe(text)
        } throws: { error in
            guard case MediaError.failed(let tool, let status, let tail) = error else { return false }
            return tool == "ffprobe" && status != 0 && tail.contains("Invalid data found")
        }
    }

    @Test func normalizeMakesStereo44kPCMAndIsReproducible() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let song = try await TestMedia.mp3(seconds: 4, to: folder.file("song.mp3"), title: "T")
        let first = folder.file("a.wav"), second = folder.file("b.wav")
        try await ffmpeg.normalizeAudio(song, to: first)
        try await ffmpeg.normalizeAudio(song, to: second)
        let info = try await ffmpeg.probe(first)
        #expect(info.formatName == "wav")
        #expect(info.audio?.codec == "pcm_s16le")
        #expect(info.audio?.sampleRate == 44100)
        #expect(info.audio?.channels == 2)
        #expect(abs((info.duration ?? 0) - 4) < 0.1)
        #expect(info.tags.isEmpty, "no metadata is carried over")
        #expect(try Data(contentsOf: first) == Data(contentsOf: second))
    }

    @Test func normalizeTrimsCapsAndReportsProgress() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let mono = try await TestMedia.sineWAV(seconds: 6, channels: 1, to: folder.file("mono.wav"))
        let output = folder.file("out.wav")
        let reports = StageReports()
        let context = TestStageContext.make(scratch: folder.url, reports: reports)
        try await ffmpeg.normalizeAudio(mono, to: output, start: 1, maxSeconds: 2.5) { context.progress($0) }
        let info = try await ffmpeg.probe(output)
        #expect(info.audio?.channels == 2)
        #expect(abs((info.duration ?? 0) - 2.5) < 0.001)
        #expect(reports.fractions.last == 1)
        #expect(reports.fractions.allSatisfy { (0...1).contains($0) })
    }

    @Test func normalizeTakesTheSoundOfAVideoAndAppliesLoudness() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let video = try await TestMedia.colorVideo(seconds: 3, to: folder.file("v.mp4"), withAudio: true)
        let plain = folder.file("plain.wav"), loud = folder.file("loud.wav"), again = folder.file("again.wav")
        try await ffmpeg.normalizeAudio(video, to: plain)
        try await ffmpeg.normalizeAudio(video, to: loud, loudness: -14)
        try await ffmpeg.normalizeAudio(video, to: again, loudness: -14)
        let info = try await ffmpeg.probe(loud)
        #expect(info.video == nil)
        #expect(info.audio?.sampleRate == 44100)
        #expect(abs((info.duration ?? 0) - 3) < 0.1)
        #expect(try Data(contentsOf: plain) != Data(contentsOf: loud))
        #expect(try Data(contentsOf: loud) == Data(contentsOf: again))
    }

    @Test func decodedDurationSeesATruncatedMP3() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let whole = try await TestMedia.mp3(seconds: 10, to: folder.file("whole.mp3"))
        let size = try #require(try FileManager.default.attributesOfItem(atPath: whole.path)[.size] as? Int)
        let half = try TestMedia.truncated(whole, keepingBytes: size / 2, to: folder.file("half.mp3"))
        #expect(abs(try await ffmpeg.decodedAudioDuration(of: whole) - 10) < 0.1)
        let probed = try #require(try await ffmpeg.probe(half).duration)
        let decoded = try await ffmpeg.decodedAudioDuration(of: half)
        #expect(probed > 9.9, "the Xing header still promises the whole song")
        #expect(abs(decoded - 5) < 0.3)
    }

    @Test func failureCarriesTheEndOfStandardError() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let missing = folder.file("missing.wav")
        await #expect {
            try await ffmpeg.run(["-i", missing.path, folder.file("out.wav").path])
        } throws: { error in
            guard case MediaError.failed(let tool, let status, let tail) = error else { return false }
            return tool == "ffmpeg" && status == 1 && tail.contains("No such file or directory")
                && "\(error)".hasPrefix("ffmpeg failed with exit status 1:\n  ")
        }
    }

    @Test func ffmpegAtAMissingPathIsNotInstalled() async throws {
        let broken = FFmpeg(ffmpegPath: "/nonexistent/ffmpeg", ffprobePath: "/nonexistent/ffprobe")
        await #expect {
            try await broken.run(["-version"])
        } throws: { error in
            "\(error)" == "ffmpeg is not installed" && (error as? MediaError)?.hint == "install it: sudo apt-get install ffmpeg"
        }
        await #expect {
            _ = try await broken.probe(URL(fileURLWithPath: "/tmp/x.wav"))
        } throws: { error in
            "\(error)" == "ffprobe is not installed"
        }
    }

    @Test func ffmpegTimeoutStopsTheEncode() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let start = ContinuousClock.now
        await #expect {
            // -re reads the endless source at real speed, so this never ends on its own.
            try await ffmpeg.run(["-re", "-f", "lavfi", "-i", "sine", "-f", "null", "-"], timeout: .milliseconds(500))
        } throws: { error in
            guard case MediaError.timedOut("ffmpeg", 0.5) = error else { return false }
            return (error as? MediaError)?.hint?.contains("timeout_seconds") == true
        }
        #expect(ContinuousClock.now - start < .seconds(60), "the source never ends by itself")
    }
}
