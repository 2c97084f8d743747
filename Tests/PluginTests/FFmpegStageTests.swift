import FFmpegProvider
import FarmKit
import FarmTestSupport
import Foundation
import Testing

@Suite("ffmpeg stages")
struct FFmpegStageTests {
    let provider = FFmpegProvider()
    let ffmpeg = FFmpeg()

    func stage(_ name: String) throws -> any RenderStage {
        try #require(provider.stages().first { $0.id.name == name })
    }

    @Test func providerListsItsStages() {
        #expect(provider.name == "ffmpeg")
        #expect(provider.defaultConcurrency == 2)
        #expect(provider.stages().map(\.id.description)
                == ["ffmpeg.normalize@1", "ffmpeg.mux@2", "ffmpeg.concat@1", "ffmpeg.aac@1", "ffmpeg.voice-dataset@1", "ffmpeg.photo-set@1"])
        let registry = ProviderRegistry([provider])
        #expect(registry.stageNames == ["ffmpeg.aac", "ffmpeg.concat", "ffmpeg.mux", "ffmpeg.normalize", "ffmpeg.photo-set", "ffmpeg.voice-dataset"])
    }

    @Test func normalizeMakesWAVWithLoudnessAndCap() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let song = try await TestMedia.mp3(seconds: 5, to: folder.file("song.mp3"))
        let reports = StageReports()
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let result = try await stage("ffmpeg.normalize").run(
            StageRequest(
                inputs: ["audio": .testFile(song, .audio)],
                parameters: ["loudness": -16, "max_seconds": 3, "timeout_seconds": 600]),
            in: TestStageContext.make(scratch: scratch.url, reports: reports))
        let output = try #require(result.outputs["audio"])
        #expect(output.deletingLastPathComponent().standardizedFileURL == scratch.url.standardizedFileURL)
        let info = try await ffmpeg.probe(output)
        #expect(info.audio?.codec == "pcm_s16le" && info.audio?.sampleRate == 44100 && info.audio?.channels == 2)
        #expect(abs((info.duration ?? 0) - 3) < 0.01)
        #expect(abs((result.metadata["duration"]?.doubleValue ?? 0) - 3) < 0.01)
        #expect(reports.fractions.first == 0 && reports.fractions.last == 1)
    }

    @Test(arguments: [false, true])
    func muxFollowsTheAudioAndIsReproducible(videoIsLonger: Bool) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let video = try await TestMedia.colorVideo(seconds: videoIsLonger ? 6 : 2, to: folder.file("v.mp4"))
        let audio = try await TestMedia.sineWAV(seconds: 4.2, to: folder.file("a.wav"))
        let request = StageRequest(
            inputs: ["video": .testFile(video, .video), "audio": .testFile(audio, .audio)], parameters: [:])
        var outputs: [Data] = []
        for run in 0..<2 {
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let reports = StageReports()
            let result = try await stage("ffmpeg.mux").run(request, in: TestStageContext.make(scratch: scratch.url, reports: reports))
            let output = try #require(result.outputs["video"])
            outputs.append(try Data(contentsOf: output))
            guard run == 0 else { continue }
            let info = try await ffmpeg.probe(output)
            #expect(info.video?.codec == "h264")
            #expect(info.audio?.codec == "aac")
            #expect(abs((info.duration ?? 0) - 4.2) < 0.1)
            #expect(result.metadata["video_stream"] == (videoIsLonger ? "copied" : "last_frame_held"))
            #expect(reports.logLines == [videoIsLonger ? "video stream copied" : "video stream re-encoded, last frame held"])
            #expect(reports.fractions.last == 1)
        }
        #expect(outputs[0] == outputs[1], "same inputs, same bytes")
    }

    @Test func muxAudioBitrateIsUsed() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let video = try await TestMedia.colorVideo(seconds: 3, to: folder.file("v.mp4"))
        let audio = try await TestMedia.sineWAV(seconds: 3, to: folder.file("a.wav"))
        var sizes: [Int] = []
        for bitrate in ["64k", "256k"] {
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let result = try await stage("ffmpeg.mux").run(
                StageRequest(
                    inputs: ["video": .testFile(video, .video), "audio": .testFile(audio, .audio)],
                    parameters: ["audio_bitrate": .string(bitrate)]),
                in: TestStageContext.make(scratch: scratch.url))
            sizes.append(try Data(contentsOf: try #require(result.outputs["video"])).count)
        }
        #expect(sizes[1] > sizes[0] + 30_000)
    }

    @Test func aacIsEncodedOnceAndThenCopiedByTheMux() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let video = try await TestMedia.colorVideo(seconds: 4, to: folder.file("v.mp4"))
        let audio = try await TestMedia.sineWAV(seconds: 3, to: folder.file("a.wav"))
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let encoded = try await stage("ffmpeg.aac").run(
            StageRequest(inputs: ["audio": .testFile(audio, .audio)], parameters: ["bitrate": "96k"]), in: TestStageContext.make(scratch: scratch.url))
        let m4a = try #require(encoded.outputs["audio"])
        #expect(try await ffmpeg.probe(m4a).audio?.codec == "aac")
        let muxed = try await stage("ffmpeg.mux").run(
            StageRequest(inputs: ["video": .testFile(video, .video), "audio": .testFile(m4a, .audio)], parameters: [:]),
            in: TestStageContext.make(scratch: scratch.url))
        let output = try #require(muxed.outputs["video"])
        // The sound is the encoded one, packet for packet.
        let packets = { (url: URL) async throws -> String in
            try await ffmpeg.run(["-i", url.path, "-map", "0:a:0", "-c", "copy", "-f", "framemd5", "-"]).standardOutput
                .split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { $0.split(separator: ",").last }.joined(separator: " ")
        }
        let original = try await packets(m4a)
        let copied = try await packets(output)
        #expect(!copied.isEmpty && original.hasPrefix(copied))
    }

    @Test func concatJoinsTwoClipsReproducibly() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let first = try await TestMedia.colorVideo(seconds: 2, to: folder.file("a.mp4"), withAudio: true)
        let second = try await TestMedia.colorVideo(seconds: 1, size: "240x240", to: folder.file("b.mp4"), withAudio: true)
        let request = StageRequest(
            inputs: ["first": .testFile(first, .video), "second": .testFile(second, .video)], parameters: [:])
        var outputs: [Data] = []
        for _ in 0..<2 {
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let result = try await stage("ffmpeg.concat").run(request, in: TestStageContext.make(scratch: scratch.url))
            let output = try #require(result.outputs["video"])
            #expect(abs((result.metadata["duration"]?.doubleValue ?? 0) - 3) < 0.15)
            #expect(result.metadata["video_stream"] == "reencoded")
            outputs.append(try Data(contentsOf: output))
        }
        #expect(outputs[0] == outputs[1])
    }

    @Test func failureNamesFFmpegAndItsError() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let text = folder.file("noise.wav")
        try "not audio".write(to: text, atomically: true, encoding: .utf8)
        let video = try await TestMedia.colorVideo(seconds: 1, to: folder.file("v.mp4"))
        await #expect {
            _ = try await stage("ffmpeg.mux").run(
                StageRequest(inputs: ["video": .testFile(video, .video), "audio": .testFile(text, .audio)], parameters: [:]),
                in: TestStageContext.make(scratch: folder.url))
        } throws: { error in
            "\(error)".hasPrefix("ffprobe failed with exit status 1:") && "\(error)".contains("Invalid data found")
        }
    }

    @Test func unwiredInputIsReported() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        await #expect {
            _ = try await stage("ffmpeg.concat").run(
                StageRequest(inputs: [:], parameters: [:]), in: TestStageContext.make(scratch: folder.url))
        } throws: { error in
            "\(error)" == "input 'first' is not connected"
        }
    }

    @Test func timeoutParameterStopsTheStage() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        // One second of 1080p held for two minutes of sound: about 25 s of encoding on two cores.
        let video = try await TestMedia.colorVideo(seconds: 1, size: "1920x1080", to: folder.file("v.mp4"))
        let audio = try await TestMedia.sineWAV(seconds: 120, to: folder.file("a.wav"))
        await #expect {
            _ = try await stage("ffmpeg.mux").run(
                StageRequest(
                    inputs: ["video": .testFile(video, .video), "audio": .testFile(audio, .audio)],
                    parameters: ["timeout_seconds": 1]),
                in: TestStageContext.make(scratch: folder.url))
        } throws: { error in
            "\(error)" == "ffmpeg did not finish within 1 s and was stopped"
        }
    }
}
