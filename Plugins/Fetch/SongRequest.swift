import FarmKit
import Foundation

/// The `fetch.song` parameters, read and resolved: where the song comes from, which part of it,
/// and the caps.
struct SongRequest {
    /// The source as the user gave it.
    let source: String
    let origin: SongOrigin
    let maxSeconds: Double
    let start: Double?
    let end: Double?
    /// The size cap for downloads.
    let maxBytes: Int64
    /// How long a link's download is reused without fetching it again.
    let freshSeconds: TimeInterval
    /// How messages name what is fetched.
    let wording: Wording

    /// How messages name the media and where the user changes things: a song for a render, a
    /// voice recording for a training.
    struct Wording: Equatable {
        /// `song`, `voice recording`.
        let thing: String
        /// The command-line option that gives it: `--song`, `--voice`.
        let option: String
        /// The profile stage whose parameters cap it: `song`, `dataset`.
        let stage: String

        static let song = Wording(thing: "song", option: "--song", stage: "song")
        static let voice = Wording(thing: "voice recording", option: "--voice", stage: "dataset")
    }

    init(_ parameters: [String: JSON], wording: Wording = .song) throws {
        self.wording = wording
        guard let source = parameters["source"]?.stringValue, !source.isEmpty else {
            throw StageFailure("no \(wording.thing) given", hint: "pass an audio or video file or a link with \(wording.option)", isBadInput: true)
        }
        self.source = source
        origin = try SongOrigin(source, wording: wording)
        maxSeconds = parameters["max_seconds"]?.doubleValue ?? 600
        start = parameters["start"]?.doubleValue
        end = parameters["end"]?.doubleValue
        maxBytes = parameters["max_bytes"]?.intValue.map(Int64.init) ?? Self.defaultMaxBytes
        freshSeconds = (parameters["fresh_hours"]?.doubleValue ?? Self.defaultFreshHours) * 3600
    }

    static let defaultMaxBytes: Int64 = 200 << 20
    static let defaultFreshHours = 24.0

    /// How many seconds of the song to keep.
    var keptSeconds: Double {
        end.map { $0 - (start ?? 0) } ?? maxSeconds
    }

    /// Checks start, end and the length cap against a song `duration` seconds long; `name` is the
    /// song's path or link, for messages.
    func checkRange(duration: Double, name: String) throws {
        let within = "choose --start and --end (or --clip START-END) within 0…\(duration.formattedSeconds) s"
        if let start, start < 0 || start >= duration {
            throw bad("start (\(start.formattedSeconds) s) is outside the song, which is \(duration.clock) long: \(name)", hint: within)
        }
        if let end, end <= 0 || end > duration + 0.05 {
            throw bad("end (\(end.formattedSeconds) s) is outside the song, which is \(duration.clock) long: \(name)", hint: within)
        }
        if let end, end <= start ?? 0 {
            throw bad("end (\(end.formattedSeconds) s) must come after start (\((start ?? 0).formattedSeconds) s): \(name)", hint: within)
        }
        let length = (end ?? duration) - (start ?? 0)
        guard length <= maxSeconds else {
            guard wording.stage == Wording.song.stage else {
                throw bad(
                    "\(wording.thing) is \(length.clock) long, over the \(maxSeconds.clock) cap (max_seconds \(maxSeconds.formattedSeconds)): \(name)",
                    hint: "raise the cap with --set \(wording.stage).max_seconds=\(Int(length.rounded(.up))), or give a shorter recording")
            }
            let what = start == nil && end == nil ? "song is" : "chosen part of the song is"
            throw bad(
                "\(what) \(length.clock) long, over the \(maxSeconds.clock) cap (max_seconds \(maxSeconds.formattedSeconds)): \(name)",
                hint: "raise the cap with --set song.max_seconds=\(Int(length.rounded(.up))) or render a part with --start/--end (or --clip 0:30-1:45)")
        }
    }

    func bad(_ message: String, hint: String) -> StageFailure {
        StageFailure(message, hint: hint, isBadInput: true)
    }
}
