import FarmKit
import FarmTestSupport
import Foundation
@testable import OfflineProvider
import Testing

@Suite("offline stages")
struct OfflineTests {
    let provider = OfflineProvider()
    let ffmpeg = FFmpeg()

    func stage(_ name: String) throws -> any RenderStage {
        try #require(provider.stages().first { $0.id.name == name })
    }

    /// Runs stage `name` in a fresh scratch folder and returns the bytes of its one output, after
    /// checking that the output is the only file left in the scratch folder.
    @discardableResult
    func output(
        _ name: String, inputs: [String: Artifact] = [:], _ parameters: [String: JSON], scratchLabel: String = "offline-scratch",
        reports: StageReports = StageReports(), inspect: (URL, StageResult) async throws -> Void = { _, _ in }
    ) async throws -> Data {
        let scratch = try TemporaryDirectory(scratchLabel)
        defer { scratch.remove() }
        let result = try await stage(name).run(
            StageRequest(inputs: inputs, parameters: parameters), in: TestStageContext.make(scratch: scratch.url, reports: reports))
        let file = try #require(result.outputs.values.first)
        #expect(result.outputs.count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == [file.lastPathComponent])
        try await inspect(file, result)
        return try Data(contentsOf: file)
    }

    @Test func providerListsItsStages() throws {
        #expect(provider.name == "offline")
        #expect(provider.defaultConcurrency == 2)
        #expect(provider.stages().map(\.id.description) == ["offline.image@1", "offline.voice@1", "offline.face@1", "offline.train-voice@1", "offline.train-image@1"])
        #expect(ProviderRegistry([provider]).stageNames == ["offline.face", "offline.image", "offline.train-image", "offline.train-voice", "offline.voice"])
        for stage in provider.stages() {
            #expect(stage.isDeterministic)
            for spec in stage.parameters {
                if let value = spec.defaultValue { #expect(spec.problem(with: value) == nil, "\(stage.id) \(spec.name)") }
            }
        }
        let image = try stage("offline.image")
        #expect(image.parameter(named: "prompt")?.required == true)
        #expect(image.parameter(named: "width")?.range == 256...2048)
        let voice = try stage("offline.voice")
        #expect(voice.parameter(named: "mode")?.choices == ["mix", "isolated"])
        #expect(voice.parameter(named: "pitch_semitones")?.defaultValue == 3)
        let face = try stage("offline.face")
        #expect(face.inputs.map(\.name) == ["image", "audio"])
        #expect(face.parameter(named: "size")?.defaultValue == 512)
        #expect(face.parameter(named: "fps")?.defaultValue == 25)
    }

    // MARK: offline.image

    @Test func imageIsAPNGOfTheRequestedSize() async throws {
        let reports = StageReports()
        try await output("offline.image", ["prompt": "a singer", "seed": 7, "width": 640, "height": 480], reports: reports) {
            file, result in
            #expect(file.pathExtension == "png")
            let info = try await ffmpeg.probe(file)
            #expect(info.video?.codec == "png")
            #expect(info.video?.width == 640 && info.video?.height == 480)
            #expect(result.metadata["width"] == 640 && result.metadata["height"] == 480)
        }
        #expect(reports.fractions.first == 0 && reports.fractions.last == 1)
    }

    @Test func imageIsDeterministicAndFollowsSeedAndPrompt() async throws {
        let base: [String: JSON] = ["prompt": "close-up of DEMO singing", "seed": 1, "width": 256, "height": 256]
        let first = try await output("offline.image", base)
        let again = try await output("offline.image", base)
        #expect(first == again, "same parameters, same bytes")
        let otherSeed = try await output("offline.image", base.merging(["seed": 2]) { $1 })
        let otherPrompt = try await output("offline.image", base.merging(["prompt": "close-up of DEMO dancing"]) { $1 })
        #expect(otherSeed != first)
        #expect(otherPrompt != first)
        #expect(otherPrompt != otherSeed)
    }

    /// Quotes, colon, percent (drawtext expansion), backslash, brackets, a newline and non-ASCII text,
    /// with a scratch folder whose name has filter-graph special characters too.
    @Test func imageWithTrickyPromptAndScratchPath() async throws {
        let prompt = "it's 100% \"quoted\": C:\\path\\ {x} [a,b]; %{pts} \\n ünïcødé — 日本 🎤\nsecond line\twith tab"
        let parameters: [String: JSON] = ["prompt": .string(prompt), "seed": 3, "width": 512, "height": 512]
        let first = try await output("offline.image", parameters, scratchLabel: "off 'sc:ra,tch' [1];x") { file, _ in
            let info = try await ffmpeg.probe(file)
            #expect(info.video?.codec == "png" && info.video?.width == 512)
        }
        let plain = try await output("offline.image", parameters)
        #expect(first == plain, "the scratch path does not change the picture")
    }

    @Test func promptIsWrappedWithinTheWidth() throws {
        let prompt = "close-up portrait of DEMO singing into a microphone on stage,\nconcert lighting"
        let lines = CardText.lines(prompt, fontSize: 40, maxWidth: 900, maxLines: 3)
        #expect(lines.count > 1)
        #expect(lines.joined(separator: " ") == "close-up portrait of DEMO singing into a microphone on stage, concert lighting")
        #expect(lines.allSatisfy { CardText.width(of: $0, fontSize: 40) <= 900 })
        for (line, next) in zip(lines, lines.dropFirst()) {
            let word = try #require(next.split(separator: " ").first)
            #expect(CardText.width(of: line + " " + word, fontSize: 40) > 900, "greedy: \(word) did not fit after \(line)")
        }

        let long = CardText.lines(String(repeating: "word ", count: 100), fontSize: 40, maxWidth: 600, maxLines: 3)
        #expect(long.count == 3)
        #expect(long.last?.hasSuffix(" …") == true)
        #expect(long.allSatisfy { CardText.width(of: $0, fontSize: 40) <= 600 })

        let unbroken = CardText.lines(String(repeating: "W", count: 60), fontSize: 40, maxWidth: 600, maxLines: 5)
        #expect(unbroken.count > 1 && unbroken.joined() == String(repeating: "W", count: 60))
        #expect(CardText.lines(" \n\t ", fontSize: 40, maxWidth: 600, maxLines: 3).isEmpty)
    }

    // MARK: offline.voice

    @Test func voiceKeepsTheExactLengthAndShiftsThePitch() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let song = try await TestMedia.sineWAV(seconds: 3.37, frequency: 440, to: folder.file("song.wav"))
        let songSamples = try WAV(song).frames
        var outputs: [String: Data] = [:]
        for mode in ["mix", "isolated"] {
            let reports = StageReports()
            outputs[mode] = try await output(
                "offline.voice", inputs: ["song": .testFile(song, .audio)], ["mode": .string(mode), "pitch_semitones": 3], reports: reports
            ) { file, result in
                let info = try await ffmpeg.probe(file)
                #expect(info.audio?.codec == "pcm_s16le" && info.audio?.sampleRate == 44100 && info.audio?.channels == 2)
                let wav = try WAV(file)
                #expect(wav.channels == 2)
                #expect(wav.frames == songSamples, "sample-exact length")
                #expect(result.metadata["samples"] == .integer(Int64(songSamples)))
                // Three semitones up: 440 Hz → 523.25 Hz.
                #expect(wav.power(at: 523.25) > 20 * wav.power(at: 440), "\(mode): pitch shifted")
            }
            #expect(reports.fractions.first == 0 && reports.fractions.last == 1)
        }
        #expect(outputs["mix"] != outputs["isolated"])
        let again = try await output("offline.voice", inputs: ["song": .testFile(song, .audio)], ["mode": "mix", "pitch_semitones": 3])
        #expect(again == outputs["mix"], "same input, same bytes")
        let unshifted = try await output("offline.voice", inputs: ["song": .testFile(song, .audio)], ["mode": "mix", "pitch_semitones": 0])
        #expect(unshifted != outputs["mix"])
        #expect(try WAV(data: unshifted).power(at: 440) > 20 * WAV(data: unshifted).power(at: 523.25))
    }

