import FarmKit
import Foundation

/// Where a song comes from, as `--song` names it: a local file or an http(s) link.
///
/// Anything else that looks like a URL is refused before any work: other schemes (`file://`,
/// `ftp://`, `javascript:`), and links with a user name or password in them, which farm never
/// sends and never shows.
enum SongOrigin: Equatable {
    case file(URL)
    case link(URL)

    init(_ source: String, wording: SongRequest.Wording = .song) throws(StageFailure) {
        let text = source.trimmingCharacters(in: .whitespacesAndNewlines)
        let exists = FileManager.default.fileExists(atPath: NSString(string: source).expandingTildeInPath)
        if let scheme = Self.scheme(of: text), text.dropFirst(scheme.count + 1).hasPrefix("//") || !exists {
            self = .link(try Self.link(text, scheme: scheme.lowercased(), wording: wording))
        } else if text.lowercased().hasPrefix("www."), !exists {
            throw StageFailure(
                "\(wording.thing) link without http:// or https://: \(Self.shown(text))", hint: "write the link in full: https://\(Self.shown(text))",
                isBadInput: true)
        } else {
            self = .file(URL(fileURLWithPath: NSString(string: source).expandingTildeInPath).standardizedFileURL)
        }
    }

    /// A link as messages show it: without credentials or secret-looking query values.
    static func shown(_ text: String) -> String {
        let redacted = URLRedaction.redact(text)
        if redacted != "<unparseable URL>" { return redacted }
        return scheme(of: text).map { "\($0):…" } ?? "<unparseable link>"
    }

    /// Whether the link's host is a video site that is always fetched with yt-dlp.
    static func isVideoSite(_ url: URL) -> Bool {
        guard let host = url.host?.lowercased() else { return false }
        return ["youtube.com", "youtu.be", "youtube-nocookie.com"].contains { host == $0 || host.hasSuffix("." + $0) }
    }

    private static func link(_ text: String, scheme: String, wording: SongRequest.Wording) throws(StageFailure) -> URL {
        let shown = shown(text)
        switch scheme {
        case "http", "https":
            guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty, let url = components.url else {
                throw StageFailure("\(wording.thing) link is not a valid URL: \(shown)", hint: "check the link; copy it again from the browser's address bar", isBadInput: true)
            }
            guard components.user == nil, components.password == nil else {
                throw StageFailure(
                    "\(wording.thing) link has a user name or password in it, which farm does not send: \(shown)",
                    hint: "download the \(wording.thing) yourself and pass the file with \(wording.option) FILE", isBadInput: true)
            }
            return url
        case "file":
            throw StageFailure("file:// links are not accepted: \(shown)", hint: "pass the file's path instead: \(wording.option) /path/to/\(wording == .song ? "song.mp3" : "voice.wav")", isBadInput: true)
        default:
            throw StageFailure(
                "unsupported link scheme \"\(scheme):\" in \(shown)",
                hint: "give a local file or an http(s) link: to an audio or video file, a page with one, or a YouTube video", isBadInput: true)
        }
    }

    /// The scheme of `text` when it starts like a URL (`https:`, `javascript:`).
    private static func scheme(of text: String) -> String? {
        guard let colon = text.firstIndex(of: ":"), colon > text.startIndex else { return nil }
        let scheme = text[..<colon]
        guard scheme.first!.isASCII, scheme.first!.isLetter,
              scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+.-".contains($0)) })
        else { return nil }
        return String(scheme)
    }
}
