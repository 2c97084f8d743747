import FarmKit
import Foundation

/// Finds the pauses in a recording (ffmpeg `silencedetect`, `volumedetect`) and turns the voiced
/// stretches between them into clips for a voice dataset.
enum VoiceSlicer {
    struct Settings {
        var silenceDB: Double
        var clipMin: Double
        var clipMax: Double
    }

    struct Analysis {
        let duration: Double
        let peakDB: Double
        let meanDB: Double
        /// Voiced stretches, in order.
        let voiced: [ClosedRange<Double>]
        /// Pauses inside the recording (not at its ends).
        let pauses: Int

        var voicedSeconds: Double { voiced.reduce(0) { $0 + $1.upperBound - $1.lowerBound } }
    }

    /// Pauses shorter than this do not split the voice.
    static let minimumPause = 0.3

    static func analyse(_ file: URL, ffmpeg: FFmpeg, silenceDB: Double) async throws -> Analysis {
        let output = try await ProcessRunner.run(
            ffmpeg.ffmpegPath,
            ["-hide_banner", "-nostdin", "-nostats", "-i", file.path,
             "-af", "silencedetect=noise=\(Int(silenceDB))dB:d=\(minimumPause),volumedetect", "-f", "null", "-"],
            timeout: .seconds(1800))
        guard output.status == 0 else {
            throw StageFailure("ffmpeg could not analyse \(file.lastPathComponent): \(output.standardError.split(separator: "\n").suffix(3).joined(separator: " "))")
        }
        let duration = try await ffmpeg.probe(file).duration ?? 0
        return parse(output.standardError, duration: duration)
    }

    /// Reads `silence_start`, `silence_end`, `mean_volume` and `max_volume` from ffmpeg's log.
    static func parse(_ log: String, duration: Double) -> Analysis {
        var silences: [ClosedRange<Double>] = []
        var openStart: Double?
        var peak = -91.0, mean = -91.0
        for line in log.split(separator: "\n") {
            if let value = number(after: "silence_start: ", in: line) {
                openStart = max(0, value)
            } else if let value = number(after: "silence_end: ", in: line) {
                let start = openStart ?? 0
                if value > start { silences.append(start...min(value, duration)) }
                openStart = nil
            } else if let value = number(after: "max_volume: ", in: line) {
                peak = value
            } else if let value = number(after: "mean_volume: ", in: line) {
                mean = value
            }
        }
        if let openStart, openStart < duration { silences.append(openStart...duration) }

        var voiced: [ClosedRange<Double>] = []
        var cursor = 0.0
        for silence in silences {
            if silence.lowerBound > cursor { voiced.append(cursor...silence.lowerBound) }
            cursor = max(cursor, silence.upperBound)
        }
        if duration > cursor { voiced.append(cursor...duration) }
        voiced.removeAll { $0.upperBound - $0.lowerBound < 0.05 }
        let inner = silences.filter { $0.lowerBound > 0.01 && $0.upperBound < duration - 0.01 }.count
        return Analysis(duration: duration, peakDB: peak, meanDB: mean, voiced: voiced, pauses: inner)
    }

    /// Groups voiced stretches into clips of `clipMin`…`clipMax` seconds (a little of each pause
    /// kept at the edges; stretches more than 1 s apart are not joined); a stretch longer than
    /// `clipMax` is cut in equal parts; pieces under 1 s that join nothing are left out.
    static func clips(_ analysis: Analysis, _ settings: Settings) -> [ClosedRange<Double>] {
        let pad = 0.15
        var pieces: [ClosedRange<Double>] = []
        for stretch in analysis.voiced {
            let start = max(0, stretch.lowerBound - pad), end = min(analysis.duration, stretch.upperBound + pad)
            let parts = Int((end - start) / settings.clipMax) + 1
            let length = (end - start) / Double(parts)
            for part in 0..<parts { pieces.append((start + Double(part) * length)...(start + Double(part + 1) * length)) }
        }
        var clips: [ClosedRange<Double>] = []
        var current: ClosedRange<Double>?
        for piece in pieces {
            if let open = current, piece.upperBound - open.lowerBound <= settings.clipMax, piece.lowerBound - open.upperBound <= 1 {
                current = open.lowerBound...piece.upperBound
            } else {
                if let open = current, open.upperBound - open.lowerBound >= 1 { clips.append(open) }
                current = piece
            }
            if let open = current, open.upperBound - open.lowerBound >= settings.clipMin {
                clips.append(open)
                current = nil
            }
        }
        if let open = current {
            if let last = clips.last, open.upperBound - last.lowerBound <= settings.clipMax, open.lowerBound - last.upperBound <= 1 {
                clips[clips.count - 1] = last.lowerBound...open.upperBound
            } else if open.upperBound - open.lowerBound >= 1 {
                clips.append(open)
            }
        }
        return clips
    }

    private static func number(after marker: String, in line: Substring) -> Double? {
        guard let range = line.range(of: marker) else { return nil }
        let rest = line[range.upperBound...].prefix { $0.isNumber || $0 == "." || $0 == "-" || $0 == "e" || $0 == "+" }
        return Double(rest)
    }
}
