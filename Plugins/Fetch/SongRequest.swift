import FarmKit
import Foundation

/// The `fetch.song` parameters, read and resolved: which file, which part of it, and the length cap.
struct SongRequest {
    /// The source as the user gave it.
    let source: String
    let file: URL
    let maxSeconds: Double
    let start: Double?
    let end: Double?

    init(_ parameters: [String: JSON]) throws {
        guard let source = parameters["source"]?.stringValue, !source.isEmpty else {
            throw StageFailure("no song given", hint: "pass an audio or video file with --song FILE", isBadInput: true)
        }
        self.source = source
        if let url = URL(string: source), url.scheme == "file" {
            file = url.standardizedFileURL
        } else if source.range(of: "^[A-Za-z][A-Za-z0-9+.-]*://", options: .regularExpression) != nil || source.hasPrefix("www.") {
            throw StageFailure(
                "links are not supported yet: \(source)",
                hint: "download the song first (for example with yt-dlp -x) and pass the file with --song FILE",
                isBadInput: true)
        } else {
            file = URL(fileURLWithPath: NSString(string: source).expandingTildeInPath).standardizedFileURL
        }
        maxSeconds = parameters["max_seconds"]?.doubleValue ?? 600
        start = parameters["start"]?.doubleValue
        end = parameters["end"]?.doubleValue
    }

    /// How many seconds of the song to keep.
    var keptSeconds: Double {
        end.map { $0 - (start ?? 0) } ?? maxSeconds
    }

    /// Checks that the path names a non-empty regular file.
    func checkFile() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory) else {
            throw bad("song file not found: \(file.path)", hint: "check the path given to --song")
        }
        guard !isDirectory.boolValue else {
            throw bad("song path is a folder, not a file: \(file.path)", hint: "pass one audio or video file with --song")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        guard size > 0 else {
            throw bad("song file is empty: \(file.path)", hint: "download or export the song again")
        }
    }

    /// Checks start, end and the length cap against a song `duration` seconds long.
    func checkRange(duration: Double) throws {
        let within = "choose start and end within 0…\(duration.formattedSeconds) s"
        if let start, start < 0 || start >= duration {
            throw bad("start (\(start.formattedSeconds) s) is outside the song, which is \(duration.clock) long: \(file.path)", hint: within)
        }
        if let end, end <= 0 || end > duration + 0.05 {
            throw bad("end (\(end.formattedSeconds) s) is outside the song, which is \(duration.clock) long: \(file.path)", hint: within)
        }
        if let end, end <= start ?? 0 {
            throw bad("end (\(end.formattedSeconds) s) must come after start (\((start ?? 0).formattedSeconds) s): \(file.path)", hint: within)
        }
        let length = (end ?? duration) - (start ?? 0)
        guard length <= maxSeconds else {
            let what = start == nil && end == nil ? "song is" : "chosen part of the song is"
            throw bad(
                "\(what) \(length.clock) long, over the \(maxSeconds.clock) cap (max_seconds \(maxSeconds.formattedSeconds)): \(file.path)",
                hint: "raise the cap with --set song.max_seconds=\(Int(length.rounded(.up))) or trim the song with --set song.start=… / song.end=…")
        }
    }

    func bad(_ message: String, hint: String) -> StageFailure {
        StageFailure(message, hint: hint, isBadInput: true)
    }
}

extension Double {
    /// Minutes and seconds, `3:07`, or hours too, `1:02:03`.
    var clock: String {
        let total = Int(rounded())
        let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0
            ? String(format: "%d:%02d:%02d", hours, minutes, seconds)
            : String(format: "%d:%02d", minutes, seconds)
    }

    /// Seconds as a person writes them: `600`, `12.5`, `4.96`.
    var formattedSeconds: String {
        let rounded = (self * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
