import FarmKit
import Foundation

/// Fetches a song link before the render starts (or a voice recording's link before a training)
/// and keeps it in the store.
///
/// A direct link is downloaded with the HTTP client (streamed to a scratch file, size cap, at most
/// five redirects); when the bytes turn out to be a web page, yt-dlp looks for the media on it.
/// YouTube links go to yt-dlp directly. What arrives is checked like a local file — the content
/// decides, not the extension or `Content-Type` — and only then kept. A link fetched within the
/// freshness window is not fetched again unless `refresh` is set.
struct SongLinkFetch {
    let song: SongRequest
    let link: URL
    let context: PreflightContext

    /// What a fetch delivered, before it is checked.
    private struct Fetched {
        let file: URL
        /// The title the source named (yt-dlp's), if any.
        let title: String?
        /// The file's name as the server gave it, for a title when the file has no tag.
        let fileName: String
        /// `http` or `yt-dlp`.
        let via: String
        let finalURL: URL
    }

    /// The link as messages show it.
    private var shown: String { SongOrigin.shown(link.absoluteString) }
    private var inspection: SongInspection { SongInspection(song: song, noun: "\(song.wording.thing) link", name: shown) }

    func prepare() async throws -> Preparation {
        let key = link.absoluteString
        if !context.refresh, let kept = try await context.fetchedSource(key, maxAge: song.freshSeconds) {
            // The cap and the clip may differ from last time.
            _ = try await inspection.inspect(kept.artifact.path, tools: context.ffmpeg)
            context.note("using the copy of \(shown) fetched \(Self.age(since: kept.fetchedAt)) ago (--refresh fetches it again)")
            return Preparation(artifacts: ["song": kept.artifact], facts: kept.facts.filter { $0.key == "title" })
        }
        return try await context.withScratchFolder { folder in
            let fetched = SongOrigin.isVideoSite(link) ? try await viaYTDLP(into: folder) : try await direct(into: folder)
            let info = try await inspection.inspect(fetched.file, tools: context.ffmpeg)
            let title = fetched.title ?? SongInspection.title(info, fallback: fetched.fileName)
            let kept = try await context.keepFetchedSource(
                key, file: fetched.file, kind: info.video == nil ? .audio : .video,
                facts: ["title": .string(title), "via": .string(fetched.via), "url": .string(URLRedaction.redact(fetched.finalURL))])
            return Preparation(artifacts: ["song": kept.artifact], facts: ["title": .string(title)])
        }
    }

    // MARK: Direct links

    private func direct(into folder: URL) async throws -> Fetched {
        let file = folder.appendingPathComponent("download")
        var request = HTTPRequest(url: link, timeout: .seconds(1800))
        request.maxRedirects = 5
        let context = self.context
        let response: HTTPResponse
        do {
            response = try await context.http.download(request, to: file, maxBytes: song.maxBytes) { received, total in
                context.progress(received: received, total: total)
            }
        } catch let error as HTTPError {
            throw failure(error)
        }
        if try await Self.isWebPage(file) {
            return try await viaYTDLP(into: folder)
        }
        return Fetched(file: file, title: nil, fileName: Self.fileName(response) ?? link.host ?? song.wording.thing, via: "http", finalURL: response.url)
    }

    /// Whether the file starts like an HTML document.
    private static func isWebPage(_ file: URL) async throws -> Bool {
        let head = try await BlockingIO.run {
            let handle = try FileHandle(forReadingFrom: file)
            defer { try? handle.close() }
            return try handle.read(upToCount: 2048) ?? Data()
        }
        let text = String(decoding: head, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines.union(["\u{FEFF}"])).lowercased()
        return text.hasPrefix("<") && ["<!doctype html", "<html", "<head", "<body", "<title", "<meta", "<video", "<audio"].contains(where: text.contains)
    }

