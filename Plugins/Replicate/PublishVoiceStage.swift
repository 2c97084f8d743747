import FarmKit
import Foundation

/// `replicate.publish-voice`: puts the voice model zip where `zsxkib/realistic-voice-cloning` can
/// fetch it: a public object `<prefix><name>.zip` in the S3-compatible bucket the environment
/// configures (see `S3Bucket`), checked to be publicly readable. Without a bucket it does nothing
/// and the subject keeps the trainer's temporary URL (`farm subjects publish NAME` later).
struct PublishVoiceStage: RenderStage {
    let id = StageID("replicate.publish-voice", version: 1)
    let summary = "publish the voice model zip as a public object <name>.zip in the configured S3-compatible bucket"
    let inputs = [FarmKit.Port("voice_model", .archive, "the RVC voice model zip")]
    let outputs: [FarmKit.Port] = []
    let parameters = [ParamSpec("name", .string, required: true, "the object's file name without .zip: the voice's unique slug")]
    let isDeterministic = false

    /// The bucket is part of the key: configuring one later publishes on the next run.
    func cacheIdentity(_ request: StageRequest, digest: @Sendable (URL) async throws -> String) async throws -> JSON? {
        ["bucket": .string(try S3Bucket.fromEnvironment()?.identity ?? "none")]
    }

    func preflight(_ parameters: [String: JSON], in context: PreflightContext) async throws -> Preparation {
        _ = try S3Bucket.fromEnvironment()
        return .none
    }

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        let zip = try request.input("voice_model")
        let name = (request.string("name") ?? "") + ".zip"
        guard let bucket = try S3Bucket.fromEnvironment() else {
            context.log("no bucket configured (FARM_S3_BUCKET): the voice model keeps its temporary URL")
            return StageResult(outputs: [:], metadata: ["published": .null])
        }
        let http = HTTPClient()
        context.progress(nil, "uploading \(name) to \(bucket.bucket)")
        let url = try await bucket.put(zip.path, sha256: zip.digest, key: bucket.key(name), http: http)
        try await bucket.checkPublic(url, http: http)
        context.log("published the voice model at \(url.absoluteString)")
        return StageResult(outputs: [:], metadata: ["published": .string(url.absoluteString), "subject": ["voice_model": .string(url.absoluteString)]])
    }
}
