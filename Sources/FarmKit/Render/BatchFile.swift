import Foundation

/// A batch file for `farm render --batch FILE`: one render per line,
///
///     SUBJECT SONG [--set STAGE.PARAM=VALUE]… [--clip START-END] [--out PATH] [--profile NAME]
///
/// Words are separated by spaces or tabs; a word with spaces is quoted ("…" or '…', a backslash
/// escapes the next character outside single quotes). `-` as the subject means the profile's
/// default subject. Blank lines and lines starting with `#` are skipped. Relative paths (the song,
/// `--out`) are taken from the batch file's folder; a song may also be a link. A line's `--set`
/// comes after the command line's; its `--clip` replaces the command line's.
public enum BatchFile {
    /// The jobs of the batch file at `url`, each starting from `defaults` (the command line's
    /// profile, settings and output folder).
    public static func requests(contentsOf url: URL, defaults: RenderRequest) throws -> [RenderRequest] {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw UsageError("cannot read the batch file \(url.path): \(error.localizedDescription)", hint: "check the path given to --batch")
        }
        let jobs = try parse(text, file: url.path, folder: url.deletingLastPathComponent(), defaults: defaults)
        guard !jobs.isEmpty else {
            throw UsageError("the batch file \(url.path) holds no job", hint: "write one render per line: SUBJECT SONG [--set STAGE.PARAM=VALUE]… [--clip START-END] [--out PATH]")
        }
        return jobs
    }

    static func parse(_ text: String, file: String, folder: URL, defaults: RenderRequest) throws -> [RenderRequest] {
        var jobs: [RenderRequest] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            func bad(_ problem: String) -> UsageError {
                UsageError("\(file):\(number + 1): \(problem)",
                           hint: "a line reads: SUBJECT SONG [--set STAGE.PARAM=VALUE]… [--clip START-END] [--out PATH] [--profile NAME]")
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            guard let split = words(in: trimmed) else { throw bad("a quote is not closed, or the line ends in a backslash") }
            var words = split[...]
            guard words.count >= 2 else { throw bad("expected a subject and a song") }
            var job = defaults
            let subject = words.removeFirst()
            job.subject = subject == "-" ? nil : subject
            let song = words.removeFirst()
            job.song = song.contains("://") ? song : path(song, in: folder)
            while let option = words.popFirst() {
                guard let value = words.popFirst() else { throw bad("\(option) needs a value") }
                switch option {
                case "--set": job.settings.append(value)
                case "--clip":
                    do {
                        job.clip = try SongClip(start: nil, end: nil, clip: value)
                    } catch let error as UsageError {
                        throw bad(error.message)
                    }
                case "--out": job.output = path(value, in: folder)
                case "--profile": job.profile = value
                default: throw bad("unknown option \(option)")
                }
            }
            jobs.append(job)
        }
        return jobs
    }

    private static func path(_ text: String, in folder: URL) -> String {
        text.hasPrefix("/") ? text : folder.appendingPathComponent(text).standardizedFileURL.path
    }

    /// Splits a line into words: spaces separate, quotes group, a backslash escapes; nil when a
    /// quote is left open or the line ends in a backslash.
    static func words(in line: String) -> [String]? {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" && quote != "'" {
                escaped = true
                inWord = true
            } else if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
                inWord = true
            } else if character == " " || character == "\t" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        guard quote == nil, !escaped else { return nil }
        if inWord { words.append(current) }
        return words
    }
}
