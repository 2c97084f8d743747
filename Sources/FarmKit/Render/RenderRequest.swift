/// One render as the user asked for it: profile, subject, song, overrides and where to write.
public struct RenderRequest: Sendable {
    public var profile: String
    /// The subject's name; the profile's default subject when nil.
    public var subject: String?
    /// The song: a file path or a link, routed by the profile's `song` input.
    public var song: String?
    /// The part of the song to render (`--start`, `--end`, `--clip`), routed by the profile's
    /// `start` and `end` inputs.
    public var clip: SongClip
    /// Fetch linked sources again even when the store holds a fresh copy.
    public var refresh: Bool
    /// Raw `--set STAGE.PARAM=VALUE` overrides.
    public var settings: [String]
    /// Where to write the result; a folder or file path. Default: `<subject>-<song title>.mp4` in the working folder.
    public var output: String?

    public init(
        profile: String, subject: String? = nil, song: String? = nil, clip: SongClip = SongClip(), refresh: Bool = false,
        settings: [String] = [], output: String? = nil
    ) {
        self.profile = profile
        self.subject = subject
        self.song = song
        self.clip = clip
        self.refresh = refresh
        self.settings = settings
        self.output = output
    }

    /// A request read back from a run record (`farm runs resume`).
    public init(json: JSON) throws {
        guard let profile = json["profile"]?.stringValue else {
            throw UsageError("this run's record has no profile, so it cannot be repeated", hint: "start it again with farm render")
        }
        self.init(
            profile: profile, subject: json["subject"]?.stringValue, song: json["song"]?.stringValue,
            clip: SongClip(start: json["start"]?.doubleValue, end: json["end"]?.doubleValue),
            refresh: json["refresh"]?.boolValue ?? false,
            settings: json["settings"]?.arrayValue?.compactMap(\.stringValue) ?? [], output: json["output"]?.stringValue)
    }

    /// The named inputs the profile routes to stage parameters.
    var inputs: [String: JSON] {
        var inputs: [String: JSON] = [:]
        inputs["song"] = song.map(JSON.string)
        inputs["start"] = clip.start.map(JSON.double)
        inputs["end"] = clip.end.map(JSON.double)
        return inputs
    }

    /// The request as JSON, kept with the run record so it can be repeated.
    var json: JSON {
        var object = JSONObject()
        object["profile"] = .string(profile)
        object["subject"] = subject.map(JSON.string)
        object["song"] = song.map(JSON.string)
        object["start"] = clip.start.map(JSON.double)
        object["end"] = clip.end.map(JSON.double)
        object["refresh"] = refresh ? .bool(true) : nil
        object["settings"] = .array(settings.map(JSON.string))
        object["output"] = output.map(JSON.string)
        return .object(object)
    }
}
