import FarmKit
import Foundation

/// yt-dlp, which fetches songs from web pages and video sites.
///
/// It runs as a subprocess with an argv array, never through a shell, with flags that keep it from
/// reading configuration files, plugins or cookies, from running commands and from fetching more
/// than one item, and it writes only inside the folder it is given. Its standard output carries
/// farm's marked lines: the item before the download (so a live stream or an over-long song is
/// refused before any bytes are fetched), progress, and the final path.
public struct YTDLP: Sendable {
    /// The version `scripts/setup` installs.
    public static let pinnedVersion = "2026.10.26"
    /// How to install it.
    public static let installHint = "install it: python3 -m pip install yt-dlp==\(pinnedVersion) (or run scripts/setup)"

    /// The program: `$FARM_YT_DLP` when set, else `yt-dlp` on PATH.
    public let executable: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        executable = environment["FARM_YT_DLP"].flatMap { $0.isEmpty ? nil : $0 } ?? "yt-dlp"
    }

    /// `yt-dlp --version`: a release date such as `2026.10.26`. Throws `MediaError.notInstalled`
    /// when the program is missing.
    public func version() async throws -> String {
        let output = try await ProcessRunner.run(executable, ["--version"], timeout: .seconds(30))
        guard output.status == 0 else {
            throw MediaError.failed(tool: "yt-dlp", status: output.status, stderrTail: Self.lastLine(output.standardError) ?? "")
        }
        return output.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Days since the release a version names (`2026.10.26`); nil when it is not a date.
    public static func ageInDays(ofVersion version: String, now: Date = Date()) -> Int? {
        let parts = version.split(separator: ".").prefix(3).compactMap { Int($0) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard parts.count == 3, let date = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2])) else { return nil }
        return calendar.dateComponents([.day], from: date, to: now).day
    }

    /// What yt-dlp says about the item before it downloads it.
    struct Item: Sendable {
        let id: String
        let title: String?
        let duration: Double?
        /// `not_live`, `is_live`, `is_upcoming`, `was_live`, `post_live`.
        let liveStatus: String?
        /// How many items the playlist or page holds, when the link names more than one.
        let playlistCount: Int?

        init(_ json: JSON) {
            id = json["id"]?.stringValue ?? ""
            title = json["title"]?.stringValue
            duration = json["duration"]?.doubleValue
            liveStatus = json["live_status"]?.stringValue
            playlistCount = json["playlist_count"]?.intValue
        }

        var isLive: Bool { liveStatus == "is_live" || liveStatus == "is_upcoming" }
    }

    /// Why yt-dlp delivered no file. Cases with a `String` carry yt-dlp's `ERROR:` line.
    enum Failure: Error {
        case notInstalled
        case privateVideo(String)
        case unavailable(String)
        case unsupported(String)
        case liveStream
        /// Over `--max-filesize`; the size when yt-dlp said it.
        case tooLarge(Int64?)
        case failed(String)
    }

    /// Fetches the single item at `url` as WAV into `folder` and returns the file and what yt-dlp
    /// said about it. `inspect` sees the item before its download starts and may throw to stop
    /// yt-dlp (which is then terminated). Throws `Failure` when yt-dlp delivers nothing.
    func fetch(
        _ url: URL, into folder: URL, maxBytes: Int64, ffmpeg: FFmpeg, inspect: @escaping @Sendable (Item) throws -> Void,
        progress: @escaping @Sendable (Int64, Int64?) -> Void
    ) async throws -> (file: URL, item: Item?) {
        let (lines, continuation) = AsyncStream.makeStream(of: String.self)
        let arguments = Self.arguments(url: url, folder: folder, maxBytes: maxBytes, ffmpeg: ffmpeg)
        let executable = self.executable
        return try await withThrowingTaskGroup(of: ProcessOutput.self) { group in
            group.addTask {
                defer { continuation.finish() }
                return try await ProcessRunner.run(executable, arguments, timeout: .seconds(1800)) { continuation.yield($0) }
            }
            var item: Item?
            var path: String?
            var tooLarge = false
            var size: Int64?
            // Throwing here cancels the group, which terminates yt-dlp.
            for await line in lines {
                if line.hasPrefix(Self.itemMarker) {
                    let found = Item((try? JSON.parse(String(line.dropFirst(Self.itemMarker.count)), source: "yt-dlp")) ?? .null)
                    item = found
                    if found.isLive { throw Failure.liveStream }
                    try inspect(found)
                } else if line.hasPrefix(Self.progressMarker) {
                    let fields = line.dropFirst(Self.progressMarker.count).split(separator: " ").map { Int64($0) }
                    if let received = fields.first ?? nil {
                        progress(received, fields.dropFirst().compactMap { $0 }.first)
                    }
                } else if line.hasPrefix(Self.fileMarker) {
                    path = String(line.dropFirst(Self.fileMarker.count))
                } else if let range = line.range(of: "larger than max-filesize (") {
                    tooLarge = true
                    size = line[range.upperBound...].split(separator: " ").first.flatMap { Int64($0) }
                }
            }
            let output: ProcessOutput
            do {
                output = try await group.next()!
            } catch MediaError.notInstalled(_) {
                throw Failure.notInstalled
            }
            guard output.status == 0 else {
                throw Self.classify(Self.errorLine(output.standardError) ?? "yt-dlp exited with status \(output.status)")
            }
            guard let path else {
                throw tooLarge ? Failure.tooLarge(size) : Failure.failed("yt-dlp finished without writing a file")
            }
            return (try Self.checked(path, in: folder), item)
        }
    }

    static let itemMarker = "farm-item "
    static let progressMarker = "farm-progress "
    static let fileMarker = "farm-file "

    /// The whole command line after the program name.
    static func arguments(url: URL, folder: URL, maxBytes: Int64, ffmpeg: FFmpeg) -> [String] {
        var arguments = [
            // Nothing from the user's setup, and nothing run besides ffmpeg.
            "--ignore-config", "--no-plugin-dirs", "--no-cache-dir", "--no-cookies", "--no-cookies-from-browser", "--no-exec",
            // One item, within the size cap; short network timeouts.
            "--no-playlist", "--playlist-items", "1", "--max-filesize", String(maxBytes), "--socket-timeout", "20", "--retries", "2",
            "--no-warnings", "--no-mtime", "--no-part", "--force-overwrites", "--restrict-filenames",
            // The audio as WAV, inside `folder`, named by the item's id.
            "-x", "--audio-format", "wav", "-P", folder.path, "-o", "%(id)s.%(ext)s",
            // Marked lines on standard output: the item before the download, progress, the final path.
            "--no-simulate", "--no-quiet",
            "--print", "video:\(itemMarker)%(.{id,title,duration,live_status,playlist_count})j",
            "--progress", "--newline",
            "--progress-template", "download:\(progressMarker)%(progress.downloaded_bytes)s %(progress.total_bytes,progress.total_bytes_estimate)s",
            "--print", "after_move:\(fileMarker)%(filepath)s",
        ]
        if ffmpeg.ffmpegPath.contains("/") { arguments += ["--ffmpeg-location", ffmpeg.ffmpegPath] }
        return arguments + ["--", url.absoluteString]
    }

    /// The last `ERROR:` line yt-dlp wrote, else its last line; nil when it wrote nothing.
    static func errorLine(_ standardError: String) -> String? {
        let lines = standardError.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let line = lines.last { $0.hasPrefix("ERROR:") } ?? lines.last
        return line.map { $0.count > 400 ? String($0.prefix(400)) + "…" : $0 }
    }

    /// Sorts a failure by what its `ERROR:` line says.
    static func classify(_ line: String) -> Failure {
        let text = line.lowercased()
        if text.contains("private video") { return .privateVideo(line) }
        if ["live event will begin", "premieres in", "this live stream", "is live now"].contains(where: text.contains) { return .liveStream }
        if ["video unavailable", "video is unavailable", "video is not available", "has been removed", "no longer available"]
            .contains(where: text.contains)
        {
            return .unavailable(line)
        }
        if text.contains("unsupported url") { return .unsupported(line) }
        return .failed(line)
    }

    private static func lastLine(_ text: String) -> String? {
        text.split(whereSeparator: \.isNewline).last.map(String.init)
    }

    /// The file yt-dlp reported, which must be a regular file inside `folder`.
    private static func checked(_ path: String, in folder: URL) throws -> URL {
        let root = folder.standardizedFileURL.resolvingSymlinksInPath().path + "/"
        let file = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath()
        var isFolder: ObjCBool = false
        guard file.path.hasPrefix(root), FileManager.default.fileExists(atPath: file.path, isDirectory: &isFolder), !isFolder.boolValue else {
            throw Failure.failed("yt-dlp reported a file that is not in its folder: \(path)")
        }
        return file
    }
}