    @Test func voiceOfAnMP3IsAsLongAsItsDecodedSound() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let song = try await TestMedia.mp3(seconds: 2.5, to: folder.file("song.mp3"))
        let decoded = folder.file("decoded.wav")
        try await ffmpeg.run(["-i", song.path, "-ar", "44100", "-ac", "2", "-c:a", "pcm_s16le", decoded.path])
        let data = try await output("offline.voice", inputs: ["song": .testFile(song, .audio)], ["mode": "isolated", "pitch_semitones": -5])
        #expect(try WAV(data: data).frames == WAV(decoded).frames)
    }

    // MARK: offline.face

    @Test func faceIsASquareVideoAsLongAsTheAudio() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let image = folder.file("portrait.png")
        try await output("offline.image", ["prompt": "a singer", "seed": 1, "width": 1024, "height": 1024]).write(to: image)
        let audio = try await TestMedia.sineWAV(seconds: 4.3, to: folder.file("vocals.wav"))
        let inputs: [String: Artifact] = ["image": .testFile(image, .image), "audio": .testFile(audio, .audio)]
        let reports = StageReports()
        let first = try await output("offline.face", inputs: inputs, ["size": 512, "fps": 25], reports: reports) { file, _ in
            let info = try await ffmpeg.probe(file)
            let video = try #require(info.video)
            #expect(video.codec == "h264" && video.pixelFormat == "yuv420p")
            #expect(video.width == 512 && video.height == 512)
            #expect(video.frameRate == 25)
            #expect(abs((video.duration ?? 0) - 4.3) <= 1.0 / 25)
            #expect(info.audio?.codec == "aac")
            #expect(abs((info.duration ?? 0) - 4.3) <= 1.0 / 25)
        }
        #expect(reports.fractions.first == 0 && reports.fractions.last == 1)
        let again = try await output("offline.face", inputs: inputs, ["size": 512, "fps": 25])
        #expect(first == again, "same inputs, same bytes")
    }

    @Test func faceCropsAWideStillToItsCentre() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let image = folder.file("wide.png")
        try await output("offline.image", ["prompt": "wide", "seed": 5, "width": 800, "height": 450]).write(to: image)
        let audio = try await TestMedia.mp3(seconds: 2, to: folder.file("vocals.mp3"))
        let decoded = folder.file("decoded.wav")
        try await ffmpeg.run(["-i", audio.path, "-c:a", "pcm_s16le", decoded.path])
        let audioSeconds = Double(try WAV(decoded).frames) / 44100
        try await output(
            "offline.face", inputs: ["image": .testFile(image, .image), "audio": .testFile(audio, .audio)], ["size": 257, "fps": 30]
        ) { file, _ in
            let video = try #require(try await ffmpeg.probe(file).video)
            #expect(video.width == 256 && video.height == 256)
            #expect(video.frameRate == 30)
            #expect(abs((video.duration ?? 0) - audioSeconds) <= 1.0 / 30)
        }
    }

    @Test(arguments: ["offline.voice", "offline.face"])
    func audioWithoutSoundIsBadInput(stageName: String) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let image = folder.file("portrait.png")
        try await output("offline.image", ["prompt": "x", "width": 256, "height": 256]).write(to: image)
        let silentVideo = try await TestMedia.colorVideo(seconds: 1, to: folder.file("silent.mp4"))
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let failure = await #expect(throws: StageFailure.self) {
            try await stage(stageName).run(
                StageRequest(
                    inputs: ["image": .testFile(image, .image), "audio": .testFile(silentVideo, .audio), "song": .testFile(silentVideo, .audio)],
                    parameters: [:]),
                in: TestStageContext.make(scratch: scratch.url))
        }
        #expect(failure?.isBadInput == true)
        #expect(failure?.message.hasSuffix("has no sound: \(silentVideo.path)") == true)
    }

    // MARK: scripts/make-demo-song

    @Test func demoSongScriptMakesATwentySecondSong() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = root.appendingPathComponent("scripts/make-demo-song")
        var songs: [Data] = []
        for name in ["a.mp3", "sub folder/b.mp3"] {
            let song = folder.file(name)
            let status = try await Self.runToEnd("/usr/bin/env", ["bash", script.path, song.path])
            #expect(status == 0)
            let info = try await ffmpeg.probe(song)
            #expect(info.audio?.codec == "mp3" && info.audio?.sampleRate == 44100 && info.audio?.channels == 2)
            #expect(abs((info.duration ?? 0) - 20) < 0.5)
            #expect(info.tags["title"] == "farm demo song")
            songs.append(try Data(contentsOf: song))
        }
        #expect(songs[0] == songs[1], "deterministic")
    }

    /// Runs a program with argv (no shell) and waits for it to exit by itself, without blocking a thread.
    static func runToEnd(_ executable: String, _ arguments: [String]) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        return try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    /// The frames of a 16-bit PCM WAV file, read from its chunks (not from a header's promise).
    struct WAV {
        let channels: Int
        let samples: [Int16]

        init(_ url: URL) throws {
            try self.init(data: Data(contentsOf: url))
        }

        init(data: Data) throws {
            let bytes = [UInt8](data)
            func uint32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
            try #require(bytes.count >= 12 && String(decoding: bytes[0..<4], as: UTF8.self) == "RIFF")
            var offset = 12, channels = 0
            var samples: [Int16] = []
            while offset + 8 <= bytes.count {
                let id = String(decoding: bytes[offset..<offset + 4], as: UTF8.self), size = uint32(offset + 4)
                let body = offset + 8
                if id == "fmt " { channels = Int(bytes[body + 2]) | Int(bytes[body + 3]) << 8 }
                if id == "data" {
                    samples = stride(from: body, to: min(bytes.count, body + size) - 1, by: 2).map {
                        Int16(bitPattern: UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8)
                    }
                }
                offset = body + size + size % 2
            }
            try #require(channels > 0)
            self.channels = channels
            self.samples = samples
        }

        var frames: Int { samples.count / channels }

        /// The power of the first channel at `frequency` (Goertzel), for 44.1 kHz audio.
        func power(at frequency: Double) -> Double {
            let coefficient = 2 * cos(2 * Double.pi * frequency / 44100)
            var previous = 0.0, beforePrevious = 0.0
            for index in stride(from: 0, to: samples.count, by: channels) {
                let current = Double(samples[index]) + coefficient * previous - beforePrevious
                beforePrevious = previous
                previous = current
            }
            return previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious
        }
    }
}
