import Foundation

/// The part of a song to render, from `--start`, `--end` or `--clip START-END`. Times are seconds
/// (`90`, `12.5`), `M:SS` or `H:MM:SS` (`1:30`, `1:02:03.5`).
public struct SongClip: Sendable, Equatable {
    public var start: Double?
    public var end: Double?

    public init(start: Double? = nil, end: Double? = nil) {
        self.start = start
        self.end = end
    }

    /// Reads the command-line flags. `--clip 0:30-1:45` is both ends; either end may be left out
    /// (`0:30-`, `-1:45`). Throws a `UsageError` naming the flag for a malformed time, for `--clip`
    /// given with `--start` or `--end`, and for an end that is not after the start.
    public init(start: String?, end: String?, clip: String?) throws {
        let example = "write seconds (90), M:SS (1:30) or H:MM:SS (1:02:03)"
        func time(_ text: String, _ flag: String) throws -> Double {
            guard let seconds = Self.seconds(text) else {
                throw UsageError("\(flag) \"\(text)\" is not a time", hint: example)
            }
            return seconds
        }
        if let clip {
            guard start == nil, end == nil else {
                throw UsageError("--clip cannot be combined with --start or --end", hint: "give --clip START-END, or --start and --end")
            }
            let parts = clip.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !(parts[0].isEmpty && parts[1].isEmpty) else {
                throw UsageError("--clip \"\(clip)\" is not a range START-END", hint: "for example --clip 0:30-1:45; \(example)")
            }
            self.start = parts[0].isEmpty ? nil : try time(parts[0], "--clip start")
            self.end = parts[1].isEmpty ? nil : try time(parts[1], "--clip end")
        } else {
            self.start = try start.map { try time($0, "--start") }
            self.end = try end.map { try time($0, "--end") }
        }
        if let startSeconds = self.start, let endSeconds = self.end, endSeconds <= startSeconds {
            throw UsageError(
                "the end of the clip (\(endSeconds.clock)) must come after its start (\(startSeconds.clock))",
                hint: "for example --clip 0:30-1:45")
        }
    }

    /// Seconds from `90`, `12.5`, `1:30` or `1:02:03.5`; nil when malformed (minutes and seconds
    /// after a colon must be below 60).
    public static func seconds(_ text: String) -> Double? {
        let fields = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(fields.count) else { return nil }
        var total = 0.0
        for (index, field) in fields.enumerated() {
            let isLast = index == fields.count - 1
            guard !field.isEmpty, field.allSatisfy({ $0.isASCII && ($0.isNumber || (isLast && $0 == ".")) }),
                  let value = Double(field), value.isFinite
            else { return nil }
            if index > 0 && value >= 60 { return nil }
            total = total * 60 + value
        }
        return total
    }
}
