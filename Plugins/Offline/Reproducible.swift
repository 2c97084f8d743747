import FarmKit
import Foundation

/// What every offline stage needs to make the same bytes from the same inputs, and to put file paths
/// into ffmpeg filter graphs safely.
enum Reproducible {
    /// No version strings, no metadata or chapters carried over from the inputs.
    static let outputFlags = [
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
    ]

    /// A value for a filter option inside a filter graph (`drawtext=textfile=VALUE`): escaped once for
    /// the option parser and once more for the graph parser, so `:`, `'`, `\`, `,`, `;`, `[` and `]`
    /// in a path survive both.
    static func filterValue(_ value: String) -> String {
        escape(escape(value, "\\':"), "\\':[],;")
    }

    /// A number as an ffmpeg argument: plain decimal notation, never exponent notation.
    static func number(_ value: Double) -> String {
        String(format: "%.6f", value)
    }

    /// How long an ffmpeg call may take when it processes `seconds` of media: generous, at least 10 min.
    static func timeout(forMediaSeconds seconds: Double) -> Duration {
        .seconds(max(600, Int(seconds * 4)))
    }

    /// Runs one step of a stage; a failure becomes a `StageFailure` that says what the step was,
    /// carrying the media layer's explanation (ffmpeg's last lines of standard error).
    @discardableResult
    static func step<T>(_ doing: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as MediaError {
            throw StageFailure("\(doing) failed: \(error)", hint: error.hint)
        } catch let error as CocoaError {
            throw StageFailure("\(doing) failed: \(error.localizedDescription)")
        }
    }

    private static func escape(_ text: String, _ special: String) -> String {
        var escaped = ""
        for character in text {
            if special.contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
