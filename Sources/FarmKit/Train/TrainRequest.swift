/// One training as the user asked for it: a subject's name and trigger word, voice recordings and
/// photos, a training profile and overrides.
public struct TrainRequest: Sendable {
    public var profile: String
    /// The new subject's name.
    public var subject: String
    /// The image model's trigger word; defaults to the name in capitals.
    public var trigger: String?
    /// Voice recordings: files or folders (absolute or relative to the working folder).
    public var voice: [String]
    /// A folder or zip of photos.
    public var photos: String?
    /// Raw `--set STAGE.PARAM=VALUE` overrides.
    public var settings: [String]
    /// The voice model's pitch relation, recorded in the subject (`no-change`, …).
    public var pitch: String?
    /// A public URL where the user hosts the voice zip themselves; replaces any other voice URL.
    public var voiceURL: String?
    /// Replace a subject of the same name.
    public var force: Bool
    /// The unique dataset name, fixed when the training is first started (kept for resume).
    public var slug: String?

    public init(profile: String, subject: String, trigger: String? = nil, voice: [String] = [], photos: String? = nil,
                settings: [String] = [], pitch: String? = nil, voiceURL: String? = nil, force: Bool = false) {
        self.profile = profile
        self.subject = subject
        self.trigger = trigger
        self.voice = voice
        self.photos = photos
        self.settings = settings
        self.pitch = pitch
        self.voiceURL = voiceURL
        self.force = force
    }

    /// The trigger word used: the one given, or the name's letters and digits in capitals.
    public var triggerWord: String {
        trigger ?? String(subject.uppercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) })
    }

    /// A request read back from a run record (`farm runs resume`).
    public init(json: JSON) throws {
        guard let profile = json["profile"]?.stringValue, let subject = json["subject"]?.stringValue else {
            throw UsageError("this training's record has no profile or subject, so it cannot be repeated", hint: "start it again with farm train")
        }
        self.init(
            profile: profile, subject: subject, trigger: json["trigger"]?.stringValue,
            voice: json["voice"]?.arrayValue?.compactMap(\.stringValue) ?? [], photos: json["photos"]?.stringValue,
            settings: json["settings"]?.arrayValue?.compactMap(\.stringValue) ?? [], pitch: json["pitch"]?.stringValue,
            voiceURL: json["voice_url"]?.stringValue, force: json["force"]?.boolValue ?? false)
        slug = json["slug"]?.stringValue
    }

    /// Whether a run record holds a training (rather than a render).
    public static func isTraining(_ json: JSON) -> Bool { json["kind"]?.stringValue == "train" }

    /// The request as JSON, kept with the run record so it can be resumed.
    var json: JSON {
        var object = JSONObject()
        object["kind"] = "train"
        object["profile"] = .string(profile)
        object["subject"] = .string(subject)
        object["trigger"] = trigger.map(JSON.string)
        object["voice"] = .array(voice.map(JSON.string))
        object["photos"] = photos.map(JSON.string)
        object["settings"] = .array(settings.map(JSON.string))
        object["pitch"] = pitch.map(JSON.string)
        object["voice_url"] = voiceURL.map(JSON.string)
        object["force"] = .bool(force)
        object["slug"] = slug.map(JSON.string)
        return .object(object)
    }
}