    /// The file name the server gave (`Content-Disposition`), else the last part of the final URL,
    /// without its extension.
    private static func fileName(_ response: HTTPResponse) -> String? {
        var name: String?
        if let disposition = response.header("content-disposition") {
            for part in disposition.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                if part.lowercased().hasPrefix("filename*="), let encoded = part.split(separator: "'", maxSplits: 2).last {
                    name = String(encoded).removingPercentEncoding
                } else if part.lowercased().hasPrefix("filename="), name == nil {
                    name = part.dropFirst("filename=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                }
            }
        }
        let path = URL(fileURLWithPath: name ?? response.url.lastPathComponent)
        let stem = path.deletingPathExtension().lastPathComponent
        return stem.isEmpty || stem == "/" ? nil : stem
    }

    private func failure(_ error: HTTPError) -> StageFailure {
        switch error {
        case .status(let code, _, _):
            let meaning = [401: " (unauthorized)", 403: " (forbidden)", 404: " (not found)", 410: " (gone)"][code] ?? ""
            guard code < 500 else {
                return StageFailure("\(song.wording.thing) link answered HTTP \(code): \(shown)", hint: "the server has a problem; try again later")
            }
            return song.bad(
                "\(song.wording.thing) link answered HTTP \(code)\(meaning): \(shown)",
                hint: code == 401 || code == 403
                    ? "farm sends no cookies or credentials: download the \(song.wording.thing) yourself and pass the file with \(song.wording.option) FILE"
                    : "check the link: open it in a browser")
        case .tooLarge:
            return tooLarge(size: nil)
        case .connectFailed(_, let detail):
            return song.bad("cannot reach the \(song.wording.thing) link: \(shown) (\(detail))", hint: "check the host name and port in the link, and the network connection")
        case .tls(_, let detail):
            return song.bad("TLS failed for the \(song.wording.thing) link: \(shown) (\(detail))", hint: error.hint ?? "check the link")
        case .invalidResponse(_, let detail), .invalidRequest(_, let detail):
            return song.bad("\(song.wording.thing) link cannot be fetched: \(shown) (\(detail))", hint: "check the link: open it in a browser")
        case .redirectRefused:
            return song.bad("\(song.wording.thing) link cannot be fetched: \(error.message)", hint: error.hint ?? "check the link")
        case .sendFailed, .timedOut, .file, .retriesExhausted:
            return StageFailure("fetching the \(song.wording.thing) failed: \(error.message)", hint: error.hint ?? "try again")
        }
    }

    private func tooLarge(size: Int64?) -> StageFailure {
        let cap = Self.bytes(song.maxBytes)
        return song.bad(
            "\(song.wording.thing) link is larger than the size cap of \(cap)" + (size.map { " (\(Self.bytes($0)))" } ?? "") + ": \(shown)",
            hint: "raise the cap with --set \(song.wording.stage).max_bytes=N (bytes), or link a smaller file")
    }

    // MARK: yt-dlp

    private func viaYTDLP(into folder: URL) async throws -> Fetched {
        let ytdlp = YTDLP()
        let output = folder.appendingPathComponent("yt-dlp", isDirectory: true)
        try await BlockingIO.run { try FileManager.default.createDirectory(at: output, withIntermediateDirectories: false) }
        let (song, shown, context) = (self.song, self.shown, self.context)
        let result: (file: URL, item: YTDLP.Item?)
        do {
            result = try await ytdlp.fetch(
                link, into: output, maxBytes: song.maxBytes, ffmpeg: context.ffmpeg,
                inspect: { item in
                    if let duration = item.duration { try song.checkRange(duration: duration, name: shown) }
                },
                progress: { received, total in context.progress(received: received, total: total) })
        } catch let failure as YTDLP.Failure {
            throw self.failure(failure, ytdlp: ytdlp)
        }
        let title = result.item.flatMap(Self.title)
        if let count = result.item?.playlistCount, count > 1 {
            context.note("the link holds \(count) items (a playlist, or a page with several): only the first, \"\(title ?? "?")\", is rendered")
        } else if URLComponents(url: link, resolvingAgainstBaseURL: false)?.queryItems?.contains(where: { $0.name == "list" }) == true {
            context.note("the link is part of a playlist: only the video it names is rendered")
        }
        return Fetched(
            file: result.file, title: title, fileName: result.item?.id ?? result.file.deletingPathExtension().lastPathComponent,
            via: "yt-dlp", finalURL: link)
    }

    /// yt-dlp's title, without the ` (2)` it adds to the second medium of a page (id `page-2`).
    private static func title(_ item: YTDLP.Item) -> String? {
        guard var title = item.title?.trimmingCharacters(in: .whitespacesAndNewlines), !title.isEmpty else { return nil }
        if let number = item.id.split(separator: "-").last, Int(number) != nil, title.hasSuffix(" (\(number))") {
            title = String(title.dropLast(number.count + 3))
        }
        return title
    }

    private func failure(_ failure: YTDLP.Failure, ytdlp: YTDLP) -> StageFailure {
        switch failure {
        case .notInstalled:
            let configured = ytdlp.executable == "yt-dlp" ? "" : " (FARM_YT_DLP is \(ytdlp.executable))"
            return song.bad("yt-dlp is not installed\(configured); farm needs it for web pages and video sites: \(shown)", hint: YTDLP.installHint)
        case .privateVideo:
            return song.bad(
                "the video is private: \(shown)",
                hint: "only people its owner invited can watch it: use a public or unlisted video, or download it yourself and pass the file")
        case .unavailable(let line):
            return song.bad(
                "the video is not available: \(shown) (\(Self.detail(line)))",
                hint: "check the link in a browser: the video may be removed, or blocked in this region or by age")
        case .unsupported:
            return song.bad(
                "no audio or video found at the \(song.wording.thing) link: \(shown)",
                hint: "link to an audio or video file, a page with an <audio> or <video> element, or a site yt-dlp supports")
        case .liveStream:
            return song.bad("the \(song.wording.thing) link is a live stream: \(shown)", hint: "farm takes recordings: wait until the stream has ended and its recording is up")
        case .tooLarge(let size):
            return tooLarge(size: size)
        case .failed(let line):
            return song.bad(
                "yt-dlp failed on \(shown): \(line)",
                hint: "check the link in a browser; if it plays there, update yt-dlp or download the \(song.wording.thing) yourself and pass the file")
        }
    }

    /// An `ERROR: [site] id: what happened` line's last part.
    private static func detail(_ line: String) -> String {
        var text = line.hasPrefix("ERROR: ") ? String(line.dropFirst(7)) : line
        if text.hasPrefix("["), let range = text.range(of: ": ", options: [], range: text.index(after: text.startIndex)..<text.endIndex) {
            text = String(text[range.upperBound...])
        }
        return text
    }

    // MARK: Formatting

    private static func bytes(_ count: Int64) -> String {
        count >= 1 << 20 && count % (1 << 20) == 0 ? "\(count >> 20) MiB"
            : count >= 1 << 20 ? String(format: "%.1f MiB", Double(count) / Double(1 << 20))
            : "\(count) bytes"
    }

    /// `40 s`, `3 min`, `5 h`.
    private static func age(since date: Date) -> String {
        let seconds = max(0, Int(Date().timeIntervalSince(date)))
        return seconds < 60 ? "\(seconds) s" : seconds < 3600 ? "\(seconds / 60) min" : "\(seconds / 3600) h"
    }
}
