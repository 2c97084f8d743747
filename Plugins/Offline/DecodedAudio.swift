import FarmKit
import Foundation

extension StageContext {
    /// Decodes the first audio stream of `input` to 16-bit 44.1 kHz stereo WAV at `output` and returns
    /// its length in seconds, exact to the sample (a compressed file's stated length can be off by its
    /// encoder delay and padding). `name` says what the audio is, for messages ("the song").
    func decodeAudio(_ input: URL, to output: URL, name: String) async throws -> Double {
        try await Reproducible.step("decoding \(name)") {
            guard try await ffmpeg.probe(input).audio != nil else {
                throw StageFailure("\(name) has no sound: \(input.path)", hint: "check the stage that made it", isBadInput: true)
            }
            try await ffmpeg.normalizeAudio(input, to: output)
            let info = try await ffmpeg.probe(output)
            guard let seconds = info.audio?.duration ?? info.duration, seconds > 0 else {
                throw StageFailure("\(name) is empty: \(input.path)", hint: "check the stage that made it", isBadInput: true)
            }
            return seconds
        }
    }
}
