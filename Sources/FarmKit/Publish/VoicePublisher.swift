import Foundation

/// `farm subjects publish`: puts a trained subject's voice zip (kept in the store) into the bucket
/// and records its public URL in the subject file.
public struct VoicePublisher: Sendable {
    public let home: URL
    public let bucket: S3Bucket

    public init(home: URL, bucket: S3Bucket) {
        self.home = home
        self.bucket = bucket
    }

    /// Publishes the voice of subject `name`; returns the updated subject.
    public func publish(subject name: String, http: HTTPClient = HTTPClient()) async throws -> Subject {
        let catalog = SubjectCatalog(home: home)
        var subject = try catalog.subject(named: name)
        guard let digest = subject.voiceZip, let slug = subject.slug else {
            throw SubjectError("subject \(name) has no voice model zip recorded (it was not trained by farm train)",
                               hint: "host the zip yourself and record its URL: farm subjects add \(name) --force --voice URL …")
        }
        guard let zip = try await Store(home: home).artifact(digest: digest) else {
            throw SubjectError("the voice model zip of \(name) is no longer in the store (\(digest.prefix(12)))",
                               hint: "train the subject again (farm train … --force); stages still cached cost nothing")
        }
        let url = try await bucket.put(zip.path, sha256: digest, key: bucket.key("\(slug).zip"), http: http)
        try await bucket.checkPublic(url, http: http)
        subject.voiceModel = url.absoluteString
        subject.voiceModelExpires = nil
        try catalog.save(subject, replacing: true)
        return subject
    }
}
