/// A person farm can render: the trigger word of their image model and the model references.
public struct Subject: Sendable, Hashable, Codable {
    /// The subject's name, used on the command line (`--subject alice`) and as its file name.
    public var name: String
    /// The word the image model was trained to associate with the person (e.g. `TOK`).
    public var trigger: String
    /// The image model: `owner/name:version` of a FLUX LoRA, or a FLUX pro `finetune_id`.
    public var imageModel: String?
    /// A public URL of the RVC v2 voice model zip.
    public var voiceModel: String?
    /// How the voice model's pitch relates to typical singers: `no-change`, `male-to-female`, `female-to-male`.
    public var pitch: String?
    /// The unique name the voice model was trained under (`dataset/<slug>/`, `<slug>.zip`).
    public var slug: String?
    /// SHA-256 of the voice model zip, kept in the store by `farm train`.
    public var voiceZip: String?
    /// When `voiceModel` stops working, if it is a temporary URL (ISO 8601).
    public var voiceModelExpires: String?
    /// How and when each model was trained: `{"at", "profile", "run", "voice": {…}, "image": {…}}`.
    public var training: JSON?

    public init(name: String, trigger: String, imageModel: String? = nil, voiceModel: String? = nil, pitch: String? = nil) {
        self.name = name
        self.trigger = trigger
        self.imageModel = imageModel
        self.voiceModel = voiceModel
        self.pitch = pitch
    }

    /// The built-in subject the offline profile uses when none is given.
    public static let demo = Subject(name: "demo", trigger: "DEMO", pitch: "no-change")

    /// The fields profiles can interpolate as `{{subject.FIELD}}`.
    public var fields: [String: String] {
        var fields = ["name": name, "trigger": trigger]
        fields["image_model"] = imageModel
        fields["voice_model"] = voiceModel
        fields["pitch"] = pitch ?? "no-change"
        return fields
    }

    enum CodingKeys: String, CodingKey {
        case name, trigger, pitch, slug, training
        case imageModel = "image_model"
        case voiceModel = "voice_model"
        case voiceZip = "voice_zip_sha256"
        case voiceModelExpires = "voice_model_expires"
    }
}
