import Foundation
import Synchronization

extension FFmpeg {
    /// Re-encodes the first audio stream of `input` (an audio file or a video) to 16-bit PCM WAV,
    /// 44.1 kHz stereo. The bytes are the same for the same input and arguments.
    ///
    /// - Parameters:
    ///   - start: seconds to skip at the beginning.
    ///   - maxSeconds: stop after this many seconds of output.
    ///   - loudness: when set, single-pass EBU R128 loudness normalisation to this integrated LUFS target.
    ///   - progress: the fraction done, 0…1 (the input is probed first to know its length).
    public func normalizeAudio(
        _ input: URL, to output: URL, start: Double? = nil, maxSeconds: Double? = nil, loudness: Double? = nil,
        timeout: Duration = .seconds(600), progress: (@Sendable (Double) -> Void)? = nil
    ) async throws {
        var expected: Double?
        if progress != nil, let duration = try await probe(input).duration {
            expected = min(maxSeconds ?? .infinity, duration - (start ?? 0))
        }
        var arguments: [String] = []
        if let start, start > 0 { arguments += ["-ss", Self.argument(start)] }
        arguments += ["-i", input.path, "-map", "0:a:0"]
        if let maxSeconds { arguments += ["-t", Self.argument(maxSeconds)] }
        if let loudness { arguments += ["-af", "loudnorm=I=\(Self.argument(loudness))"] }
        arguments += ["-ac", "2", "-ar", "44100", "-c:a", "pcm_s16le"]
        arguments += Self.reproducibleOutput + ["-f", "wav", output.path]
        try await run(arguments, timeout: timeout, onTime: Self.fractions(of: expected, progress))
    }

    /// The length of an audio file in seconds, as its header states it: read directly from a 16-bit
    /// PCM WAV (no process started), else from ffprobe. Nil when it states none.
    public func audioDuration(of url: URL) async throws -> Double? {
        if let wave = try? await BlockingIO.run({ try PCMWave(url) }) { return wave.seconds }
        let info = try await probe(url)
        return info.audio?.duration ?? info.duration
    }

    /// Decodes the whole first audio stream of `url` and returns how many seconds it yielded.
    ///
    /// Stops at the first decoding error (`-xerror`) and throws it as `MediaError.failed`. Compare the
    /// result with `MediaInfo.duration` to notice a truncated file whose headers promise more.
    public func decodedAudioDuration(
        of url: URL, timeout: Duration = .seconds(600), onTime: (@Sendable (_ seconds: Double) -> Void)? = nil
    ) async throws -> Double {
        let decoded = Mutex<Double>(0)
        try await run(["-xerror", "-i", url.path, "-map", "0:a:0", "-f", "null", "-"], timeout: timeout) { seconds in
            decoded.withLock { $0 = max($0, seconds) }
            onTime?(seconds)
        }
        return decoded.withLock { $0 }
    }
}
