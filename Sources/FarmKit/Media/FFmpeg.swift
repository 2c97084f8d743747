import Foundation

/// The ffmpeg and ffprobe command-line tools, run as subprocesses with argv arrays (never a shell).
public struct FFmpeg: Sendable {
    public let ffmpegPath: String
    public let ffprobePath: String

    public init(ffmpegPath: String = "ffmpeg", ffprobePath: String = "ffprobe") {
        self.ffmpegPath = ffmpegPath
        self.ffprobePath = ffprobePath
    }
}

extension FFmpeg {
    /// Runs ffmpeg with `-hide_banner -nostdin -loglevel error -y` prepended.
    ///
    /// - Parameter onTime: called with the seconds of output written so far. It reads ffmpeg's
    ///   `-progress` report from standard output, so do not also write media to `-` when using it.
    /// - Throws: `MediaError.failed` with the last lines of ffmpeg's standard error on a non-zero exit,
    ///   `.timedOut`, `.notInstalled`.
    @discardableResult
    public func run(
        _ arguments: [String], timeout: Duration = .seconds(600),
        onTime: (@Sendable (_ seconds: Double) -> Void)? = nil
    ) async throws -> ProcessOutput {
        var prefix = ["-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
        var onLine: (@Sendable (String) -> Void)?
        if let onTime {
            prefix += ["-progress", "pipe:1", "-nostats"]
            onLine = { line in
                if let seconds = Self.progressSeconds(line) { onTime(seconds) }
            }
        }
        return try Self.check(
            try await ProcessRunner.run(ffmpegPath, prefix + arguments, timeout: timeout, onOutputLine: onLine),
            tool: ProcessRunner.toolName(ffmpegPath))
    }

    /// ffprobe's description of `url`: `-print_format json -show_format -show_streams`, parsed.
    public func probe(_ url: URL, timeout: Duration = .seconds(60)) async throws -> MediaInfo {
        let tool = ProcessRunner.toolName(ffprobePath)
        let output = try Self.check(
            try await ProcessRunner.run(
                ffprobePath,
                ["-hide_banner", "-loglevel", "error", "-print_format", "json", "-show_format", "-show_streams", url.path],
                timeout: timeout),
            tool: tool)
        let json: JSON
        do {
            json = try JSON.parse(output.standardOutput, source: "\(tool) output for \(url.path)")
        } catch {
            throw MediaError.unreadableOutput(tool: tool, detail: "\(error)")
        }
        return try MediaInfo(ffprobe: json)
    }

    /// Flags that keep ffmpeg's output identical for identical inputs: no version strings, no
    /// metadata or chapters carried over from the inputs.
    static let reproducibleOutput = [
        "-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
    ]

    /// H.264 settings for every re-encode; the fixed thread count keeps the bytes the same on any machine.
    static let h264Encoding = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-threads", "2"]

    /// Turns seconds written into a fraction of `total` for `progress`; `nil` when either is missing.
    static func fractions(
        of total: Double?, _ progress: (@Sendable (Double) -> Void)?
    ) -> (@Sendable (_ seconds: Double) -> Void)? {
        guard let progress, let total, total > 0 else { return nil }
        return { seconds in progress(min(1, seconds / total)) }
    }

    /// A number as an ffmpeg argument: plain decimal notation, never exponent notation.
    static func argument(_ value: Double) -> String {
        String(format: "%.6f", value)
    }

    /// Turns a non-zero exit into `MediaError.failed`.
    private static func check(_ output: ProcessOutput, tool: String) throws -> ProcessOutput {
        guard output.status == 0 else {
            throw MediaError.failed(tool: tool, status: output.status, stderrTail: MediaError.tail(output.standardError))
        }
        return output
    }

    /// Seconds written, from a `-progress` line such as `out_time_us=1234567` (`N/A` early on).
    private static func progressSeconds(_ line: String) -> Double? {
        guard line.hasPrefix("out_time_us="), let micros = Double(line.dropFirst("out_time_us=".count)), micros >= 0
        else { return nil }
        return micros / 1_000_000
    }
}
