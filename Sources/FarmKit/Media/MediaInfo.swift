/// What ffprobe says about a media file: its container, first audio and first video stream, and tags.
public struct MediaInfo: Sendable {
    /// The container's duration in seconds, as the file's headers state it (not verified by decoding).
    public let duration: Double?
    /// ffprobe's container name, e.g. `wav`, `mp3`, `mov,mp4,m4a,3gp,3g2,mj2`.
    public let formatName: String
    public let audio: AudioStreamInfo?
    /// The first real video stream; attached pictures (album art) are skipped.
    public let video: VideoStreamInfo?
    /// Container tags with lowercased keys (`title`, `artist`, …), completed by the audio stream's tags.
    public let tags: [String: String]

    /// Reads the output of `ffprobe -print_format json -show_format -show_streams`.
    public init(ffprobe json: JSON) throws {
        guard let format = json["format"]?.objectValue, let formatName = format["format_name"]?.stringValue else {
            throw MediaError.unreadableOutput(tool: "ffprobe", detail: "no format section")
        }
        let streams = json["streams"]?.arrayValue ?? []
        let audioStream = streams.first { $0["codec_type"]?.stringValue == "audio" }
        let videoStream = streams.first {
            $0["codec_type"]?.stringValue == "video" && $0["disposition"]?["attached_pic"]?.intValue != 1
        }
        self.formatName = formatName
        duration = format["duration"].flatMap(Self.number)
        audio = audioStream.map(AudioStreamInfo.init)
        video = videoStream.map(VideoStreamInfo.init)
        var tags = Self.tags(format["tags"])
        tags.merge(Self.tags(audioStream?["tags"])) { container, _ in container }
        self.tags = tags
    }

    private static func tags(_ json: JSON?) -> [String: String] {
        var tags: [String: String] = [:]
        for (key, value) in json?.objectValue ?? JSONObject() {
            if let text = value.stringValue { tags[key.lowercased()] = text }
        }
        return tags
    }

    /// ffprobe writes most numbers as strings ("10.031020"); accepts both.
    static func number(_ json: JSON) -> Double? {
        json.doubleValue ?? json.stringValue.flatMap(Double.init)
    }
}

/// One audio stream.
public struct AudioStreamInfo: Sendable {
    public let codec: String
    public let sampleRate: Int
    public let channels: Int
    /// The stream's duration in seconds, when the container states it.
    public let duration: Double?

    init(_ json: JSON) {
        codec = json["codec_name"]?.stringValue ?? "unknown"
        sampleRate = json["sample_rate"].flatMap(MediaInfo.number).map { Int($0) } ?? 0
        channels = json["channels"]?.intValue ?? 0
        duration = json["duration"].flatMap(MediaInfo.number)
    }
}

/// One video stream.
public struct VideoStreamInfo: Sendable {
    public let codec: String
    public let width: Int
    public let height: Int
    /// Frames per second (average, else the container's base rate); 0 when unknown.
    public let frameRate: Double
    /// The stream's duration in seconds, when the container states it.
    public let duration: Double?
    /// The pixel format, e.g. `yuv420p`.
    public let pixelFormat: String?

    init(_ json: JSON) {
        codec = json["codec_name"]?.stringValue ?? "unknown"
        width = json["width"]?.intValue ?? 0
        height = json["height"]?.intValue ?? 0
        frameRate = Self.rate(json["avg_frame_rate"]) ?? Self.rate(json["r_frame_rate"]) ?? 0
        duration = json["duration"].flatMap(MediaInfo.number)
        pixelFormat = json["pix_fmt"]?.stringValue
    }

    /// "25/1" → 25; "0/0" → nil.
    private static func rate(_ json: JSON?) -> Double? {
        guard let parts = json?.stringValue?.split(separator: "/"), parts.count == 2,
              let numerator = Double(parts[0]), let denominator = Double(parts[1]), numerator > 0, denominator > 0
        else { return nil }
        return numerator / denominator
    }
}
