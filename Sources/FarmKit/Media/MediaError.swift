import Foundation

/// A failure of an external media tool (ffmpeg, ffprobe, yt-dlp, …).
public enum MediaError: Error, Sendable, CustomStringConvertible {
    /// The program is not on `PATH` (or not at the configured path).
    case notInstalled(tool: String)
    /// The program exited with a non-zero status; `stderrTail` holds the last lines it wrote to standard error.
    case failed(tool: String, status: Int32, stderrTail: String)
    /// The program ran longer than allowed and was stopped.
    case timedOut(tool: String, seconds: Double)
    /// The program succeeded but printed something that could not be understood.
    case unreadableOutput(tool: String, detail: String)
    /// A media file lacks what an operation needs (a video stream, a known length, …).
    case unusableInput(path: String, problem: String)

    public var description: String {
        switch self {
        case .notInstalled(let tool):
            return "\(tool) is not installed"
        case .failed(let tool, _, let stderrTail) where Self.diskFull(stderrTail) != nil:
            return "\(tool) ran out of disk space: \(Self.diskFull(stderrTail)!)"
        case .failed(let tool, let status, let stderrTail):
            let tail = stderrTail.isEmpty ? "" : ":\n" + stderrTail.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
            return "\(tool) failed with exit status \(status)\(tail)"
        case .timedOut(let tool, let seconds):
            return "\(tool) did not finish within \(seconds.formattedCompact) s and was stopped"
        case .unreadableOutput(let tool, let detail):
            return "could not read the output of \(tool): \(detail)"
        case .unusableInput(let path, let problem):
            return "\(path) \(problem)"
        }
    }

    /// What the user can do about it.
    public var hint: String? {
        switch self {
        case .notInstalled(let tool):
            return ["ffmpeg", "ffprobe"].contains(tool)
                ? "install it: sudo apt-get install ffmpeg"
                : "install \(tool) and make sure it is on PATH"
        case .failed(_, _, let stderrTail) where Self.diskFull(stderrTail) != nil:
            return "free some space on that disk (df -h shows how full it is), then run the same command again: finished stages are kept"
        case .failed:
            return nil
        case .timedOut:
            return "raise the stage's timeout with --set STAGE.timeout_seconds=N"
        case .unreadableOutput(let tool, _):
            return "check that \(tool) works: run it by hand"
        case .unusableInput:
            return "check the stage that made this file"
        }
    }

    /// The line of a tool's error output that says the disk is full (ENOSPC), if one does.
    static func diskFull(_ stderr: String) -> String? {
        stderr.split(whereSeparator: \.isNewline).last { $0.localizedCaseInsensitiveContains("No space left on device") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// The last `lineCount` non-empty lines of `text`.
    static func tail(_ text: String, lineCount: Int = 15) -> String {
        text.split(whereSeparator: \.isNewline).suffix(lineCount).joined(separator: "\n")
    }
}

extension MediaError: FarmError {
    public var message: String { description }
    /// A tool failing is work that failed, not bad input: stages turn bad input into `StageFailure`s.
    public var exitCode: Int32 { ExitStatus.stageFailed }
}
