/// One render as the user asked for it: profile, subject, song, overrides and where to write.
public struct RenderRequest: Sendable {
    public var profile: String
    /// The subject's name; the profile's default subject when nil.
    public var subject: String?
    /// The song: a file path (links come with the fetch provider's later stages).
    public var song: String?
    /// Raw `--set STAGE.PARAM=VALUE` overrides.
    public var settings: [String]
    /// Where to write the result; a folder or file path. Default: `<subject>-<song>.mp4` in the working folder.
    public var output: String?

    public init(profile: String, subject: String? = nil, song: String? = nil, settings: [String] = [], output: String? = nil) {
        self.profile = profile
        self.subject = subject
        self.song = song
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
            settings: json["settings"]?.arrayValue?.compactMap(\.stringValue) ?? [], output: json["output"]?.stringValue)
    }

    /// The request as JSON, kept with the run record so it can be repeated.
    var json: JSON {
        var object = JSONObject()
        object["profile"] = .string(profile)
        object["subject"] = subject.map(JSON.string)
        object["song"] = song.map(JSON.string)
        object["settings"] = .array(settings.map(JSON.string))
        object["output"] = output.map(JSON.string)
        return .object(object)
    }
}
