import FarmKit
import Foundation

/// Links to voice recordings for a training (`farm train --voice URL`), fetched by the same
/// machinery as song links: a direct file, a web page with one, or a YouTube or other video-site
/// link through yt-dlp with its safe flags. What arrives is checked like a song (audio that
/// decodes to the end, within the caps) and kept in the store's fetched-sources cache, so a second
/// training with the same link fetches nothing.
public enum RecordingLink {
    /// Whether `source` is a link rather than a local path. Anything that looks like a URL counts
    /// (so an unsupported scheme is refused by `fetch` with a clear error); an existing file whose
    /// name merely starts like one does not.
    public static func isLink(_ source: String) -> Bool {
        guard case .file = try? SongOrigin(source, wording: .voice) else { return true }
        return false
    }

    /// Whether `source` is a link to a video site that yt-dlp fetches (YouTube).
    public static func isVideoSite(_ source: String) -> Bool {
        guard case .link(let url) = try? SongOrigin(source, wording: .voice) else { return false }
        return SongOrigin.isVideoSite(url)
    }

    /// `source` as messages show it: without credentials or secret-looking query values.
    public static func shown(_ source: String) -> String { SongOrigin.shown(source) }

    /// Fetches the recording `source` links to (or takes it from the fetched-sources cache when it
    /// was fetched within `freshHours`) and returns it as an artifact in the store. Problems with
    /// the link or what it serves are bad-input `StageFailure`s that name the link.
    public static func fetch(
        _ source: String, maxSeconds: Double, maxBytes: Int64, freshHours: Double, in context: PreflightContext
    ) async throws -> Artifact {
        let recording = try SongRequest(
            ["source": .string(source), "max_seconds": .double(maxSeconds), "max_bytes": .integer(maxBytes), "fresh_hours": .double(freshHours)],
            wording: .voice)
        guard case .link(let link) = recording.origin else {
            throw StageFailure("not a link: \(shown(source))", hint: "give an http(s) link to --voice, or the recording's path")
        }
        let prepared = try await SongLinkFetch(song: recording, link: link, context: context).prepare()
        guard let artifact = prepared.artifacts["song"] else {
            throw StageFailure("fetching \(shown(source)) gave no file", hint: "try again")
        }
        return artifact
    }
}
