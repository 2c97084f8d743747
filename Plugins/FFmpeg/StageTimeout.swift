import FarmKit

/// The `timeout_seconds` parameter every ffmpeg stage takes.
enum StageTimeout {
    static let parameter = ParamSpec(
        "timeout_seconds", .number, default: 600, range: 1...86_400, "stop ffmpeg after this many seconds")

    /// The request's timeout, or the default.
    static func duration(_ request: StageRequest) -> Duration {
        .milliseconds(Int64((request.double(parameter.name) ?? 600) * 1000))
    }
}
